package shell

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
)

// runID checks that run printed exactly one full container ID and returns it.
func runID(t *testing.T, r result) string {
	t.Helper()
	r.ok(t)
	id := strings.TrimSuffix(r.out, "\n")
	if !fullIDRE.MatchString(id) || r.out != id+"\n" {
		t.Fatalf("%q printed %q, want the full 64-hex ID on one line", r.line, r.out)
	}
	return id
}

// logsOf is the container's standard output, through the shell.
func logsOf(t *testing.T, f *fixture, id string) string {
	t.Helper()
	s := newSession(f.eng, Options{})
	r := s.exec(t, "logs "+id)
	if r.failed {
		t.Fatalf("logs %s failed: %s", id, r.errOut)
	}
	return r.out
}

func TestRunFlags(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "greeting"), []byte("hello from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(dir, "env")
	if err := os.WriteFile(envFile, []byte("# a comment\n\nFROM_FILE=yes\n   INDENTED=ok\nWITH_EQ=a=b\nOVERRIDE=file\n  # indented comment\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vol := testenv.Name("vol")
	if _, err := f.c.VolumeCreate(context.Background(), client.VolumeCreateOptions{Name: vol, Labels: map[string]string{testenv.LabelKey: f.value}}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		flags string
		cmd   string // default: sleeperCmd
		check func(t *testing.T, id string, c container.InspectResponse)
	}{
		{name: "detach name label network", flags: "-d", check: func(t *testing.T, id string, c container.InspectResponse) {
			if !c.State.Running || c.Config.Labels[testenv.LabelKey] != f.value || c.HostConfig.NetworkMode != "none" {
				t.Errorf("running=%v labels=%v network=%s", c.State.Running, c.Config.Labels, c.HostConfig.NetworkMode)
			}
			if c.Config.Tty || c.HostConfig.AutoRemove || c.HostConfig.RestartPolicy.Name != "no" {
				t.Errorf("defaults: tty=%v rm=%v restart=%q", c.Config.Tty, c.HostConfig.AutoRemove, c.HostConfig.RestartPolicy.Name)
			}
		}},
		{name: "env", flags: `-e A=1 -e "B=two words" --env C= -e D=x=y`, cmd: "env", check: func(t *testing.T, id string, c container.InspectResponse) {
			for _, kv := range []string{"A=1", "B=two words", "C=", "D=x=y"} {
				if !slices.Contains(c.Config.Env, kv) {
					t.Errorf("Env %q lacks %q", c.Config.Env, kv)
				}
			}
			f.wait(t, id, container.WaitConditionNotRunning)
			if out := logsOf(t, f, id); !strings.Contains(out, "B=two words\n") {
				t.Errorf("the container's env:\n%s", out)
			}
		}},
		{name: "env file", flags: "--env-file " + shellQuote(envFile) + " -e OVERRIDE=flag", cmd: `sh -c 'echo "$FROM_FILE $INDENTED $WITH_EQ $OVERRIDE"'`, check: func(t *testing.T, id string, c container.InspectResponse) {
			for _, kv := range []string{"FROM_FILE=yes", "INDENTED=ok", "WITH_EQ=a=b"} {
				if !slices.Contains(c.Config.Env, kv) {
					t.Errorf("Env %q lacks %q", c.Config.Env, kv)
				}
			}
			for _, kv := range c.Config.Env {
				if strings.Contains(kv, "comment") || strings.HasPrefix(kv, "#") {
					t.Errorf("comment in Env: %q", kv)
				}
			}
			f.wait(t, id, container.WaitConditionNotRunning)
			if out := logsOf(t, f, id); out != "yes ok a=b flag\n" {
				t.Errorf("the container sees %q, want -e to override the file", out)
			}
		}},
		{name: "labels", flags: "-l tier=web --label empty= -l bare", check: func(t *testing.T, id string, c container.InspectResponse) {
			want := map[string]string{"tier": "web", "empty": "", "bare": "", testenv.LabelKey: f.value}
			for k, v := range want {
				if got, ok := c.Config.Labels[k]; !ok || got != v {
					t.Errorf("label %s = %q (present %v), want %q", k, got, ok, v)
				}
			}
		}},
		{name: "restart no", flags: "--restart no", check: restartIs("no", 0)},
		{name: "restart always", flags: "--restart always", check: restartIs("always", 0)},
		{name: "restart unless-stopped", flags: "--restart=unless-stopped", check: restartIs("unless-stopped", 0)},
		{name: "restart on-failure", flags: "--restart on-failure", check: restartIs("on-failure", 0)},
		{name: "restart on-failure:3", flags: "--restart on-failure:3", check: restartIs("on-failure", 3)},
		{name: "workdir", flags: "-w /tmp/work", cmd: "pwd", check: func(t *testing.T, id string, c container.InspectResponse) {
			if c.Config.WorkingDir != "/tmp/work" {
				t.Errorf("WorkingDir %q", c.Config.WorkingDir)
			}
			f.wait(t, id, container.WaitConditionNotRunning)
			if out := logsOf(t, f, id); out != "/tmp/work\n" {
				t.Errorf("pwd printed %q", out)
			}
		}},
		{name: "user", flags: "-u 65534:65534", cmd: "id", check: func(t *testing.T, id string, c container.InspectResponse) {
			if c.Config.User != "65534:65534" {
				t.Errorf("User %q", c.Config.User)
			}
			f.wait(t, id, container.WaitConditionNotRunning)
			if out := logsOf(t, f, id); !strings.HasPrefix(out, "uid=65534") {
				t.Errorf("id printed %q", out)
			}
		}},
		{name: "user long flag", flags: "--user nobody", check: func(t *testing.T, id string, c container.InspectResponse) {
			if c.Config.User != "nobody" {
				t.Errorf("User %q", c.Config.User)
			}
		}},
		{name: "hostname", flags: "-h box1", cmd: "hostname", check: func(t *testing.T, id string, c container.InspectResponse) {
			if c.Config.Hostname != "box1" {
				t.Errorf("Hostname %q", c.Config.Hostname)
			}
			f.wait(t, id, container.WaitConditionNotRunning)
			if out := logsOf(t, f, id); out != "box1\n" {
				t.Errorf("hostname printed %q", out)
			}
		}},
		{name: "entrypoint", flags: "--entrypoint echo", cmd: "from the entrypoint", check: func(t *testing.T, id string, c container.InspectResponse) {
			if !slices.Equal(c.Config.Entrypoint, []string{"echo"}) || !slices.Equal(c.Config.Cmd, []string{"from", "the", "entrypoint"}) {
				t.Errorf("Entrypoint %q Cmd %q", c.Config.Entrypoint, c.Config.Cmd)
			}
			f.wait(t, id, container.WaitConditionNotRunning)
			if out := logsOf(t, f, id); out != "from the entrypoint\n" {
				t.Errorf("printed %q", out)
			}
		}},
		{name: "entrypoint empty", flags: `--entrypoint ""`, cmd: "echo cleared", check: func(t *testing.T, id string, c container.InspectResponse) {
			if len(c.Config.Entrypoint) > 1 || (len(c.Config.Entrypoint) == 1 && c.Config.Entrypoint[0] != "") {
				t.Errorf("Entrypoint %q, want none", c.Config.Entrypoint)
			}
			if c.Path != "echo" {
				t.Errorf("Path %q, want echo", c.Path)
			}
			f.wait(t, id, container.WaitConditionNotRunning)
			if out := logsOf(t, f, id); out != "cleared\n" {
				t.Errorf("printed %q", out)
			}
		}},
		{name: "tty", flags: "-t", check: func(t *testing.T, id string, c container.InspectResponse) {
			if !c.Config.Tty {
				t.Error("Config.Tty is false")
			}
		}},
		{name: "bind ro", flags: "-v " + shellQuote(dir+":/data:ro"), cmd: `sh -c 'cat /data/greeting; touch /data/new && echo WROTE'`, check: func(t *testing.T, id string, c container.InspectResponse) {
			if len(c.Mounts) != 1 || c.Mounts[0].Type != mount.TypeBind || c.Mounts[0].Source != dir || c.Mounts[0].Destination != "/data" || c.Mounts[0].RW {
				t.Errorf("Mounts %+v, want %s read-only at /data", c.Mounts, dir)
			}
			f.wait(t, id, container.WaitConditionNotRunning)
			if out := logsOf(t, f, id); out != "hello from the host\n" {
				t.Errorf("printed %q, want the file and no write", out)
			}
			if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
				t.Error("the container wrote through a read-only bind")
			}
		}},
		{name: "bind rw", flags: "--volume " + shellQuote(dir+":/data"), cmd: "touch /data/from-container", check: func(t *testing.T, id string, c container.InspectResponse) {
			if len(c.Mounts) != 1 || !c.Mounts[0].RW {
				t.Errorf("Mounts %+v", c.Mounts)
			}
			if code := f.wait(t, id, container.WaitConditionNotRunning); code != 0 {
				t.Errorf("touch exited %d", code)
			}
			if _, err := os.Stat(filepath.Join(dir, "from-container")); err != nil {
				t.Errorf("file written in the container: %v", err)
			}
		}},
		{name: "anonymous volume", flags: "-v /anon", check: func(t *testing.T, id string, c container.InspectResponse) {
			if len(c.Mounts) != 1 || c.Mounts[0].Type != mount.TypeVolume || c.Mounts[0].Destination != "/anon" || c.Mounts[0].Name == "" {
				t.Errorf("Mounts %+v, want an anonymous volume at /anon", c.Mounts)
			}
		}},
		{name: "mount bind", flags: "--mount " + shellQuote("type=bind,source="+dir+",target=/b,readonly"), cmd: "cat /b/greeting", check: func(t *testing.T, id string, c container.InspectResponse) {
			want := mount.Mount{Type: mount.TypeBind, Source: dir, Target: "/b", ReadOnly: true}
			if len(c.HostConfig.Mounts) != 1 || c.HostConfig.Mounts[0] != want {
				t.Errorf("HostConfig.Mounts %+v, want %+v", c.HostConfig.Mounts, want)
			}
			f.wait(t, id, container.WaitConditionNotRunning)
			if out := logsOf(t, f, id); out != "hello from the host\n" {
				t.Errorf("printed %q", out)
			}
		}},
		{name: "mount volume", flags: "--mount type=volume,src=" + vol + ",dst=/v", check: func(t *testing.T, id string, c container.InspectResponse) {
			if len(c.Mounts) != 1 || c.Mounts[0].Type != mount.TypeVolume || c.Mounts[0].Name != vol || c.Mounts[0].Destination != "/v" || !c.Mounts[0].RW {
				t.Errorf("Mounts %+v, want volume %s at /v", c.Mounts, vol)
			}
		}},
		{name: "mount tmpfs", flags: "--mount type=tmpfs,destination=/t", cmd: `sh -c 'grep " /t tmpfs " /proc/mounts'`, check: func(t *testing.T, id string, c container.InspectResponse) {
			if len(c.HostConfig.Mounts) != 1 || c.HostConfig.Mounts[0].Type != mount.TypeTmpfs || c.HostConfig.Mounts[0].Target != "/t" {
				t.Errorf("HostConfig.Mounts %+v", c.HostConfig.Mounts)
			}
			if code := f.wait(t, id, container.WaitConditionNotRunning); code != 0 {
				t.Errorf("no tmpfs at /t in the container (grep exited %d)", code)
			}
		}},
		{name: "command keeps its flags", flags: "", cmd: "sh -c 'echo $0 $1' -x --rm", check: func(t *testing.T, id string, c container.InspectResponse) {
			if !slices.Equal(c.Config.Cmd, []string{"sh", "-c", "echo $0 $1", "-x", "--rm"}) || c.HostConfig.AutoRemove {
				t.Errorf("Cmd %q AutoRemove %v: flags after the image must go to the container", c.Config.Cmd, c.HostConfig.AutoRemove)
			}
		}},
	}
	s := newSession(f.eng, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := testenv.Name("run")
			cmd := tt.cmd
			if cmd == "" {
				cmd = sleeperCmd
			}
			id := runID(t, s.exec(t, fmt.Sprintf("run %s --name %s %s %s %s", f.runOpts(), name, tt.flags, f.img, cmd)))
			c := f.inspect(t, id)
			if c.Name != "/"+name || c.Config.Image != f.img {
				t.Errorf("Name %q Image %q", c.Name, c.Config.Image)
			}
			tt.check(t, id, c)
		})
	}
}

