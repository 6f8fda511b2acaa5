package manager

import (
	"context"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// CreateOptions is a full create request, as enforce mode rebuilds one
// from a saved container: every field the engine takes, not run's subset.
type CreateOptions struct {
	Name       string
	Config     *container.Config
	Host       *container.HostConfig
	Networking *network.NetworkingConfig
}

// Create creates a container (without pulling: the image must be there)
// and returns its ID.
func (m *Manager) Create(ctx context.Context, o CreateOptions) (string, error) {
	res, err := m.api.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: o.Name, Config: o.Config, HostConfig: o.Host, NetworkingConfig: o.Networking,
	})
	if err != nil {
		return "", m.wrapIn("create container", err)
	}
	return res.ID, nil
}

// Connect attaches a container to a further network with its settings
// (aliases, a fixed address).
func (m *Manager) Connect(ctx context.Context, networkName, id string, ep *network.EndpointSettings) error {
	_, err := m.api.NetworkConnect(ctx, networkName, client.NetworkConnectOptions{Container: id, EndpointConfig: ep})
	return m.wrapIn("connect to network "+networkName, err)
}

// Unpause resumes a paused container.
func (m *Manager) Unpause(ctx context.Context, id string) error {
	_, err := m.api.ContainerUnpause(ctx, id, client.ContainerUnpauseOptions{})
	return m.wrap(err)
}
