package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

func TestHost(t *testing.T) {
	t.Setenv("DOCKER_HOST", "")
	if got := Host(); got != "unix:///var/run/docker.sock" {
		t.Errorf("Host() without DOCKER_HOST = %q", got)
	}
	t.Setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
	if got := Host(); got != "tcp://127.0.0.1:1" {
		t.Errorf("Host() with DOCKER_HOST = %q", got)
	}
}

func TestName(t *testing.T) {
	re := regexp.MustCompile(`^dmt-web-[0-9a-f]{6}$`)
	seen := map[string]bool{}
	for range 100 {
		n := Name("web")
		if !re.MatchString(n) {
			t.Fatalf("Name(web) = %q, want dmt-web-<6 hex>", n)
		}
		if seen[n] {
			t.Fatalf("Name returned %q twice", n)
		}
		seen[n] = true
	}
}

func TestEmptyRegistryAuth(t *testing.T) {
	b, err := base64.URLEncoding.DecodeString(EmptyRegistryAuth())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("EmptyRegistryAuth decodes to %q: %v", b, err)
	}
}

func TestCheckStatic(t *testing.T) {
	if err := checkStatic(busyboxPath); err != nil {
		t.Errorf("checkStatic(%s): %v", busyboxPath, err)
	}
	// The race-enabled test binary itself uses cgo, so it is dynamic.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/bin/ls", exe} {
		if err := checkStatic(p); err == nil {
			t.Logf("%s looks static; not a counter-example here", p)
		} else {
			t.Logf("checkStatic(%s) = %v (as expected)", p, err)
		}
	}
	if err := checkStatic("/etc/hostname"); err == nil {
		t.Error("checkStatic accepted a non-ELF file")
	}
}

func TestBusyboxRootfsDeterministic(t *testing.T) {
	a, err := busyboxRootfs(busyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	b, err := busyboxRootfs(busyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("busyboxRootfs is not deterministic")
	}
	if _, err := busyboxRootfs("/nonexistent/busybox"); err == nil {
		t.Fatal("busyboxRootfs accepted a missing binary")
	}
}

func TestClient(t *testing.T) {
	c := Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := c.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("engine %s (API %s) at %s; client negotiated API %s", v.Version, v.APIVersion, Host(), c.ClientVersion())
}

func TestClientUnreachable(t *testing.T) {
	if testing.Short() {
		t.Skip("with -short, Client skips before it looks for an engine")
	}
	if ciMode() {
		t.Skip("with CI set, Client fails instead of skipping; nothing to observe here")
	}
	// Drive Client in a subprocess-free way: a fake TB records Skip.
	l, err := net.Listen("unix", t.TempDir()+"/nobody.sock")
	if err != nil {
		t.Fatal(err)
	}
	path := l.Addr().String()
	l.Close() // now nothing listens: connection refused
	t.Setenv("DOCKER_HOST", "unix://"+path)

	pingMu.Lock()
	saved := pingFailed
	pingFailed = nil
	pingMu.Unlock()
	defer func() {
		pingMu.Lock()
		pingFailed = saved
		pingMu.Unlock()
	}()

	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { ft.runCleanups() }()
		Client(ft)
	}()
	<-done
	if !ft.skipped || ft.failed {
		t.Fatalf("Client against a dead socket: skipped=%v failed=%v msg=%q", ft.skipped, ft.failed, ft.msg)
	}
	if !strings.Contains(ft.msg, "no Docker engine") {
		t.Errorf("skip message %q does not say the engine is missing", ft.msg)
	}
}

