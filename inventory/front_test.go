package inventory

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"

	"github.com/dockman/dockman/internal/workqueue"
	"github.com/dockman/dockman/manager"
)

// fakeEngine is an Engine made of function fields, for tests of the
// inventory's own logic. A call whose field is nil fails as an unexpected
// call; each call is counted.
type fakeEngine struct {
	containers func(manager.ListOptions) ([]container.Summary, error)
	images     func() ([]image.Summary, error)
	networks   func() ([]string, error)
	volumes    func() ([]string, error)
	inspect    func(id string) (container.InspectResponse, error)
	stop       func(id string) error
	remove     func(id string) error

	mu    sync.Mutex // count runs on the inventory's workers
	calls map[string]int
}

var _ Engine = (*fakeEngine)(nil)

var errUnexpected = errors.New("fake: call not expected")

func (f *fakeEngine) count(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[call]++
}

func (f *fakeEngine) Host() string { return "fake://" }

func (f *fakeEngine) Containers(_ context.Context, opts manager.ListOptions) ([]container.Summary, error) {
	f.count("containers")
	if f.containers == nil {
		return nil, errUnexpected
	}
	return f.containers(opts)
}

// Resolve behaves as the Manager's: one list, then Match.
func (f *fakeEngine) Resolve(ctx context.Context, refs ...string) ([]manager.Resolved, error) {
	all, err := f.Containers(ctx, manager.ListOptions{All: true})
	if err != nil {
		return nil, err
	}
	out := make([]manager.Resolved, len(refs))
	for i, ref := range refs {
		out[i].Ref = ref
		out[i].Container, out[i].Err = manager.Match(all, ref)
	}
	return out, nil
}

func (f *fakeEngine) InspectImage(context.Context, string) (image.InspectResponse, json.RawMessage, error) {
	return image.InspectResponse{}, nil, errUnexpected
}

func (f *fakeEngine) InspectVolume(context.Context, string) (volume.Volume, json.RawMessage, error) {
	return volume.Volume{}, nil, errUnexpected
}

func (f *fakeEngine) ListImages(context.Context, manager.ImageListOptions) ([]image.Summary, error) {
	f.count("images")
	if f.images == nil {
		return nil, errUnexpected
	}
	return f.images()
}

func (f *fakeEngine) Networks(context.Context) ([]string, error) {
	f.count("networks")
	if f.networks == nil {
		return nil, errUnexpected
	}
	return f.networks()
}

func (f *fakeEngine) Volumes(context.Context) ([]string, error) {
	f.count("volumes")
	if f.volumes == nil {
		return nil, errUnexpected
	}
	return f.volumes()
}

func (f *fakeEngine) Inspect(_ context.Context, id string) (container.InspectResponse, json.RawMessage, error) {
	f.count("inspect")
	if f.inspect == nil {
		return container.InspectResponse{}, nil, errUnexpected
	}
	c, err := f.inspect(id)
	return c, nil, err
}

func (f *fakeEngine) Stop(_ context.Context, id string, _ manager.StopOptions) error {
	f.count("stop")
	if f.stop == nil {
		return errUnexpected
	}
	return f.stop(id)
}

func (f *fakeEngine) Remove(_ context.Context, id string, _ manager.RemoveOptions) error {
	f.count("remove")
	if f.remove == nil {
		return errUnexpected
	}
	return f.remove(id)
}

func (f *fakeEngine) Logs(context.Context, string, manager.LogsOptions, io.Writer, io.Writer) error {
	return errUnexpected
}
func (f *fakeEngine) Start(context.Context, string) error { return errUnexpected }
func (f *fakeEngine) Restart(context.Context, string, manager.StopOptions) error {
	return errUnexpected
}
func (f *fakeEngine) Run(context.Context, manager.RunSpec, io.Writer) (string, error) {
	return "", errUnexpected
}

const pad58 = "0000000000000000000000000000000000000000000000000000000000"