func restartIs(name string, retries int) func(t *testing.T, id string, c container.InspectResponse) {
	return func(t *testing.T, id string, c container.InspectResponse) {
		p := c.HostConfig.RestartPolicy
		if string(p.Name) != name || p.MaximumRetryCount != retries {
			t.Errorf("RestartPolicy %+v, want %s with %d retries", p, name, retries)
		}
	}
}

// TestRunEnvFromEnvironment: a bare -e KEY copies KEY from dockman's own
// environment; an unset one is sent bare, as docker sends it: the engine
// keeps it in Config.Env and out of the process's environment. Not
// parallel: it sets the process environment.
func TestRunEnvFromEnvironment(t *testing.T) {
	t.Setenv("DMT_COPIED", "from the shell's env")
	os.Unsetenv("DMT_UNSET_VAR")
	f := newFixture(t)
	s := newSession(f.eng, Options{})
	id := runID(t, s.exec(t, fmt.Sprintf("run %s -e DMT_COPIED -e DMT_UNSET_VAR %s env", f.runOpts(), f.img)))
	c := f.inspect(t, id)
	if !slices.Contains(c.Config.Env, "DMT_COPIED=from the shell's env") {
		t.Errorf("Env %q lacks DMT_COPIED copied from the environment", c.Config.Env)
	}
	if !slices.Contains(c.Config.Env, "DMT_UNSET_VAR") {
		t.Errorf("Env %q lacks the unset DMT_UNSET_VAR, bare, as docker sends it", c.Config.Env)
	}
	f.wait(t, id, container.WaitConditionNotRunning)
	if out := logsOf(t, f, id); !strings.Contains(out, "DMT_COPIED=from the shell's env\n") || strings.Contains(out, "DMT_UNSET_VAR") {
		t.Errorf("container env:\n%s", out)
	}
}