// fakeTB intercepts Skip/Fatal (which call runtime.Goexit) and Cleanup.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	skipped  bool
	failed   bool
	msg      string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	f.cleanups = append(f.cleanups, fn)
	f.mu.Unlock()
}
func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestBusyboxImage(t *testing.T) {
	c := Client(t)
	// Many concurrent callers: one import, the same answer for all.
	var wg sync.WaitGroup
	refs := make([]string, 8)
	for i := range refs {
		wg.Go(func() { refs[i] = BusyboxImage(t, c) })
	}
	wg.Wait()
	for _, r := range refs {
		if r != BusyboxRef {
			t.Fatalf("BusyboxImage returned %q, want %q", r, BusyboxRef)
		}
	}

	ctx := context.Background()
	img, err := c.ImageInspect(ctx, BusyboxRef)
	if err != nil {
		t.Fatal(err)
	}
	if img.Config == nil {
		t.Fatal("image has no config")
	}
	if !slices.Equal(img.Config.Cmd, []string{"/bin/sh"}) {
		t.Errorf("Cmd = %q, want [/bin/sh]", img.Config.Cmd)
	}
	if !slices.Contains(img.Config.Env, "PATH=/bin") {
		t.Errorf("Env = %q, want PATH=/bin", img.Config.Env)
	}
	if img.Config.Labels[contentLabel] == "" {
		t.Errorf("Labels = %v, want %s", img.Config.Labels, contentLabel)
	}

}

// TestEnsureBusybox exercises import and reuse on a throwaway reference, so
// that the shared BusyboxRef is never removed under other packages' tests.
func TestEnsureBusybox(t *testing.T) {
	c := Client(t)
	ctx := context.Background()
	ref := "dockman-test/busybox-" + randHex(8) + ":t"
	t.Cleanup(func() { c.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{Force: true}) })
	imported, err := ensureBusybox(ctx, c, ref)
	if err != nil || !imported {
		t.Fatalf("first ensureBusybox: imported=%v err=%v", imported, err)
	}
	imported, err = ensureBusybox(ctx, c, ref)
	if err != nil || imported {
		t.Fatalf("second ensureBusybox: imported=%v err=%v (want reuse)", imported, err)
	}
	// A same-named image with other content (an older helper's) is replaced.
	if _, err := c.ImageRemove(ctx, ref, client.ImageRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "stale", Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.Close()
	resp, err := c.ImageImport(ctx, client.ImageImportSource{Source: &buf, SourceName: "-"}, ref, client.ImageImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := drainJSONStream(resp); err != nil {
		t.Fatal(err)
	}
	resp.Close()
	stale, err := c.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.ImageRemove(context.Background(), stale.ID, client.ImageRemoveOptions{Force: true}) })
	imported, err = ensureBusybox(ctx, c, ref)
	if err != nil || !imported {
		t.Fatalf("ensureBusybox over a stale image: imported=%v err=%v (want import)", imported, err)
	}
	img, err := c.ImageInspect(ctx, ref)
	if err != nil || img.Config == nil || img.Config.Labels[contentLabel] == "" {
		t.Fatalf("after re-import: %v %+v", err, img.Config)
	}
}

// waitExit waits for the container to exit and returns its exit code.
func waitExit(t *testing.T, c *client.Client, id string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := c.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-w.Result:
		if r.Error != nil {
			t.Fatalf("wait %s: %s", id, r.Error.Message)
		}
		return r.StatusCode
	case err := <-w.Error:
		t.Fatalf("wait %s: %v", id, err)
	}
	return -1
}

