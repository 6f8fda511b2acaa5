package manager

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// guard bounds every wait of these tests. It is a failure guard, never a
// pacing: nothing waits for it to pass.
const guard = 30 * time.Second

// env is what an integration test needs: an SDK client for setup and for
// checks that must not go through the code under test, a Manager on the same
// engine, and the test's label value.
type env struct {
	c     *client.Client
	m     *Manager
	label string
}

// newEnv skips (or fails under CI) without an engine, and labels everything
// the test creates so that it is removed at cleanup.
func newEnv(t *testing.T) *env {
	t.Helper()
	c := testenv.Client(t)
	_, value := testenv.Label(t, c)
	return &env{c: c, m: newManager(t, testenv.Host()), label: value}
}

func newManager(t *testing.T, host string) *Manager {
	t.Helper()
	m, err := New(host)
	if err != nil {
		t.Fatalf("New(%q): %v", host, err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// create makes a container from the busybox image with network mode none
// and the test's label, without starting it. cfg and hc may be nil; their
// Image, Labels and NetworkMode are filled in when empty.
func (e *env) create(t *testing.T, name string, cfg *container.Config, hc *container.HostConfig) string {
	t.Helper()
	if cfg == nil {
		cfg = &container.Config{}
	}
	if hc == nil {
		hc = &container.HostConfig{}
	}
	if cfg.Image == "" {
		cfg.Image = testenv.BusyboxImage(t, e.c)
	}
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	cfg.Labels[testenv.LabelKey] = e.label
	if hc.NetworkMode == "" {
		hc.NetworkMode = "none"
	}
	res, err := e.c.ContainerCreate(context.Background(), client.ContainerCreateOptions{Name: name, Config: cfg, HostConfig: hc})
	if err != nil {
		t.Fatalf("creating %s: %v", name, err)
	}
	return res.ID
}

// createCmd is create with just a command.
func (e *env) createCmd(t *testing.T, name string, cmd ...string) string {
	t.Helper()
	return e.create(t, name, &container.Config{Cmd: cmd}, nil)
}

// run creates and starts a labelled container (see testenv.RunContainer).
func (e *env) run(t *testing.T, name string, cmd ...string) string {
	t.Helper()
	return testenv.RunContainer(t, e.c, e.label, name, cmd...)
}

// start starts a container through the SDK.
func (e *env) start(t *testing.T, id string) {
	t.Helper()
	if _, err := e.c.ContainerStart(context.Background(), id, client.ContainerStartOptions{}); err != nil {
		t.Fatalf("starting %s: %v", ShortID(id), err)
	}
}

// waitExit waits until the container is not running and returns its exit
// code.
func (e *env) waitExit(t *testing.T, id string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	w := e.c.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-w.Result:
		if r.Error != nil {
			t.Fatalf("waiting for %s: %s", ShortID(id), r.Error.Message)
		}
		return r.StatusCode
	case err := <-w.Error:
		t.Fatalf("waiting for %s: %v", ShortID(id), err)
	}
	return -1
}

// inspect inspects through the SDK.
func (e *env) inspect(t *testing.T, id string) container.InspectResponse {
	t.Helper()
	res, err := e.c.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatalf("inspecting %s: %v", ShortID(id), err)
	}
	return res.Container
}

// syncBuffer is an io.Writer that another goroutine may write to while the
// test waits for some text to show up in it.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // one pending signal at most: writers never block
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{changed: make(chan struct{}, 1)} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	n, err := b.buf.Write(p)
	b.mu.Unlock()
	select {
	case b.changed <- struct{}{}:
	default:
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until the buffer holds s.
func (b *syncBuffer) waitFor(t *testing.T, s string) {
	t.Helper()
	timeout := time.After(guard)
	for !strings.Contains(b.String(), s) {
		select {
		case <-b.changed:
		case <-timeout:
			t.Fatalf("%q never showed up; got %q", s, b.String())
		}
	}
}

// oneLine fails the test when err's message spans several lines.
func oneLine(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
}

// TestUnreachable runs every call against a socket nobody listens on: each
// error matches ErrUnreachable, names the address and is one line. It needs
// no engine.
func TestUnreachable(t *testing.T) {
	const host = "unix:///nonexistent/docker.sock"
	m := newManager(t, host)
	if m.Host() != host {
		t.Errorf("Host() = %q, want %q", m.Host(), host)
	}
	zero := 0
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Ping", func(ctx context.Context) error { _, err := m.Ping(ctx); return err }},
		{"Containers", func(ctx context.Context) error { _, err := m.Containers(ctx, ListOptions{All: true}); return err }},
		{"Resolve", func(ctx context.Context) error { _, err := m.Resolve(ctx, "web"); return err }},
		{"Images", func(ctx context.Context) error { _, err := m.ListImages(ctx, ImageListOptions{}); return err }},
		{"Inspect", func(ctx context.Context) error { _, _, err := m.Inspect(ctx, "web"); return err }},
		{"Start", func(ctx context.Context) error { return m.Start(ctx, "web") }},
		{"Stop", func(ctx context.Context) error { return m.Stop(ctx, "web", StopOptions{Timeout: &zero}) }},
		{"Restart", func(ctx context.Context) error { return m.Restart(ctx, "web", StopOptions{}) }},
		{"Remove", func(ctx context.Context) error { return m.Remove(ctx, "web", RemoveOptions{Force: true}) }},
		{"Logs", func(ctx context.Context) error {
			return m.Logs(ctx, "web", LogsOptions{}, &bytes.Buffer{}, &bytes.Buffer{})
		}},
		{"Pull", func(ctx context.Context) error { return m.Pull(ctx, "busybox:latest", nil) }},
		{"Run", func(ctx context.Context) error {
			_, err := m.Run(ctx, RunSpec{Config: &container.Config{Image: "busybox:latest"}}, nil)
			return err
		}},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(t.Context())
			if !errors.Is(err, ErrUnreachable) {
				t.Fatalf("err = %v, want ErrUnreachable", err)
			}
			if !strings.Contains(err.Error(), host) {
				t.Errorf("error %q does not name %s", err, host)
			}
			oneLine(t, err)
			if IsNotFound(err) {
				t.Errorf("an unreachable engine reads as not found: %v", err)
			}
		})
	}
}

// TestUnreachableThenBack makes a Manager while the engine is away (a
// stopped proxy), sees it fail, brings the engine back and sees the same
// Manager work: the API version is negotiated on the first request that
// gets an answer.
func TestUnreachableThenBack(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, testenv.Name("back"), "sleep", "600")
	p := testenv.NewProxy(t)
	m := newManager(t, p.Host())
	opts := ListOptions{Filters: map[string][]string{"label": {testenv.LabelKey + "=" + e.label}}}

	_, err := m.Containers(t.Context(), opts)
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Containers with the engine away: err = %v, want ErrUnreachable", err)
	}
	if !strings.Contains(err.Error(), p.Host()) {
		t.Errorf("error %q does not name %s", err, p.Host())
	}
	oneLine(t, err)

	p.Start()
	list, err := m.Containers(t.Context(), opts)
	if err != nil {
		t.Fatalf("Containers once the engine is back: %v", err)
	}
	if len(list) != 1 || list[0].ID != id {
		t.Fatalf("Containers = %d containers, want just %s", len(list), ShortID(id))
	}
	if v, err := m.Ping(t.Context()); err != nil || v == "" {
		t.Errorf("Ping = %q, %v", v, err)
	}
	if got, want := m.api.ClientVersion(), e.c.ClientVersion(); got != want {
		t.Errorf("API version %s, want %s as negotiated by a fresh client", got, want)
	}
}