func TestRunRemove(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := newSession(f.eng, Options{})
	id := runID(t, s.exec(t, fmt.Sprintf("run %s --rm %s true", f.runOpts(), f.img)))
	f.wait(t, id, container.WaitConditionRemoved)
	if f.exists(t, id) {
		t.Errorf("container %s still there after it exited with --rm", id[:12])
	}
}

func TestRunBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	dir := t.TempDir()
	badEnv := filepath.Join(dir, "bad.env")
	if err := os.WriteFile(badEnv, []byte("# fine\nGOOD=1\nBAD NAME=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noName := filepath.Join(dir, "noname.env")
	if err := os.WriteFile(noName, []byte("\n\n\n\n=value\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  string
		wants []string
	}{
		{name: "no image", args: "", wants: []string{"run: requires at least 1 argument"}},
		{name: "empty image", args: `""`, wants: []string{"image name is empty"}},
		{name: "bad restart", args: "--restart sometimes IMG", wants: []string{`bad restart policy "sometimes"`}},
		{name: "restart count not a number", args: "--restart on-failure:x IMG", wants: []string{`"on-failure:x"`}},
		{name: "restart negative count", args: "--restart on-failure:-1 IMG", wants: []string{`"on-failure:-1"`}},
		{name: "restart count on always", args: "--restart always:3 IMG", wants: []string{`"always:3"`}},
		{name: "restart with rm", args: "--rm --restart always IMG", wants: []string{"conflicting options", "--restart", "--rm"}},
		{name: "alias without network", args: "--network-alias web IMG", wants: []string{"--network-alias", "user-defined network"}},
		{name: "port not a number", args: "-p abc IMG", wants: []string{`bad port spec "abc"`}},
		{name: "port too many colons", args: "-p 1:2:3:4 IMG", wants: []string{`bad port spec "1:2:3:4"`}},
		{name: "host port out of range", args: "-p 127.0.0.1:70000:80 IMG", wants: []string{`bad port spec "127.0.0.1:70000:80"`, "70000"}},
		{name: "container port out of range", args: "-p 127.0.0.1:8080:70000 IMG", wants: []string{`bad port spec "127.0.0.1:8080:70000"`}},
		{name: "bad protocol", args: "-p 127.0.0.1:8080:80/http IMG", wants: []string{`bad port spec "127.0.0.1:8080:80/http"`}},
		{name: "bad ip", args: "-p 300.1.1.1:8080:80 IMG", wants: []string{"invalid IP address: 300.1.1.1"}},
		{name: "unclosed ipv6", args: "-p [::1:8080:80 IMG", wants: []string{"bad port spec", "missing ']'"}},
		{name: "volume relative", args: "-v data IMG", wants: []string{`bad volume "data"`}},
		{name: "volume relative destination", args: "-v /tmp:data IMG", wants: []string{`bad volume "/tmp:data"`, "absolute"}},
		{name: "volume bad option", args: "-v /tmp:/data:rx IMG", wants: []string{`unknown option "rx"`}},
		{name: "volume empty source", args: "-v :/data IMG", wants: []string{"empty source"}},
		{name: "mount bad type", args: "--mount type=nfs,target=/x IMG", wants: []string{"bad mount", "type must be bind, volume or tmpfs"}},
		{name: "mount no target", args: "--mount type=volume,source=v IMG", wants: []string{"bad mount", "target is required"}},
		{name: "mount bind without source", args: "--mount type=bind,target=/x IMG", wants: []string{"bad mount", "needs a source"}},
		{name: "mount tmpfs with source", args: "--mount type=tmpfs,source=/tmp,target=/x IMG", wants: []string{"bad mount", "tmpfs takes no source"}},
		{name: "mount unknown key", args: "--mount type=bind,source=/tmp,target=/x,colour=red IMG", wants: []string{"bad mount", `unknown key "colour"`}},
		{name: "mount bad readonly", args: "--mount type=bind,source=/tmp,target=/x,readonly=perhaps IMG", wants: []string{"bad mount", "readonly"}},
		{name: "env without name", args: "-e =x IMG", wants: []string{"bad environment variable", `"=x"`}},
		{name: "env without a name", args: `-e "=1" IMG`, wants: []string{"bad environment variable", "no name"}},
		{name: "env file bad line", args: "--env-file " + shellQuote(badEnv) + " IMG", wants: []string{badEnv, "line 3", "BAD NAME=2"}},
		{name: "env file line without name", args: "--env-file " + shellQuote(noName) + " IMG", wants: []string{"line 5"}},
		{name: "env file missing", args: "--env-file " + shellQuote(filepath.Join(dir, "missing.env")) + " IMG", wants: []string{"missing.env"}},
		{name: "label without key", args: "-l =x IMG", wants: []string{`bad label "=x"`}},
		{name: "unknown flag", args: "--privileged IMG", wants: []string{"unknown flag: --privileged"}},
		{name: "restart value missing", args: "--restart", wants: []string{"flag needs an argument"}},
	}
	s := newSession(f.eng, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := strings.ReplaceAll(tt.args, "IMG", f.img+" true")
			r := s.exec(t, "run "+f.runOpts()+" "+args)
			r.oneError(t, append([]string{"run:"}, tt.wants...)...)
			if r.out != "" {
				t.Errorf("stdout %q", r.out)
			}
		})
	}
	if ids := f.ids(t); len(ids) != 0 {
		t.Errorf("bad run lines created %d containers", len(ids))
	}
}

