package manager

import (
	"context"
	"errors"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client"
)

// fakeAPI is an engineAPI made of function fields, for tests of the
// manager's own logic. A call whose field is nil fails the way an
// unreachable engine would.
type fakeAPI struct {
	list    func(client.ContainerListOptions) ([]container.Summary, error)
	inspect func(id string) (container.InspectResponse, error)
	images  func() ([]image.Summary, error)
	// networks and volumes return names.
	networks func() ([]string, error)
	volumes  func() ([]string, error)
	// events, when set, is the event stream every subscription reads.
	events chan events.Message
}

var _ engineAPI = (*fakeAPI)(nil)

var errNoFake = errors.New("fake: call not expected")

func (f *fakeAPI) ContainerList(_ context.Context, o client.ContainerListOptions) (client.ContainerListResult, error) {
	if f.list == nil {
		return client.ContainerListResult{}, errNoFake
	}
	items, err := f.list(o)
	return client.ContainerListResult{Items: items}, err
}

func (f *fakeAPI) ContainerInspect(_ context.Context, id string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	if f.inspect == nil {
		return client.ContainerInspectResult{}, errNoFake
	}
	c, err := f.inspect(id)
	return client.ContainerInspectResult{Container: c}, err
}

func (f *fakeAPI) ContainerCreate(context.Context, client.ContainerCreateOptions) (client.ContainerCreateResult, error) {
	return client.ContainerCreateResult{}, errNoFake
}

func (f *fakeAPI) ContainerStart(context.Context, string, client.ContainerStartOptions) (client.ContainerStartResult, error) {
	return client.ContainerStartResult{}, errNoFake
}

func (f *fakeAPI) ContainerStop(context.Context, string, client.ContainerStopOptions) (client.ContainerStopResult, error) {
	return client.ContainerStopResult{}, errNoFake
}

func (f *fakeAPI) ContainerRestart(context.Context, string, client.ContainerRestartOptions) (client.ContainerRestartResult, error) {
	return client.ContainerRestartResult{}, errNoFake
}

func (f *fakeAPI) ContainerRemove(context.Context, string, client.ContainerRemoveOptions) (client.ContainerRemoveResult, error) {
	return client.ContainerRemoveResult{}, errNoFake
}

func (f *fakeAPI) ContainerLogs(context.Context, string, client.ContainerLogsOptions) (client.ContainerLogsResult, error) {
	return nil, errNoFake
}

func (f *fakeAPI) ImageList(context.Context, client.ImageListOptions) (client.ImageListResult, error) {
	if f.images == nil {
		return client.ImageListResult{}, errNoFake
	}
	items, err := f.images()
	return client.ImageListResult{Items: items}, err
}

func (f *fakeAPI) NetworkList(context.Context, client.NetworkListOptions) (client.NetworkListResult, error) {
	if f.networks == nil {
		return client.NetworkListResult{}, errNoFake
	}
	names, err := f.networks()
	var res client.NetworkListResult
	for _, n := range names {
		res.Items = append(res.Items, network.Summary{Network: network.Network{Name: n}})
	}
	return res, err
}

func (f *fakeAPI) VolumeList(context.Context, client.VolumeListOptions) (client.VolumeListResult, error) {
	if f.volumes == nil {
		return client.VolumeListResult{}, errNoFake
	}
	names, err := f.volumes()
	var res client.VolumeListResult
	for _, n := range names {
		res.Items = append(res.Items, volume.Volume{Name: n})
	}
	return res, err
}

func (f *fakeAPI) ImageInspect(context.Context, string, ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	return client.ImageInspectResult{}, errNoFake
}

func (f *fakeAPI) ImagePull(context.Context, string, client.ImagePullOptions) (client.ImagePullResponse, error) {
	return nil, errNoFake
}

func (f *fakeAPI) VolumeInspect(context.Context, string, client.VolumeInspectOptions) (client.VolumeInspectResult, error) {
	return client.VolumeInspectResult{}, errNoFake
}

func (f *fakeAPI) Events(context.Context, client.EventsListOptions) client.EventsResult {
	errs := make(chan error, 1)
	if f.events == nil {
		errs <- errNoFake
	}
	return client.EventsResult{Messages: f.events, Err: errs}
}

func (f *fakeAPI) ServerVersion(context.Context, client.ServerVersionOptions) (client.ServerVersionResult, error) {
	return client.ServerVersionResult{}, errNoFake
}

func (f *fakeAPI) ClientVersion() string { return "fake" }
func (f *fakeAPI) Close() error          { return nil }

func (f *fakeAPI) ContainerUnpause(context.Context, string, client.ContainerUnpauseOptions) (client.ContainerUnpauseResult, error) {
	return client.ContainerUnpauseResult{}, errNoFake
}

func (f *fakeAPI) NetworkConnect(context.Context, string, client.NetworkConnectOptions) (client.NetworkConnectResult, error) {
	return client.NetworkConnectResult{}, errNoFake
}
