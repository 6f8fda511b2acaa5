package manager

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"
)

// Volumes lists the names of the engine's volumes.
func (m *Manager) Volumes(ctx context.Context) ([]string, error) {
	res, err := m.api.VolumeList(ctx, client.VolumeListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", m.wrap(err))
	}
	names := make([]string, 0, len(res.Items))
	for _, v := range res.Items {
		names = append(names, v.Name)
	}
	return names, nil
}
