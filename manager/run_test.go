package manager

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

func TestRun(t *testing.T) {
	e := newEnv(t)
	name := testenv.Name("run")
	spec := RunSpec{
		Name: name,
		Config: &container.Config{
			Image:      testenv.BusyboxImage(t, e.c),
			Cmd:        []string{"sh", "-c", "echo ready; exec sleep 600"},
			Env:        []string{"DMT_FOO=bar"},
			WorkingDir: "/tmp",
			Labels:     map[string]string{testenv.LabelKey: e.label, "dmt.extra": "x"},
			StopSignal: "SIGUSR1",
		},
		Host: &container.HostConfig{
			NetworkMode:    "none",
			ReadonlyRootfs: true,
			RestartPolicy:  container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 2},
		},
	}
	var progress bytes.Buffer
	id, err := e.m.Run(t.Context(), spec, &progress)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(id) != 64 {
		t.Errorf("Run returned %q, want a full ID", id)
	}
	if progress.Len() != 0 {
		t.Errorf("progress written for a local image: %q", progress.String())
	}
	info, _, err := e.m.Inspect(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what string
		ok   bool
		got  any
	}{
		{"running", info.State.Running, info.State.Status},
		{"name", info.Name == "/"+name, info.Name},
		{"image", info.Config.Image == spec.Config.Image, info.Config.Image},
		{"cmd", slices.Equal(info.Config.Cmd, spec.Config.Cmd), info.Config.Cmd},
		{"env", slices.Contains(info.Config.Env, "DMT_FOO=bar"), info.Config.Env},
		{"workdir", info.Config.WorkingDir == "/tmp", info.Config.WorkingDir},
		{"labels", info.Config.Labels["dmt.extra"] == "x" && info.Config.Labels[testenv.LabelKey] == e.label, info.Config.Labels},
		{"stop signal", info.Config.StopSignal == "SIGUSR1", info.Config.StopSignal},
		{"network mode", info.HostConfig.NetworkMode == "none", info.HostConfig.NetworkMode},
		{"read-only rootfs", info.HostConfig.ReadonlyRootfs, info.HostConfig.ReadonlyRootfs},
		{"restart policy", info.HostConfig.RestartPolicy.Name == container.RestartPolicyOnFailure && info.HostConfig.RestartPolicy.MaximumRetryCount == 2, info.HostConfig.RestartPolicy},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s did not land: got %v", c.what, c.got)
		}
	}

	t.Run("name in use", func(t *testing.T) {
		id2, err := e.m.Run(t.Context(), spec, nil)
		if err == nil || id2 != "" || !strings.HasPrefix(err.Error(), "create container: ") || !strings.Contains(err.Error(), name) {
			t.Errorf("Run with a taken name = %q, %v", id2, err)
		}
	})
}

// TestRunNetwork checks that RunSpec.Network lands: an alias on a
// user-defined bridge network made for this test.
func TestRunNetwork(t *testing.T) {
	e := newEnv(t)
	netName := testenv.Name("net")
	if _, err := e.c.NetworkCreate(t.Context(), netName, client.NetworkCreateOptions{
		Driver: "bridge",
		Labels: map[string]string{testenv.LabelKey: e.label},
	}); err != nil {
		t.Fatalf("creating network: %v", err)
	}
	// testenv.Label removes labelled networks, after the containers.
	alias := testenv.Name("alias")
	id, err := e.m.Run(t.Context(), RunSpec{
		Name: testenv.Name("netrun"),
		Config: &container.Config{
			Image:  testenv.BusyboxImage(t, e.c),
			Cmd:    []string{"sleep", "600"},
			Labels: map[string]string{testenv.LabelKey: e.label},
		},
		Host:    &container.HostConfig{NetworkMode: container.NetworkMode(netName)},
		Network: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{netName: {Aliases: []string{alias}}}},
	}, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	info := e.inspect(t, id)
	ep := info.NetworkSettings.Networks[netName]
	if ep == nil || !slices.Contains(ep.Aliases, alias) {
		t.Errorf("endpoint on %s = %+v, want alias %s", netName, ep, alias)
	}
}

