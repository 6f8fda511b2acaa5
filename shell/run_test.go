package shell

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/manager"
)

// specFor parses a run line's arguments (after "run") into a RunSpec.
func specFor(t *testing.T, args ...string) (*runOptions, error) {
	t.Helper()
	fs, o := newRunFlags()
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	_, err := o.spec(fs.Args())
	return o, err
}

// newRunFlags returns run's flags bound to fresh options.
func newRunFlags() (*pflag.FlagSet, *runOptions) {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetInterspersed(false)
	o := &runOptions{}
	o.register(fs)
	return fs, o
}

func TestRunSpec(t *testing.T) {
	t.Setenv("DM_FROM_ENV", "copied")
	envFile := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(envFile, []byte("# comment\n\nA=1\nDM_FROM_ENV\nDM_UNSET_VAR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs, o := newRunFlags()
	args := []string{
		"-d", "--name", "web", "-e", "B=2", "-e", "DM_FROM_ENV", "--env-file", envFile,
		"-p", "127.0.0.1:8080:80", "-p", "53/udp", "-v", "/data:/data:ro", "-v", "/anon",
		"--mount", "type=tmpfs,target=/tmp", "-l", "k=v", "--restart", "on-failure:3",
		"--network", "net1", "--network-alias", "web.local", "-w", "/srv", "-u", "1000:1000",
		"-h", "box", "--entrypoint", "/bin/sh", "-t", "img:1", "-c", "echo hi",
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	spec, err := o.spec(fs.Args())
	if err != nil {
		t.Fatal(err)
	}
	cfg, host := spec.Config, spec.Host
	if spec.Name != "web" || cfg.Image != "img:1" || !reflect.DeepEqual([]string(cfg.Cmd), []string{"-c", "echo hi"}) {
		t.Errorf("name/image/cmd = %q %q %q", spec.Name, cfg.Image, cfg.Cmd)
	}
	if want := []string{"A=1", "DM_FROM_ENV=copied", "B=2", "DM_FROM_ENV=copied"}; !reflect.DeepEqual(cfg.Env, want) {
		t.Errorf("env = %q, want %q", cfg.Env, want)
	}
	p80 := network.MustParsePort("80/tcp")
	if b := host.PortBindings[p80]; len(b) != 1 || b[0].HostIP.String() != "127.0.0.1" || b[0].HostPort != "8080" {
		t.Errorf("port 80 binding = %+v", b)
	}
	if _, ok := cfg.ExposedPorts[network.MustParsePort("53/udp")]; !ok {
		t.Errorf("53/udp not exposed: %v", cfg.ExposedPorts)
	}
	if !reflect.DeepEqual(host.Binds, []string{"/data:/data:ro"}) {
		t.Errorf("binds = %q", host.Binds)
	}
	if _, ok := cfg.Volumes["/anon"]; !ok {
		t.Errorf("anonymous volume missing: %v", cfg.Volumes)
	}
	if len(host.Mounts) != 1 || host.Mounts[0].Type != mount.TypeTmpfs || host.Mounts[0].Target != "/tmp" {
		t.Errorf("mounts = %+v", host.Mounts)
	}
	if cfg.Labels["k"] != "v" {
		t.Errorf("labels = %v", cfg.Labels)
	}
	if host.RestartPolicy != (container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 3}) {
		t.Errorf("restart = %+v", host.RestartPolicy)
	}
	if host.NetworkMode != "net1" || spec.Network == nil || !reflect.DeepEqual(spec.Network.EndpointsConfig["net1"].Aliases, []string{"web.local"}) {
		t.Errorf("network = %q %+v", host.NetworkMode, spec.Network)
	}
	if cfg.WorkingDir != "/srv" || cfg.User != "1000:1000" || cfg.Hostname != "box" || !cfg.Tty {
		t.Errorf("workdir/user/hostname/tty = %q %q %q %v", cfg.WorkingDir, cfg.User, cfg.Hostname, cfg.Tty)
	}
	if !reflect.DeepEqual([]string(cfg.Entrypoint), []string{"/bin/sh"}) {
		t.Errorf("entrypoint = %q", cfg.Entrypoint)
	}
}

func TestRunSpecEntrypoint(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"img"}, nil},
		{[]string{"--entrypoint", "", "img"}, []string{""}},
		{[]string{"--entrypoint", "/x", "img"}, []string{"/x"}},
	} {
		fs, o := newRunFlags()
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		spec, err := o.spec(fs.Args())
		if err != nil {
			t.Fatal(err)
		}
		if got := []string(spec.Config.Entrypoint); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: entrypoint = %q, want %q", tt.args, got, tt.want)
		}
	}
}

func TestRunSpecErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"bad restart", []string{"--restart", "sometimes", "img"}, "bad restart policy"},
		{"restart count on always", []string{"--restart", "always:3", "img"}, "only on-failure"},
		{"bad retry count", []string{"--restart", "on-failure:x", "img"}, "retry count"},
		{"rm with restart", []string{"--rm", "--restart", "always", "img"}, "conflicting options"},
		{"port letters", []string{"-p", "a:b", "img"}, "bad port spec"},
		{"port too many colons", []string{"-p", "1:2:3:4", "img"}, "bad port spec"},
		{"host port range", []string{"-p", "70000:80", "img"}, "invalid hostPort"},
		{"bad ip", []string{"-p", "1.2.3:80:80", "img"}, "invalid IP address"},
		{"bad proto", []string{"-p", "80/xyz", "img"}, "bad port spec"},
		{"open ipv6", []string{"-p", "[::1:80:80", "img"}, "missing ']'"},
		{"ranges differ", []string{"-p", "8000-8002:80-81", "img"}, "invalid ranges"},
		{"range backwards", []string{"-p", "8002-8000", "img"}, "invalid containerPort"},
		{"volume relative dst", []string{"-v", "/a:b", "img"}, "not an absolute path"},
		{"volume bad option", []string{"-v", "/a:/b:xx", "img"}, "unknown option"},
		{"volume empty src", []string{"-v", ":/b", "img"}, "empty source"},
		{"volume relative alone", []string{"-v", "data", "img"}, "bad volume"},
		{"mount no target", []string{"--mount", "type=bind,source=/a", "img"}, "target is required"},
		{"mount bad type", []string{"--mount", "type=nfs,target=/a", "img"}, "type must be"},
		{"mount unknown key", []string{"--mount", "target=/a,color=red", "img"}, "unknown key"},
		{"bind without source", []string{"--mount", "type=bind,target=/a", "img"}, "needs a source"},
		{"tmpfs with source", []string{"--mount", "type=tmpfs,source=x,target=/a", "img"}, "no source"},
		{"bad readonly", []string{"--mount", "target=/a,readonly=maybe", "img"}, "true or false"},
		{"env without name", []string{"-e", "=x", "img"}, "no name"},
		{"env file missing", []string{"--env-file", "/nonexistent/env", "img"}, "env file"},
		{"label without key", []string{"-l", "=v", "img"}, "bad label"},
		{"alias without network", []string{"--network-alias", "a", "img"}, "user-defined network"},
		{"alias on bridge", []string{"--network", "bridge", "--network-alias", "a", "img"}, "user-defined network"},
		{"empty image", []string{""}, "image name is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := specFor(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestParsePublish(t *testing.T) {
	tests := []struct {
		spec, port, ip, host string
	}{
		{"80", "80/tcp", "invalid IP", ""},
		{"8080:80", "80/tcp", "invalid IP", "8080"},
		{"127.0.0.1:8080:80/udp", "80/udp", "127.0.0.1", "8080"},
		{"127.0.0.1::80", "80/tcp", "127.0.0.1", ""},
		{"[::1]:8080:80", "80/tcp", "::1", "8080"},
	}
	for _, tt := range tests {
		exposed, bindings, err := parsePublish([]string{tt.spec})
		if err != nil {
			t.Errorf("%s: %v", tt.spec, err)
			continue
		}
		p := network.MustParsePort(tt.port)
		if _, ok := exposed[p]; !ok {
			t.Errorf("%s: %s not exposed", tt.spec, tt.port)
		}
		b := bindings[p]
		if len(b) != 1 || b[0].HostIP.String() != tt.ip || b[0].HostPort != tt.host {
			t.Errorf("%s: binding = %+v, want ip %s host %q", tt.spec, b, tt.ip, tt.host)
		}
	}
}

// runSpecFor parses args as run's and returns the spec they make.
func runSpecFor(t *testing.T, args ...string) (manager.RunSpec, error) {
	t.Helper()
	fs, o := newRunFlags()
	if err := fs.Parse(args); err != nil {
		return manager.RunSpec{}, err
	}
	return o.spec(fs.Args())
}

func TestRunDockerFlags(t *testing.T) {
	t.Setenv("DM_SET", "v")
	spec, err := runSpecFor(t, "-i", "-e", "DM_SET", "-e", "DM_SURELY_UNSET_42", "-e", "A B=x",
		"-p", "8000-8002:8000-8002", "-p", "127.0.0.1::80", "-p", "127.0.0.1:9000:9000/udp", "img")
	if err != nil {
		t.Fatal(err)
	}
	// docker sends an unset variable bare: the engine keeps it in
	// Config.Env and leaves it out of the process's environment.
	if want := []string{"DM_SET=v", "DM_SURELY_UNSET_42", "A B=x"}; !reflect.DeepEqual(spec.Config.Env, want) {
		t.Errorf("env = %q, want %q", spec.Config.Env, want)
	}
	got := map[string]string{}
	for p, bs := range spec.Host.PortBindings {
		for _, b := range bs {
			ip := ""
			if b.HostIP.IsValid() {
				ip = b.HostIP.String()
			}
			got[p.String()] = ip + ":" + b.HostPort
		}
	}
	want := map[string]string{
		"8000/tcp": ":8000", "8001/tcp": ":8001", "8002/tcp": ":8002",
		"80/tcp": "127.0.0.1:", "9000/udp": "127.0.0.1:9000",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("bindings = %v, want %v", got, want)
	}
	if len(spec.Config.ExposedPorts) != len(want) {
		t.Errorf("exposed = %v", spec.Config.ExposedPorts)
	}
	// One container port and a host range: the engine picks a free one.
	spec, err = runSpecFor(t, "-p", "8000-8010:80", "img")
	if err != nil {
		t.Fatal(err)
	}
	if b := spec.Host.PortBindings[network.MustParsePort("80/tcp")]; len(b) != 1 || b[0].HostPort != "8000-8010" {
		t.Errorf("host range for one port: %+v", b)
	}
}