// TestRunEngineRefuses: errors only the engine finds are one line too, and
// name what went wrong.
func TestRunEngineRefuses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := newSession(f.eng, Options{})
	name := testenv.Name("dup")
	runID(t, s.exec(t, fmt.Sprintf("run %s --name %s %s %s", f.runOpts(), name, f.img, sleeperCmd)))
	s.exec(t, fmt.Sprintf("run %s --name %s %s true", f.runOpts(), name, f.img)).oneError(t, "run:", name)
	s.exec(t, fmt.Sprintf("run -l %s --network dmt-no-such-net %s true", f.label(), f.img)).oneError(t, "run:", "dmt-no-such-net")
	// Created but not started: the ID is named, and the container is left
	// in place as docker leaves it. The 20.10 engine checks the network
	// only at start, too.
	r := s.exec(t, fmt.Sprintf("run %s %s /no/such/binary", f.runOpts(), f.img))
	r.oneError(t, "run: container ", "created but", "/no/such/binary")
	if ids := f.ids(t); len(ids) != 3 {
		t.Errorf("%d containers, want the first and the two that failed to start", len(ids))
	}
}

// newNetwork creates a user-defined bridge network carrying the test label;
// the label's cleanup removes it after the containers.
func newNetwork(t *testing.T, f *fixture) string {
	t.Helper()
	name := testenv.Name("net")
	if _, err := f.c.NetworkCreate(context.Background(), name, client.NetworkCreateOptions{
		Driver: "bridge",
		Labels: map[string]string{testenv.LabelKey: f.value},
	}); err != nil {
		t.Fatal(err)
	}
	return name
}

