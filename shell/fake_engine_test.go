package shell

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"

	"github.com/dockman/dockman/manager"
)

// fakeEngine is an in-memory Engine for unit tests of the commands' own
// logic: argument handling, parallelism, output and errors. What the real
// engine does is proved by the integration tests.
type fakeEngine struct {
	mu         sync.Mutex
	containers []container.Summary // newest first
	images     []image.Summary
	volumes    []volume.Volume
	calls      []string // "stop web", ... in the order they began
	// listOpts and imageOpts are the options of the last list calls.
	listOpts  manager.ListOptions
	imageOpts manager.ImageListOptions

	// Hooks replace the default behaviour of an operation when set; the
	// defaults change the container's state as the engine would.
	stop    func(ctx context.Context, c container.Summary, opts manager.StopOptions) error
	start   func(ctx context.Context, c container.Summary) error
	restart func(ctx context.Context, c container.Summary, opts manager.StopOptions) error
	remove  func(ctx context.Context, c container.Summary, opts manager.RemoveOptions) error
	run     func(ctx context.Context, spec manager.RunSpec) (string, error)
	logs    func(ctx context.Context, c container.Summary, opts manager.LogsOptions, stdout, stderr io.Writer) error
	// err, when set, is what every call returns (an engine that is down).
	err error
}

var _ Engine = (*fakeEngine)(nil)

// newFakeEngine returns an engine holding containers named by names, each
// "name" running or "name:exited" stopped, with IDs derived from the names.
func newFakeEngine(names ...string) *fakeEngine {
	f := &fakeEngine{}
	for i, n := range names {
		name, state, _ := strings.Cut(n, ":")
		if state == "" {
			state = string(container.StateRunning)
		}
		f.containers = append(f.containers, container.Summary{
			ID:      fakeID(name),
			Names:   []string{"/" + name},
			Image:   "busybox",
			Command: "sleep 600",
			Created: int64(1700000000 - i),
			State:   container.ContainerState(state),
			Status:  map[string]string{"running": "Up 5 minutes", "exited": "Exited (0) 5 minutes ago"}[state],
		})
	}
	return f
}

// fakeID is a 64-hex-digit ID that starts with the name's bytes in hex.
func fakeID(name string) string {
	id := fmt.Sprintf("%x", name)
	for len(id) < 64 {
		id += "0"
	}
	return id[:64]
}

func (f *fakeEngine) record(op string, c container.Summary) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op+" "+manager.Name(c))
}

// Calls returns the operations begun, sorted (parallel ones have no order).
func (f *fakeEngine) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]string(nil), f.calls...)
	sort.Strings(out)
	return out
}

func (f *fakeEngine) setState(id string, state container.ContainerState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.containers {
		if f.containers[i].ID == id {
			f.containers[i].State = state
		}
	}
}

func (f *fakeEngine) Host() string { return "unix:///fake.sock" }

func (f *fakeEngine) Containers(_ context.Context, opts manager.ListOptions) ([]container.Summary, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listOpts = opts
	var out []container.Summary
	for _, c := range f.containers {
		if opts.All || opts.Limit > 0 || manager.IsUp(c.State) {
			if !opts.Size {
				c.SizeRw, c.SizeRootFs = 0, 0 // as the engine: sizes only when asked
			}
			out = append(out, c)
		}
	}
	if opts.Limit > 0 && len(out) > opts.Limit {
		out = out[:opts.Limit]
	}
	return out, nil
}

// ListImages returns every image, whatever the filters (recorded in
// imageOpts): the engine applies them, as the integration tests prove.
func (f *fakeEngine) ListImages(_ context.Context, opts manager.ImageListOptions) ([]image.Summary, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imageOpts = opts
	return f.images, nil
}

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

func (f *fakeEngine) find(id string) container.Summary {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.containers {
		if c.ID == id {
			return c
		}
	}
	return container.Summary{ID: id}
}

