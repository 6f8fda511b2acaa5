package manager

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

func TestContainers(t *testing.T) {
	e := newEnv(t)
	created := e.createCmd(t, testenv.Name("created"), "true")
	exitedName := testenv.Name("exited")
	exited := e.run(t, exitedName, "true")
	e.waitExit(t, exited)
	running := e.run(t, testenv.Name("running"), "sleep", "600")
	label := testenv.LabelKey + "=" + e.label

	tests := []struct {
		name string
		opts ListOptions
		want []string // IDs, newest first
	}{
		{"label, all", ListOptions{All: true, Filters: map[string][]string{"label": {label}}}, []string{running, exited, created}},
		{"label, running only", ListOptions{Filters: map[string][]string{"label": {label}}}, []string{running}},
		{"status exited", ListOptions{All: true, Filters: map[string][]string{"label": {label}, "status": {"exited"}}}, []string{exited}},
		{"status created", ListOptions{All: true, Filters: map[string][]string{"label": {label}, "status": {"created"}}}, []string{created}},
		{"two statuses", ListOptions{All: true, Filters: map[string][]string{"label": {label}, "status": {"created", "running"}}}, []string{running, created}},
		{"name", ListOptions{All: true, Filters: map[string][]string{"name": {exitedName}}}, []string{exited}},
		{"id", ListOptions{All: true, Filters: map[string][]string{"id": {created}}}, []string{created}},
		{"label and name", ListOptions{All: true, Filters: map[string][]string{"label": {label}, "name": {exitedName}}}, []string{exited}},
		{"no match", ListOptions{All: true, Filters: map[string][]string{"label": {label + "-other"}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := e.m.Containers(t.Context(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range list {
				got = append(got, c.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Containers = %s, want %s", shortIDs(got), shortIDs(tt.want))
			}
		})
	}

	t.Run("summary fields", func(t *testing.T) {
		list, err := e.m.Containers(t.Context(), ListOptions{Filters: map[string][]string{"id": {running}}})
		if err != nil || len(list) != 1 {
			t.Fatalf("Containers = %d, %v", len(list), err)
		}
		c := list[0]
		if c.State != container.StateRunning || c.Labels[testenv.LabelKey] != e.label || c.Image != testenv.BusyboxRef {
			t.Errorf("summary = state %q labels %v image %q", c.State, c.Labels, c.Image)
		}
	})
	t.Run("bad filter", func(t *testing.T) {
		_, err := e.m.Containers(t.Context(), ListOptions{Filters: map[string][]string{"nosuchfilter": {"x"}}})
		if err == nil || !strings.HasPrefix(err.Error(), "list containers: ") {
			t.Errorf("err = %v, want a 'list containers: ' error", err)
		}
	})
}

func shortIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = ShortID(id)
	}
	return out
}

func TestResolve(t *testing.T) {
	e := newEnv(t)
	webName, dbName := testenv.Name("web"), testenv.Name("db")
	web := e.createCmd(t, webName, "true")
	db := e.createCmd(t, dbName, "true")
	unknown := testenv.Name("nosuch")

	refs := []string{webName, ShortID(db), "/" + webName, unknown, db}
	got, err := e.m.Resolve(t.Context(), refs...)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(refs) {
		t.Fatalf("Resolve returned %d results for %d refs", len(got), len(refs))
	}
	want := []struct {
		id      string
		wantErr string
	}{{id: web}, {id: db}, {id: web}, {wantErr: "no such container: " + unknown}, {id: db}}
	for i, w := range want {
		r := got[i]
		if r.Ref != refs[i] {
			t.Errorf("result %d: Ref = %q, want %q", i, r.Ref, refs[i])
		}
		if w.wantErr != "" {
			if r.Err == nil || r.Err.Error() != w.wantErr {
				t.Errorf("%s: err = %v, want %q", r.Ref, r.Err, w.wantErr)
			}
			continue
		}
		if r.Err != nil || r.Container.ID != w.id {
			t.Errorf("%s: got %s, %v; want %s", r.Ref, ShortID(r.Container.ID), r.Err, ShortID(w.id))
		}
	}
	if n := Name(got[0].Container); n != webName {
		t.Errorf("Name of resolved %s = %q", webName, n)
	}
	t.Run("no refs", func(t *testing.T) {
		got, err := e.m.Resolve(t.Context())
		if err != nil || len(got) != 0 {
			t.Errorf("Resolve() = %v, %v", got, err)
		}
	})
}

func TestStartStop(t *testing.T) {
	e := newEnv(t)
	zero := 0
	tests := []struct {
		name     string
		cmd      []string
		timeout  *int
		wantCode int
	}{
		// sleep as PID 1 ignores SIGTERM: timeout 0 goes straight to SIGKILL.
		{"timeout zero kills", []string{"sleep", "600"}, &zero, 137},
		// nil: the container's own stop signal and timeout; the trap makes
		// it exit on SIGTERM at once, so the 10s default never runs out.
		{"nil timeout sends SIGTERM", []string{"sh", "-c", `trap "exit 0" TERM; echo ready; sleep 600 & wait`}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := e.create(t, testenv.Name("stop"), &container.Config{Cmd: tt.cmd}, nil)
			if err := e.m.Start(t.Context(), id); err != nil {
				t.Fatalf("Start: %v", err)
			}
			if st := e.inspect(t, id).State; !st.Running {
				t.Fatalf("after Start: state %q", st.Status)
			}
			if tt.timeout == nil {
				// The trap must be set before the signal arrives.
				waitLogs(t, e, id, "ready")
			}
			if err := e.m.Stop(t.Context(), id, StopOptions{Timeout: tt.timeout}); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			st := e.inspect(t, id).State
			if st.Running || st.Status != container.StateExited || st.ExitCode != tt.wantCode {
				t.Errorf("after Stop: status %q running %v exit %d, want exited %d", st.Status, st.Running, st.ExitCode, tt.wantCode)
			}
			// Both are no-ops on the engine (304), not errors.
			if err := e.m.Stop(t.Context(), id, StopOptions{Timeout: &zero}); err != nil {
				t.Errorf("Stop of a stopped container: %v", err)
			}
		})
	}
	t.Run("start twice", func(t *testing.T) {
		id := e.createCmd(t, testenv.Name("twice"), "sleep", "600")
		for i := range 2 {
			if err := e.m.Start(t.Context(), id); err != nil {
				t.Fatalf("Start #%d: %v", i+1, err)
			}
		}
	})
	t.Run("unknown container", func(t *testing.T) {
		name := testenv.Name("nosuch")
		for op, err := range map[string]error{
			"Start":   e.m.Start(t.Context(), name),
			"Stop":    e.m.Stop(t.Context(), name, StopOptions{Timeout: &zero}),
			"Restart": e.m.Restart(t.Context(), name, StopOptions{Timeout: &zero}),
			"Remove":  e.m.Remove(t.Context(), name, RemoveOptions{Force: true}),
		} {
			if !IsNotFound(err) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s(%s): err = %v, want not found naming it", op, name, err)
			}
		}
	})
}