// TestRunPull runs images the engine lacks, from a local registry.
func TestRunPull(t *testing.T) {
	c := testenv.Client(t)
	addr := testenv.Registry(t)
	ref := addr + "/dmt/busybox:" + strings.TrimPrefix(testenv.Name("v"), "dmt-")
	// Pushed before Label, so that Label's cleanup removes the container
	// before PushToRegistry's removes the image it uses.
	testenv.PushToRegistry(t, c, testenv.BusyboxImage(t, c), ref)
	e := newEnv(t)

	t.Run("pulled with progress", func(t *testing.T) {
		var progress bytes.Buffer
		id, err := e.m.Run(t.Context(), RunSpec{
			Name:   testenv.Name("pulled"),
			Config: &container.Config{Image: ref, Cmd: []string{"echo", "from registry"}, Labels: map[string]string{testenv.LabelKey: e.label}},
			Host:   &container.HostConfig{NetworkMode: "none"},
		}, &progress)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		// As docker shows a pull to a non-terminal: the lookup, then one
		// line per status change, no escape codes.
		got := progress.String()
		for _, want := range []string{"Pulling from dmt/busybox", "Status: Downloaded newer image for " + ref} {
			if !strings.Contains(got, want) {
				t.Errorf("progress lacks %q:\n%s", want, got)
			}
		}
		if strings.Contains(got, "\x1b") {
			t.Errorf("escape codes in progress to a non-terminal: %q", got)
		}
		if code := e.waitExit(t, id); code != 0 {
			t.Errorf("exit %d", code)
		}
		out, _ := logsOf(t, e.m, id, LogsOptions{})
		if out != "from registry\n" {
			t.Errorf("stdout %q", out)
		}
		if _, err := c.ImageInspect(t.Context(), ref); err != nil {
			t.Errorf("image %s not there after Run: %v", ref, err)
		}
	})

	missing := addr + "/dmt/busybox:nosuchtag"
	t.Run("Run of a missing tag", func(t *testing.T) {
		name := testenv.Name("missing")
		id, err := e.m.Run(t.Context(), RunSpec{
			Name:   name,
			Config: &container.Config{Image: missing, Labels: map[string]string{testenv.LabelKey: e.label}},
			Host:   &container.HostConfig{NetworkMode: "none"},
		}, nil)
		if err == nil || id != "" {
			t.Fatalf("Run = %q, %v; want an error and no container", id, err)
		}
		if !strings.Contains(err.Error(), missing) {
			t.Errorf("error %q does not name %s", err, missing)
		}
		oneLine(t, err)
		if _, err := c.ContainerInspect(t.Context(), name, client.ContainerInspectOptions{}); !IsNotFound(err) {
			t.Errorf("a container %s was left behind (err %v)", name, err)
		}
	})
	t.Run("Pull of a missing tag", func(t *testing.T) {
		var progress bytes.Buffer
		err := e.m.Pull(t.Context(), missing, &progress)
		if err == nil || !strings.HasPrefix(err.Error(), "pull "+missing+": ") {
			t.Fatalf("Pull = %v, want an error naming %s", err, missing)
		}
		oneLine(t, err)
	})
}

// TestRunCreateNotFoundIsNotAboutImage: a create that fails with "not
// found" for something other than the image must report that, not pull an
// image the engine already has. A real engine answers 404 for a missing
// volume driver, but only after 15 s of plugin lookup retries, so this test
// talks to a fake engine that answers at once.
func TestRunCreateNotFoundIsNotAboutImage(t *testing.T) {
	const driverErr = `create abc: error looking up volume plugin dmt-nosuchdriver: plugin "dmt-nosuchdriver" not found`
	var mu sync.Mutex
	var pulls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		w.Header().Set("Content-Type", "application/json")
		switch p := r.URL.Path; {
		case p == "/_ping":
			fmt.Fprint(w, "OK")
		case strings.HasSuffix(p, "/containers/create"):
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"message":%q}`, driverErr)
		case strings.HasSuffix(p, "/images/create"):
			mu.Lock()
			pulls = append(pulls, r.URL.RawQuery)
			mu.Unlock()
			fmt.Fprint(w, `{"status":"Status: Image is up to date for busybox:latest"}`+"\n")
		case strings.Contains(p, "/images/") && strings.HasSuffix(p, "/json"):
			fmt.Fprint(w, `{"Id":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","RepoTags":["busybox:latest"]}`)
		default:
			w.WriteHeader(http.StatusNotImplemented)
			fmt.Fprintf(w, `{"message":"fake engine: %s %s"}`, r.Method, p)
		}
	}))
	t.Cleanup(srv.Close)
	m := newManager(t, "tcp://"+strings.TrimPrefix(srv.URL, "http://"))

	_, err := m.Run(t.Context(), RunSpec{
		Config: &container.Config{Image: "busybox:latest"},
		Host: &container.HostConfig{NetworkMode: "none", Mounts: []mount.Mount{{
			Type:          mount.TypeVolume,
			Target:        "/data",
			VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: "dmt-nosuchdriver"}},
		}}},
	}, nil)
	if err == nil || !strings.Contains(err.Error(), "dmt-nosuchdriver") {
		t.Errorf("Run = %v, want the engine's error about the volume driver", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pulls) != 0 {
		t.Errorf("Run pulled an image the engine has (%q), because create said not found about a volume driver", pulls)
	}
}

// TestRunStartFails: a container that cannot start is left created, and
// Run returns its ID with the error.
func TestRunStartFails(t *testing.T) {
	e := newEnv(t)
	id, err := e.m.Run(t.Context(), RunSpec{
		Name:   testenv.Name("nostart"),
		Config: &container.Config{Image: testenv.BusyboxImage(t, e.c), Cmd: []string{"/dmt-no-such-binary"}, Labels: map[string]string{testenv.LabelKey: e.label}},
		Host:   &container.HostConfig{NetworkMode: "none"},
	}, nil)
	if err == nil {
		t.Fatal("Run of a missing binary succeeded")
	}
	if id == "" {
		t.Fatalf("Run returned no ID with %v", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "start: ") || !strings.Contains(msg, "dmt-no-such-binary") {
		t.Errorf("err = %q", msg)
	}
	if st := e.inspect(t, id).State; st.Running || st.Status == container.StateRunning {
		t.Errorf("state %q", st.Status)
	}
}