func logsOf(t *testing.T, c *client.Client, id string) (stdout, stderr string) {
	t.Helper()
	rc, err := c.ContainerLogs(context.Background(), id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var o, e bytes.Buffer
	if _, err := stdcopy.StdCopy(&o, &e, rc); err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String()
}

func TestRunContainer(t *testing.T) {
	c := Client(t)
	key, value := Label(t, c)
	if key != "dockman.test" || value == "" {
		t.Fatalf("Label = %q, %q", key, value)
	}
	name := Name("run")
	id := RunContainer(t, c, value, name, "sh", "-c", "echo hello; seq 3; echo oops >&2; id -un; exit 3")
	if len(id) != 64 {
		t.Errorf("RunContainer returned %q, want a full ID", id)
	}
	if code := waitExit(t, c, id); code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
	out, errOut := logsOf(t, c, id)
	if out != "hello\n1\n2\n3\nroot\n" || errOut != "oops\n" {
		t.Errorf("stdout %q stderr %q", out, errOut)
	}

	ins, err := c.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ins.Container.Name != "/"+name {
		t.Errorf("name %q, want /%s", ins.Container.Name, name)
	}
	if ins.Container.HostConfig.NetworkMode != "none" {
		t.Errorf("network mode %q", ins.Container.HostConfig.NetworkMode)
	}
	if ins.Container.Config.Labels[key] != value {
		t.Errorf("labels %v", ins.Container.Config.Labels)
	}
}

func TestLabelCleanup(t *testing.T) {
	c := Client(t)
	var value string
	var ids []string
	t.Run("inner", func(t *testing.T) {
		_, value = Label(t, c)
		// One running and one exited container from RunContainer, plus one
		// created but never started: Label's cleanup must remove them all.
		ids = append(ids, RunContainer(t, c, value, Name("lbl"), "sleep", "600"))
		ids = append(ids, RunContainer(t, c, value, Name("lbl"), "true"))
		created, err := c.ContainerCreate(context.Background(), client.ContainerCreateOptions{
			Name:       Name("lbl"),
			Config:     &container.Config{Image: BusyboxImage(t, c), Cmd: []string{"true"}, Labels: map[string]string{LabelKey: value}},
			HostConfig: &container.HostConfig{NetworkMode: "none"},
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, created.ID)
	})
	list, err := c.ContainerList(context.Background(), client.ContainerListOptions{
		All:     true,
		Filters: make(client.Filters).Add("label", LabelKey+"="+value),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Fatalf("%d containers left with label %s after cleanup", len(list.Items), value)
	}
	for _, id := range ids {
		if _, err := c.ContainerInspect(context.Background(), id, client.ContainerInspectOptions{}); !cerrdefs.IsNotFound(err) {
			t.Errorf("container %s still there (err=%v)", id[:12], err)
		}
	}
}

func TestRegistryPushPull(t *testing.T) {
	c := Client(t)
	_, value := Label(t, c)
	src := BusyboxImage(t, c)
	addr := Registry(t)
	if !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(addr) {
		t.Fatalf("Registry() = %q", addr)
	}
	ref := addr + "/dmt/busybox:v1"
	PushToRegistry(t, c, src, ref)

	ctx := context.Background()
	if _, err := c.ImageInspect(ctx, ref); !cerrdefs.IsNotFound(err) {
		t.Fatalf("local tag %s still there after push (err=%v)", ref, err)
	}
	if _, err := c.ImageInspect(ctx, src); err != nil {
		t.Fatalf("source image gone after push: %v", err)
	}

	// The registry really holds it.
	var tags struct{ Tags []string }
	getJSON(t, "http://"+addr+"/v2/dmt/busybox/tags/list", &tags)
	if !slices.Contains(tags.Tags, "v1") {
		t.Fatalf("registry tags %v, want v1", tags.Tags)
	}

	// Pull it back over plain http and run it.
	resp, err := c.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	statuses, err := drainJSONStream(resp)
	resp.Close()
	if err != nil {
		t.Fatalf("pull %s: %v", ref, err)
	}
	t.Logf("pull progress: %q", statuses)
	pulled, err := c.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatalf("%s not present after pull: %v", ref, err)
	}
	if len(pulled.RepoDigests) == 0 {
		t.Errorf("pulled image has no repo digest")
	}

	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:       Name("pulled"),
		Config:     &container.Config{Image: ref, Cmd: []string{"echo", "from registry"}, Labels: map[string]string{LabelKey: value}},
		HostConfig: &container.HostConfig{NetworkMode: "none"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	if code := waitExit(t, c, created.ID); code != 0 {
		t.Errorf("exit %d", code)
	}
	if out, _ := logsOf(t, c, created.ID); out != "from registry\n" {
		t.Errorf("stdout %q", out)
	}
}

func TestRegistryCleanup(t *testing.T) {
	var addr string
	t.Run("inner", func(t *testing.T) { addr = Registry(t) })
	if addr == "" {
		t.Skip("registry unavailable")
	}
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
		t.Fatalf("registry %s still listening after cleanup", addr)
	}
}

func TestPushToRegistryError(t *testing.T) {
	c := Client(t)
	src := BusyboxImage(t, c)
	// A closed port: the push must fail, and PushToRegistry must say so.
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	ref := "127.0.0.1:" + strconv.Itoa(port) + "/dmt/nowhere:v1"
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer ft.runCleanups()
		PushToRegistry(ft, c, src, ref)
	}()
	<-done
	if !ft.failed {
		t.Fatalf("PushToRegistry to a closed port did not fail")
	}
	t.Logf("push to closed port: %s", ft.msg)
	if _, err := c.ImageInspect(context.Background(), ref); !cerrdefs.IsNotFound(err) {
		t.Errorf("tag %s left behind (err=%v)", ref, err)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, b)
	}
}