// waitLogs waits until the container's output holds s, by following its logs.
func waitLogs(t *testing.T, e *env, id, s string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := newSyncBuffer()
	done := make(chan error, 1)
	go func() { done <- e.m.Logs(ctx, id, LogsOptions{Follow: true}, out, out) }()
	out.waitFor(t, s)
	cancel()
	<-done
}

func TestRestart(t *testing.T) {
	e := newEnv(t)
	zero := 0
	for _, tt := range []struct {
		name    string
		timeout *int
	}{{"timeout zero", &zero}, {"nil timeout", nil}} {
		t.Run(tt.name, func(t *testing.T) {
			id := e.run(t, testenv.Name("restart"), "sh", "-c", `trap "exit 0" TERM; echo ready; sleep 600 & wait`)
			waitLogs(t, e, id, "ready")
			before := e.inspect(t, id).State
			if err := e.m.Restart(t.Context(), id, StopOptions{Timeout: tt.timeout}); err != nil {
				t.Fatalf("Restart: %v", err)
			}
			after := e.inspect(t, id).State
			if !after.Running {
				t.Fatalf("after Restart: status %q", after.Status)
			}
			if after.StartedAt == before.StartedAt || after.Pid == before.Pid {
				t.Errorf("not restarted: started %s pid %d, before %s pid %d", after.StartedAt, after.Pid, before.StartedAt, before.Pid)
			}
		})
	}
	t.Run("exited container", func(t *testing.T) {
		id := e.run(t, testenv.Name("restart"), "true")
		e.waitExit(t, id)
		before := e.inspect(t, id).State
		if err := e.m.Restart(t.Context(), id, StopOptions{Timeout: &zero}); err != nil {
			t.Fatalf("Restart: %v", err)
		}
		if after := e.inspect(t, id).State; after.StartedAt == before.StartedAt {
			t.Errorf("not started again: status %q started %s", after.Status, after.StartedAt)
		}
	})
}

