package manager

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
)

// fakeAPI is an engineAPI made of function fields, for tests of the
// manager's own logic. A call whose field is nil fails the way an
// unreachable engine would.
type fakeAPI struct {
	list    func(client.ContainerListOptions) ([]container.Summary, error)
	inspect func(id string) (container.InspectResponse, error)
	images  func() ([]image.Summary, error)
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

func (f *fakeAPI) ImageInspect(context.Context, string, ...client.ImageInspectOption) (client.ImageInspectResult, error) {
	return client.ImageInspectResult{}, errNoFake
}

func (f *fakeAPI) ImagePull(context.Context, string, client.ImagePullOptions) (client.ImagePullResponse, error) {
	return nil, errNoFake
}

func (f *fakeAPI) Events(context.Context, client.EventsListOptions) client.EventsResult {
	errs := make(chan error, 1)
	errs <- errNoFake
	return client.EventsResult{Err: errs}
}

func (f *fakeAPI) ServerVersion(context.Context, client.ServerVersionOptions) (client.ServerVersionResult, error) {
	return client.ServerVersionResult{}, errNoFake
}

func (f *fakeAPI) ClientVersion() string { return "fake" }
func (f *fakeAPI) Close() error          { return nil }

// TestResolveTrustsInventoryForNamesOnly: with an inventory in sync, full
// IDs and names resolve from memory; a prefix, which a container created a
// moment ago could share, and an unknown name are checked with the engine.
func TestResolveTrustsInventoryForNamesOnly(t *testing.T) {
	web := container.Summary{ID: "abc111" + pad58, Names: []string{"/web"}, State: container.StateRunning}
	fresh := container.Summary{ID: "abc222" + pad58, Names: []string{"/fresh"}, State: container.StateCreated}
	lists := 0
	api := &fakeAPI{list: func(client.ContainerListOptions) ([]container.Summary, error) {
		lists++
		return []container.Summary{web, fresh}, nil // the engine knows fresh; the inventory not yet
	}}
	m := &Manager{api: api, host: "fake://"}
	inv := NewInventory(m)
	m.UseInventory(inv)
	inv.Handle(Event{Resync: true, Containers: []container.Summary{web}})

	tests := []struct {
		ref       string
		wantLists int
		wantID    string
		wantErr   string
	}{
		{ref: "web", wantLists: 0, wantID: web.ID},
		{ref: web.ID, wantLists: 0, wantID: web.ID},
		{ref: "abc", wantLists: 1, wantErr: "ambiguous"},
		{ref: "abc1", wantLists: 1, wantID: web.ID},
		{ref: "fresh", wantLists: 1, wantID: fresh.ID},
		{ref: "nosuch", wantLists: 1, wantErr: "no such container: nosuch"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			lists = 0
			res, err := m.Resolve(context.Background(), tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if lists != tt.wantLists {
				t.Errorf("engine lists = %d, want %d", lists, tt.wantLists)
			}
			r := res[0]
			switch {
			case tt.wantErr != "":
				if r.Err == nil || !strings.Contains(r.Err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want %q", r.Err, tt.wantErr)
				}
			case r.Err != nil || r.Container.ID != tt.wantID:
				t.Errorf("got %s, %v; want %s", r.Container.ID, r.Err, tt.wantID)
			}
		})
	}
}

const pad58 = "0000000000000000000000000000000000000000000000000000000000"

// TestSnapshotWaitsForInspects: entries known only from a list are ordered
// to the second and carry a frozen status, so Snapshot asks the engine until
// the inventory has inspected them, then answers from memory.
func TestSnapshotWaitsForInspects(t *testing.T) {
	web := container.Summary{ID: "abc111" + pad58, Names: []string{"/web"}, State: container.StateRunning, Status: "Up 1 second"}
	lists := 0
	api := &fakeAPI{
		list: func(client.ContainerListOptions) ([]container.Summary, error) {
			lists++
			return []container.Summary{web}, nil
		},
		images: func() ([]image.Summary, error) {
			return []image.Summary{{ID: "sha256:bb", RepoTags: []string{"busybox:latest"}}}, nil
		},
		inspect: func(id string) (container.InspectResponse, error) {
			return container.InspectResponse{
				ID: id, Name: "/web", Created: "2026-11-22T10:00:00.5Z", Image: "sha256:bb",
				State:  &container.State{Status: container.StateRunning, StartedAt: "2026-11-22T10:00:01Z"},
				Config: &container.Config{Image: "busybox"},
			}, nil
		},
	}
	m := &Manager{api: api, host: "fake://"}
	live := NewLive(m)
	live.Inventory().Handle(Event{Resync: true, Containers: []container.Summary{web}})
	ctx := context.Background()

	if _, err := m.Snapshot(ctx, ListOptions{All: true}); err != nil || lists != 1 {
		t.Fatalf("before inspects: err %v, engine lists %d, want 1", err, lists)
	}
	if live.Inventory().Settled() {
		t.Error("Settled before any inspect")
	}
	live.Inventory().refresh(ctx, web.ID)
	if live.Inventory().Settled() {
		t.Error("Settled before the images are known")
	}
	live.Inventory().refreshImages(ctx)
	if !live.Inventory().Settled() {
		t.Error("not Settled after inspecting every container")
	}
	lists = 0
	got, err := m.Snapshot(ctx, ListOptions{All: true})
	if err != nil || lists != 0 || len(got) != 1 || !strings.HasPrefix(got[0].Status, "Up ") || got[0].Image != "busybox" {
		t.Errorf("after inspects: %+v, err %v, engine lists %d, want 0", got, err, lists)
	}

	// The tag moves on to another image: the IMAGE column shows the ID the
	// container still runs, as docker's does.
	api.images = func() ([]image.Summary, error) {
		return []image.Summary{{ID: "sha256:cc", RepoTags: []string{"busybox:latest"}}, {ID: "sha256:bb"}}, nil
	}
	live.Inventory().refreshImages(ctx)
	if got, _ := m.Snapshot(ctx, ListOptions{All: true}); len(got) != 1 || got[0].Image != "sha256:bb" {
		t.Errorf("after the tag moved: IMAGE %q, want sha256:bb", got[0].Image)
	}
}
