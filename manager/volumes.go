package manager

import (
	"context"
	"encoding/json"

	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
)

// InspectVolume returns the engine's full JSON description of a volume,
// and its decoded form.
func (m *Manager) InspectVolume(ctx context.Context, name string) (volume.Volume, json.RawMessage, error) {
	res, err := m.api.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
	if err != nil {
		return volume.Volume{}, nil, m.wrap(err)
	}
	return res.Volume, res.Raw, nil
}

// Volumes lists the names of the engine's volumes.
func (m *Manager) Volumes(ctx context.Context) ([]string, error) {
	res, err := m.api.VolumeList(ctx, client.VolumeListOptions{})
	if err != nil {
		return nil, m.wrapIn("list volumes", err)
	}
	names := make([]string, 0, len(res.Items))
	for _, v := range res.Items {
		names = append(names, v.Name)
	}
	return names, nil
}