func TestLogGen(t *testing.T) {
	c := Client(t)
	_, value := Label(t, c)
	id := RunLogGen(t, c, value, Name("loggen"), false, "-n", "100", "-streams", "both", "-tag", "web")
	if code := waitExit(t, c, id); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	var wantOut, wantErr strings.Builder
	for i := 1; i <= 100; i++ {
		if i%2 == 1 {
			fmt.Fprintf(&wantOut, "web out %d\n", i)
		} else {
			fmt.Fprintf(&wantErr, "web err %d\n", i)
		}
	}
	out, errOut := logsOf(t, c, id)
	if out != wantOut.String() || errOut != wantErr.String() {
		t.Errorf("stdout %q\nstderr %q", out, errOut)
	}
	if ref := LogGenImage(t, c); ref != LogGenRef {
		t.Errorf("LogGenImage = %q, want %q", ref, LogGenRef)
	}
}

func TestLogGenTTY(t *testing.T) {
	c := Client(t)
	_, value := Label(t, c)
	id := RunLogGen(t, c, value, Name("loggen"), true, "-n", "3", "-streams", "both")
	if code := waitExit(t, c, id); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	// A TTY merges the streams; its log is one raw stream, lines in \r\n.
	rc, err := c.ContainerLogs(context.Background(), id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if want := "loggen out 1\r\nloggen err 2\r\nloggen out 3\r\n"; string(b) != want {
		t.Errorf("log %q, want %q", b, want)
	}
}

// TestLogGenSeqAcrossRestarts: with -seq, a restarted container goes on
// numbering where it stopped; -hold keeps it running until docker stop,
// which it obeys at once with status 0.
func TestLogGenSeqAcrossRestarts(t *testing.T) {
	c := Client(t)
	_, value := Label(t, c)
	ctx := context.Background()
	id := RunLogGen(t, c, value, Name("loggen"), false, "-n", "3", "-seq", "/tmp/seq", "-hold", "-long", "3", "-empty", "2")
	var want strings.Builder
	for run := range 3 {
		if run > 0 {
			if _, err := c.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		for i := run*3 + 1; i <= run*3+3; i++ {
			line := fmt.Sprintf("loggen out %d", i)
			if i%3 == 0 {
				line += " " + strings.Repeat("x", 40000-len(line)-1)
			}
			want.WriteString(line + "\n")
			if i%2 == 0 {
				want.WriteString("\n")
			}
		}
		// Stop only once the lines are out, else it ends before them.
		deadline := time.Now().Add(30 * time.Second)
		for {
			out, _ := logsOf(t, c, id)
			if out == want.String() {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d: log %q, want %q", run, out, want.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		timeout := 30
		if _, err := c.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &timeout}); err != nil {
			t.Fatal(err)
		}
		if code := waitExit(t, c, id); code != 0 {
			t.Fatalf("run %d: exit code %d after docker stop, want 0 (SIGTERM handled)", run, code)
		}
	}
}
