package manager

import (
	"context"

	"github.com/moby/moby/client"
)

// Networks lists the names of the engine's networks.
func (m *Manager) Networks(ctx context.Context) ([]string, error) {
	res, err := m.api.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, m.wrapIn("list networks", err)
	}
	names := make([]string, 0, len(res.Items))
	for _, n := range res.Items {
		names = append(names, n.Name)
	}
	return names, nil
}