// TestResolveTrustsMemoryForNamesOnly: with the inventory in sync, full
// IDs and names resolve from memory; a prefix, which a container created a
// moment ago could share, and an unknown name are checked with the engine.
func TestResolveTrustsMemoryForNamesOnly(t *testing.T) {
	web := container.Summary{ID: "abc111" + pad58, Names: []string{"/web"}, State: container.StateRunning}
	fresh := container.Summary{ID: "abc222" + pad58, Names: []string{"/fresh"}, State: container.StateCreated}
	eng := &fakeEngine{containers: func(manager.ListOptions) ([]container.Summary, error) {
		return []container.Summary{web, fresh}, nil // the engine knows fresh; the inventory not yet
	}}
	inv := New(eng, nil)
	inv.Handle(manager.Event{Resync: true, Containers: []container.Summary{web}})
	front := inv.Front()

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
			eng.calls = nil
			res, err := front.Resolve(context.Background(), tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if got := eng.calls["containers"]; got != tt.wantLists {
				t.Errorf("engine lists = %d, want %d", got, tt.wantLists)
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

// inspected is the inspect output the fake engine gives for web.
func inspected(id string) container.InspectResponse {
	return container.InspectResponse{
		ID: id, Name: "/web", Created: "2026-11-22T10:00:00.5Z", Image: "sha256:bb",
		State:  &container.State{Status: container.StateRunning, StartedAt: "2026-11-22T10:00:01Z"},
		Config: &container.Config{Image: "busybox"},
	}
}

// TestContainersWaitForInspects: entries known only from a list are
// ordered to the second and carry a frozen status, so the front asks the
// engine until the inventory has inspected them, then answers from memory.
func TestContainersWaitForInspects(t *testing.T) {
	web := container.Summary{ID: "abc111" + pad58, Names: []string{"/web"}, State: container.StateRunning, Status: "Up 1 second"}
	eng := &fakeEngine{
		containers: func(manager.ListOptions) ([]container.Summary, error) { return []container.Summary{web}, nil },
		images: func() ([]image.Summary, error) {
			return []image.Summary{{ID: "sha256:bb", RepoTags: []string{"busybox:latest"}}}, nil
		},
		inspect: func(id string) (container.InspectResponse, error) { return inspected(id), nil },
	}
	inv := New(eng, nil)
	front := inv.Front()
	inv.Handle(manager.Event{Resync: true, Containers: []container.Summary{web}})
	ctx := context.Background()

	if _, err := front.Containers(ctx, manager.ListOptions{All: true}); err != nil || eng.calls["containers"] != 1 {
		t.Fatalf("before inspects: err %v, engine lists %d, want 1", err, eng.calls["containers"])
	}
	if inv.Settled() {
		t.Error("Settled before any inspect")
	}
	if err := inv.process(ctx, web.ID); err != nil {
		t.Fatal(err)
	}
	if inv.Settled() {
		t.Error("Settled before the images are known")
	}
	if err := inv.process(ctx, ImagesKey); err != nil {
		t.Fatal(err)
	}
	if !inv.Settled() {
		t.Error("not Settled after inspecting every container")
	}
	eng.calls = nil
	got, err := front.Containers(ctx, manager.ListOptions{All: true})
	if err != nil || eng.calls["containers"] != 0 || len(got) != 1 || !strings.HasPrefix(got[0].Status, "Up ") || got[0].Image != "busybox" {
		t.Errorf("after inspects: %+v, err %v, engine lists %d, want 0", got, err, eng.calls["containers"])
	}

	// The tag moves on to another image: the IMAGE column shows the ID the
	// container still runs, as docker's does.
	eng.images = func() ([]image.Summary, error) {
		return []image.Summary{{ID: "sha256:cc", RepoTags: []string{"busybox:latest"}}, {ID: "sha256:bb"}}, nil
	}
	if err := inv.process(ctx, ImagesKey); err != nil {
		t.Fatal(err)
	}
	if got, _ := front.Containers(ctx, manager.ListOptions{All: true}); len(got) != 1 || got[0].Image != "sha256:bb" {
		t.Errorf("after the tag moved: %+v, want IMAGE sha256:bb", got)
	}
}

// TestWritesRefresh: a write through the front is visible in memory as
// soon as it returns, without waiting for the engine's event; a failed
// write changes nothing.
func TestWritesRefresh(t *testing.T) {
	web := container.Summary{ID: "abc111" + pad58, Names: []string{"/web"}, State: container.StateRunning}
	state := container.StateRunning
	eng := &fakeEngine{
		inspect: func(id string) (container.InspectResponse, error) {
			in := inspected(id)
			in.State.Status = state
			return in, nil
		},
		stop: func(string) error {
			state = container.StateExited
			return nil
		},
		remove: func(string) error { return nil },
	}
	inv := New(eng, nil)
	inv.Handle(manager.Event{Resync: true, Containers: []container.Summary{web}})
	front := inv.Front()
	ctx := context.Background()

	if err := front.Stop(ctx, web.ID, manager.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	list, _ := inv.List(manager.ListOptions{All: true})
	if len(list) != 1 || list[0].State != container.StateExited || !list[0].Detailed {
		t.Errorf("right after Stop the inventory holds %+v, want web exited and inspected", list)
	}

	eng.stop = func(string) error { return errors.New("refused") }
	inspects := eng.calls["inspect"]
	if err := front.Stop(ctx, web.ID, manager.StopOptions{}); err == nil {
		t.Error("a failed Stop returned no error")
	}
	if eng.calls["inspect"] != inspects {
		t.Error("a failed Stop inspected the container")
	}

	before := time.Now()
	if err := front.Remove(ctx, web.ID, manager.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if list, _ := inv.List(manager.ListOptions{All: true}); len(list) != 0 {
		t.Errorf("right after Remove the inventory holds %+v", list)
	}
	// A resync listed before the removal does not bring it back.
	inv.Handle(manager.Event{Resync: true, Containers: []container.Summary{web}, ListedAt: before})
	if list, _ := inv.List(manager.ListOptions{All: true}); len(list) != 0 {
		t.Errorf("a resync from before the removal brought back %+v", list)
	}
}

// TestRefreshRetriesOnlyWhatCanMend: an inspect that times out is retried
// by the queue; one that fails because the engine is unreachable is not
// (the resync after the reconnect covers it); a container that is gone is
// dropped.
func TestRefreshRetriesOnlyWhatCanMend(t *testing.T) {
	web := container.Summary{ID: "abc111" + pad58, Names: []string{"/web"}, State: container.StateRunning}
	tests := []struct {
		name      string
		err       error
		wantErr   bool
		wantRetry bool
		wantGone  bool
	}{
		{"timeout", context.DeadlineExceeded, true, true, false},
		{"unreachable", manager.ErrUnreachable, true, false, false},
		{"gone", notFound{}, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := &fakeEngine{inspect: func(string) (container.InspectResponse, error) { return container.InspectResponse{}, tt.err }}
			inv := New(eng, nil)
			inv.Handle(manager.Event{Resync: true, Containers: []container.Summary{web}})
			err := inv.process(context.Background(), web.ID)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want an error: %v", err, tt.wantErr)
			}
			if retried := workqueue.WillRetry(err); retried != tt.wantRetry {
				t.Errorf("retried = %v, want %v (err %v)", retried, tt.wantRetry, err)
			}
			list, _ := inv.List(manager.ListOptions{All: true})
			if gone := len(list) == 0; gone != tt.wantGone {
				t.Errorf("gone = %v, want %v", gone, tt.wantGone)
			}
			if len(list) == 1 && list[0].Detailed {
				t.Error("an entry whose inspect failed is still marked inspected")
			}
		})
	}
}

// notFound is an error the engine's "no such container" matches.
type notFound struct{}

func (notFound) Error() string { return "no such container" }
func (notFound) NotFound()     {}

// TestContainersSizeAndLimit: sizes are never in memory, so a list asking
// for them goes to the engine; a limit is served from memory as the engine
// would (every state, newest first).
func TestContainersSizeAndLimit(t *testing.T) {
	newer := container.Summary{ID: "abc222" + pad58, Names: []string{"/newer"}, State: container.StateExited, Created: 2}
	older := container.Summary{ID: "abc111" + pad58, Names: []string{"/older"}, State: container.StateRunning, Created: 1}
	var asked manager.ListOptions
	eng := &fakeEngine{
		containers: func(o manager.ListOptions) ([]container.Summary, error) {
			asked = o
			return []container.Summary{newer, older}, nil
		},
		images: func() ([]image.Summary, error) { return nil, nil },
		inspect: func(id string) (container.InspectResponse, error) {
			in := inspected(id)
			if id == newer.ID {
				in.Name, in.Created = "/newer", "2026-11-22T11:00:00Z"
				in.State = &container.State{Status: container.StateExited, FinishedAt: "2026-11-22T11:00:01Z"}
			}
			return in, nil
		},
	}
	inv := New(eng, nil)
	front := inv.Front()
	inv.Handle(manager.Event{Resync: true, Containers: []container.Summary{newer, older}})
	ctx := context.Background()
	for _, key := range []string{newer.ID, older.ID, ImagesKey} {
		if err := inv.process(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	eng.calls = nil
	got, err := front.Containers(ctx, manager.ListOptions{Limit: 1})
	if err != nil || eng.calls["containers"] != 0 || len(got) != 1 || got[0].ID != newer.ID {
		t.Errorf("limit 1: %v (err %v, engine lists %d), want the newest, exited one, from memory", got, err, eng.calls["containers"])
	}
	if _, err := front.Containers(ctx, manager.ListOptions{Size: true}); err != nil || eng.calls["containers"] != 1 || !asked.Size {
		t.Errorf("size: err %v, engine lists %d asking %+v, want one engine list with Size", err, eng.calls["containers"], asked)
	}
}