func (f *fakeEngine) Start(ctx context.Context, id string) error {
	c := f.find(id)
	f.record("start", c)
	if f.start != nil {
		return f.start(ctx, c)
	}
	f.setState(id, container.StateRunning)
	return nil
}

func (f *fakeEngine) Stop(ctx context.Context, id string, opts manager.StopOptions) error {
	c := f.find(id)
	f.record("stop", c)
	if f.stop != nil {
		return f.stop(ctx, c, opts)
	}
	f.setState(id, container.StateExited)
	return nil
}

func (f *fakeEngine) Restart(ctx context.Context, id string, opts manager.StopOptions) error {
	c := f.find(id)
	f.record("restart", c)
	if f.restart != nil {
		return f.restart(ctx, c, opts)
	}
	f.setState(id, container.StateRunning)
	return nil
}

func (f *fakeEngine) Remove(ctx context.Context, id string, opts manager.RemoveOptions) error {
	c := f.find(id)
	f.record("rm", c)
	if f.remove != nil {
		return f.remove(ctx, c, opts)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.containers {
		if f.containers[i].ID == id {
			f.containers = append(f.containers[:i], f.containers[i+1:]...)
			break
		}
	}
	return nil
}

// Inspect finds the container as the engine does (ID, name, unique
// prefix); one it cannot find is a not-found error, as the engine's is.
func (f *fakeEngine) Inspect(ctx context.Context, ref string) (container.InspectResponse, json.RawMessage, error) {
	all, err := f.Containers(ctx, manager.ListOptions{All: true})
	if err != nil {
		return container.InspectResponse{}, nil, err
	}
	c, err := manager.Match(all, ref)
	if err != nil {
		return container.InspectResponse{}, nil, fakeNotFound("No such container: " + ref)
	}
	resp := container.InspectResponse{ID: c.ID, Name: "/" + manager.Name(c), State: &container.State{Status: c.State, Running: c.State == container.StateRunning}}
	raw, err := json.Marshal(resp)
	return resp, raw, err
}

// InspectImage finds an image by ID or by one of its tags.
func (f *fakeEngine) InspectImage(_ context.Context, ref string) (image.InspectResponse, json.RawMessage, error) {
	if f.err != nil {
		return image.InspectResponse{}, nil, f.err
	}
	for _, img := range f.images {
		if img.ID == ref || slices.Contains(img.RepoTags, ref) || slices.Contains(img.RepoTags, ref+":latest") {
			resp := image.InspectResponse{ID: img.ID, RepoTags: img.RepoTags, Size: img.Size}
			raw, err := json.Marshal(resp)
			return resp, raw, err
		}
	}
	return image.InspectResponse{}, nil, fakeNotFound("No such image: " + ref)
}

// InspectVolume finds a volume by name.
func (f *fakeEngine) InspectVolume(_ context.Context, name string) (volume.Volume, json.RawMessage, error) {
	if f.err != nil {
		return volume.Volume{}, nil, f.err
	}
	for _, v := range f.volumes {
		if v.Name == name {
			raw, err := json.Marshal(v)
			return v, raw, err
		}
	}
	return volume.Volume{}, nil, fakeNotFound("get " + name + ": no such volume")
}

// fakeNotFound is an error that manager.IsNotFound recognises, as the
// engine's 404s are.
type fakeNotFound string

func (e fakeNotFound) Error() string { return string(e) }
func (e fakeNotFound) NotFound()     {}

func (f *fakeEngine) Logs(ctx context.Context, id string, opts manager.LogsOptions, stdout, stderr io.Writer) error {
	if f.logs != nil {
		return f.logs(ctx, f.find(id), opts, stdout, stderr)
	}
	return nil
}

func (f *fakeEngine) Run(ctx context.Context, spec manager.RunSpec, _ io.Writer) (string, error) {
	if f.run != nil {
		return f.run(ctx, spec)
	}
	return fakeID(spec.Name), nil
}