// freePort returns a port nothing listens on at 127.0.0.1 right now.
func freePort(t *testing.T, proto string) int {
	t.Helper()
	if proto == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestRunPublish(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	netName := newNetwork(t, f)
	s := newSession(f.eng, Options{})
	tcpPort, udpPort := freePort(t, "tcp"), freePort(t, "udp")

	tests := []struct {
		name     string
		spec     string
		port     string // container port/proto
		hostPort int    // 0: any port the engine picks
	}{
		{name: "fixed tcp", spec: fmt.Sprintf("127.0.0.1:%d:80", tcpPort), port: "80/tcp", hostPort: tcpPort},
		{name: "fixed udp", spec: fmt.Sprintf("127.0.0.1:%d:53/udp", udpPort), port: "53/udp", hostPort: udpPort},
		{name: "empty host port", spec: "127.0.0.1::8080/tcp", port: "8080/tcp"},
		{name: "host port 0", spec: "127.0.0.1:0:8081", port: "8081/tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := testenv.Name("pub")
			id := runID(t, s.exec(t, fmt.Sprintf("run --network %s -l %s --name %s -p %s %s %s", netName, f.label(), name, tt.spec, f.img, sleeperCmd)))
			c := f.inspect(t, id)
			port := network.MustParsePort(tt.port)
			if _, ok := c.Config.ExposedPorts[port]; !ok {
				t.Errorf("ExposedPorts %v lacks %s", c.Config.ExposedPorts, tt.port)
			}
			bound := c.NetworkSettings.Ports[port]
			if len(bound) != 1 || bound[0].HostIP.String() != "127.0.0.1" {
				t.Fatalf("%s bound to %+v, want one binding on 127.0.0.1", tt.port, bound)
			}
			got, err := strconv.Atoi(bound[0].HostPort)
			if err != nil || got == 0 || (tt.hostPort != 0 && got != tt.hostPort) {
				t.Errorf("host port %q, want %d (0: any)", bound[0].HostPort, tt.hostPort)
			}
			r := s.exec(t, "ps -f name="+name+f.mine()).ok(t)
			tb := parseTable(t, r.out)
			if want := fmt.Sprintf("127.0.0.1:%d->%s", got, tt.port); len(tb.rows) != 1 || tb.rows[0][tb.col(t, "PORTS")] != want {
				t.Errorf("PORTS column, want %q:\n%s", want, r.out)
			}
		})
	}

	t.Run("several", func(t *testing.T) {
		name := testenv.Name("pub")
		p1, p2 := freePort(t, "tcp"), freePort(t, "tcp")
		runID(t, s.exec(t, fmt.Sprintf("run --network %s -l %s --name %s -p 127.0.0.1:%d:90 -p 127.0.0.1:%d:91/tcp %s %s", netName, f.label(), name, p2, p1, f.img, sleeperCmd)))
		r := s.exec(t, "ps -f name="+name+f.mine()).ok(t)
		tb := parseTable(t, r.out)
		if want := fmt.Sprintf("127.0.0.1:%d->90/tcp, 127.0.0.1:%d->91/tcp", p2, p1); len(tb.rows) != 1 || tb.rows[0][tb.col(t, "PORTS")] != want {
			t.Errorf("PORTS column, want %q:\n%s", want, r.out)
		}
	})
}