func TestRemove(t *testing.T) {
	e := newEnv(t)

	t.Run("running without force", func(t *testing.T) {
		id := e.run(t, testenv.Name("rm"), "sleep", "600")
		err := e.m.Remove(t.Context(), id, RemoveOptions{})
		if err == nil {
			t.Fatal("Remove of a running container without Force succeeded")
		}
		// The engine's own words; 20.10 and 29 phrase it differently but
		// both say running and point at force.
		if msg := err.Error(); !strings.Contains(msg, "running") || !strings.Contains(msg, "force") {
			t.Errorf("err = %q, want the engine's message about a running container", msg)
		}
		oneLine(t, err)
		if st := e.inspect(t, id).State; !st.Running {
			t.Errorf("container no longer running: %q", st.Status)
		}
	})
	t.Run("exited without force", func(t *testing.T) {
		id := e.run(t, testenv.Name("rm"), "true")
		e.waitExit(t, id)
		if err := e.m.Remove(t.Context(), id, RemoveOptions{}); err != nil {
			t.Fatal(err)
		}
		assertGone(t, e, id)
	})

	for _, tt := range []struct {
		name     string
		volumes  bool
		wantGone bool
	}{{"force keeps anonymous volume", false, false}, {"force with volumes", true, true}} {
		t.Run(tt.name, func(t *testing.T) {
			id := e.create(t, testenv.Name("rm"), &container.Config{Cmd: []string{"sleep", "600"}, Volumes: map[string]struct{}{"/data": {}}}, nil)
			e.start(t, id)
			var vol string
			for _, mp := range e.inspect(t, id).Mounts {
				if mp.Destination == "/data" {
					vol = mp.Name
				}
			}
			if vol == "" {
				t.Fatal("no anonymous volume on /data")
			}
			// Anonymous volumes carry no test label: remove it ourselves.
			t.Cleanup(func() { _, _ = e.c.VolumeRemove(context.Background(), vol, client.VolumeRemoveOptions{Force: true}) })

			if err := e.m.Remove(t.Context(), id, RemoveOptions{Force: true, Volumes: tt.volumes}); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			assertGone(t, e, id)
			_, err := e.c.VolumeInspect(t.Context(), vol, client.VolumeInspectOptions{})
			if gone := IsNotFound(err); gone != tt.wantGone {
				t.Errorf("volume %s gone = %v (err %v), want %v", ShortID(vol), gone, err, tt.wantGone)
			}
		})
	}
}

func assertGone(t *testing.T, e *env, id string) {
	t.Helper()
	if _, err := e.c.ContainerInspect(t.Context(), id, client.ContainerInspectOptions{}); !IsNotFound(err) {
		t.Errorf("container %s still there after Remove (err %v)", ShortID(id), err)
	}
}

func TestInspect(t *testing.T) {
	e := newEnv(t)
	name := testenv.Name("inspect")
	id := e.createCmd(t, name, "echo", "hi")
	for _, ref := range []string{id, name, ShortID(id)} {
		t.Run(ref, func(t *testing.T) {
			info, raw, err := e.m.Inspect(t.Context(), ref)
			if err != nil {
				t.Fatal(err)
			}
			var decoded struct {
				ID     string `json:"Id"`
				Name   string
				Config struct{ Cmd []string }
			}
			if err := json.Unmarshal(raw, &decoded); err != nil {
				t.Fatalf("raw JSON does not decode: %v", err)
			}
			if decoded.ID != id || info.ID != id {
				t.Errorf("raw Id %s, decoded ID %s, want %s", decoded.ID, info.ID, id)
			}
			if decoded.Name != "/"+name || info.Name != "/"+name {
				t.Errorf("raw Name %q, decoded Name %q", decoded.Name, info.Name)
			}
			if !slices.Equal(decoded.Config.Cmd, []string{"echo", "hi"}) || info.Config == nil || !slices.Equal(info.Config.Cmd, decoded.Config.Cmd) {
				t.Errorf("Cmd: raw %q", decoded.Config.Cmd)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		_, raw, err := e.m.Inspect(t.Context(), testenv.Name("nosuch"))
		if !IsNotFound(err) || raw != nil {
			t.Errorf("err = %v, raw = %q; want not found and no JSON", err, raw)
		}
	})
}

func TestImages(t *testing.T) {
	e := newEnv(t)
	img := testenv.BusyboxImage(t, e.c)
	for _, all := range []bool{false, true} {
		list, err := e.m.ListImages(t.Context(), ImageListOptions{All: all})
		if err != nil {
			t.Fatalf("Images(all=%v): %v", all, err)
		}
		found := false
		for _, s := range list {
			if slices.Contains(s.RepoTags, img) {
				found = true
				if !strings.HasPrefix(s.ID, "sha256:") {
					t.Errorf("image ID %q", s.ID)
				}
			}
		}
		if !found {
			t.Errorf("Images(all=%v): %d images, none tagged %s", all, len(list), img)
		}
	}
}
