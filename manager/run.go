package manager

import (
	"context"
	"fmt"
	"io"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
)

// RunSpec is everything needed to create a container: what `docker run`
// flags turn into.
type RunSpec struct {
	Name    string
	Config  *container.Config
	Host    *container.HostConfig
	Network *network.NetworkingConfig
}

// Run creates and starts a container, pulling its image first when the
// engine does not have it, with the pull's progress written to progress as
// docker shows it. It returns the new container's ID. A container that was
// created but failed to start is left in place, as docker does, and its ID
// is returned with the error.
func (m *Manager) Run(ctx context.Context, spec RunSpec, progress io.Writer) (string, error) {
	opts := client.ContainerCreateOptions{
		Name:             spec.Name,
		Config:           spec.Config,
		HostConfig:       spec.Host,
		NetworkingConfig: spec.Network,
	}
	res, err := m.api.ContainerCreate(ctx, opts)
	if err != nil && IsNotFound(err) && spec.Config != nil && m.imageMissing(ctx, spec.Config.Image) {
		if perr := m.Pull(ctx, spec.Config.Image, progress); perr != nil {
			return "", perr
		}
		res, err = m.api.ContainerCreate(ctx, opts)
	}
	if err != nil {
		return "", m.wrapIn("create container", err)
	}
	if err := m.Start(ctx, res.ID); err != nil {
		return res.ID, fmt.Errorf("start: %w", err) // Start has wrapped it
	}
	return res.ID, nil
}

// Pull fetches an image from its registry, writing its progress to progress
// (nil: nowhere): one line per layer, redrawn in place when progress is a
// terminal, status changes only otherwise. An error the registry reports
// mid-stream is returned naming the image.
func (m *Manager) Pull(ctx context.Context, ref string, progress io.Writer) error {
	resp, err := m.api.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		return m.wrapIn("pull "+ref, err)
	}
	defer resp.Close()
	if progress == nil {
		progress = io.Discard
	}
	if err := jsonmessage.DisplayMessages(resp.JSONMessages(ctx), progress); err != nil {
		return m.wrapIn("pull "+ref, err)
	}
	return nil
}

// imageMissing reports whether the engine lacks the image ref, so that a
// "not found" from create is taken for a missing image only when it is one,
// and not for, say, a missing volume driver.
func (m *Manager) imageMissing(ctx context.Context, ref string) bool {
	_, err := m.api.ImageInspect(ctx, ref)
	return IsNotFound(err)
}