func TestRunNetworkAlias(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	netName := newNetwork(t, f)
	s := newSession(f.eng, Options{})
	id := runID(t, s.exec(t, fmt.Sprintf("run --network %s --network-alias web --network-alias www -l %s %s %s", netName, f.label(), f.img, sleeperCmd)))
	c := f.inspect(t, id)
	if c.HostConfig.NetworkMode != container.NetworkMode(netName) {
		t.Errorf("NetworkMode %q, want %s", c.HostConfig.NetworkMode, netName)
	}
	ep := c.NetworkSettings.Networks[netName]
	if ep == nil {
		t.Fatalf("not attached to %s: %v", netName, c.NetworkSettings.Networks)
	}
	for _, a := range []string{"web", "www"} {
		if !slices.Contains(ep.Aliases, a) {
			t.Errorf("aliases %q lack %q", ep.Aliases, a)
		}
	}
}

// TestRunPull: an image that is not present is pulled from a registry
// (Debian's docker-registry on 127.0.0.1) with progress on stderr, then run.
func TestRunPull(t *testing.T) {
	t.Parallel()
	c := testenv.Client(t)
	src := testenv.BusyboxImage(t, c)
	addr := testenv.Registry(t)
	ref := addr + "/dmt/pull-" + strings.TrimPrefix(testenv.Name("x"), "dmt-x-") + ":v1"
	testenv.PushToRegistry(t, c, src, ref)
	// After the push: the label's cleanup (containers) then runs before
	// PushToRegistry's (the image tag).
	f := newFixture(t)

	t.Run("pulled", func(t *testing.T) {
		_, _ = c.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{})
		s := newSession(f.eng, Options{})
		r := s.exec(t, fmt.Sprintf("run %s %s echo pulled", f.runOpts(), ref))
		if r.failed {
			t.Fatalf("run failed:\nstderr: %s\nstdout: %s", r.errOut, r.out)
		}
		// stdout holds just the ID, so id=$(dockman -c 'run ...') works;
		// the progress goes to stderr, as docker's does.
		id := strings.TrimSpace(r.out)
		if !fullIDRE.MatchString(id) {
			t.Fatalf("stdout %q is not just the container ID", r.out)
		}
		for _, w := range []string{"Pulling from dmt/pull-", "Digest: sha256:", "Status: Downloaded newer image for " + ref} {
			if !strings.Contains(r.errOut, w) {
				t.Errorf("progress lacks %q:\n%s", w, r.errOut)
			}
		}
		if strings.Contains(r.errOut, "\x1b") {
			t.Errorf("escape codes in progress to a non-terminal:\n%q", r.errOut)
		}
		ctr := f.inspect(t, id)
		if ctr.Config.Image != ref {
			t.Errorf("image %q, want %q", ctr.Config.Image, ref)
		}
		f.wait(t, id, container.WaitConditionNotRunning)
		if out := logsOf(t, f, id); out != "pulled\n" {
			t.Errorf("container printed %q", out)
		}
	})

	t.Run("present image is not pulled", func(t *testing.T) {
		s := newSession(f.eng, Options{})
		runID(t, s.exec(t, fmt.Sprintf("run %s %s true", f.runOpts(), ref)))
	})

	t.Run("missing in registry", func(t *testing.T) {
		missing := addr + "/dmt/not-pushed:v9"
		s := newSession(f.eng, Options{})
		r := s.exec(t, fmt.Sprintf("run %s %s true", f.runOpts(), missing))
		r.oneError(t, "run:", missing)
		if strings.Contains(r.out, "Downloaded") {
			t.Errorf("stdout %q", r.out)
		}
	})
}
