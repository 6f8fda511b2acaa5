// Package testenv holds helpers shared by the integration tests of every
// package: a client for the real engine, locally built busybox and loggen
// images, per-test labels and cleanup, containers, and a throwaway local
// registry.
//
// Nothing here pulls from the internet: the busybox image is imported from
// the host's static /bin/busybox (Debian's busybox-static), the loggen image
// adds the line generator in ./loggen built from this module, and the
// registry is Debian's docker-registry binary listening on 127.0.0.1.
package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/authconfig"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
)

const (
	// LabelKey is the label every test resource carries; its value is unique
	// per test (see Label).
	LabelKey = "dockman.test"

	// BusyboxRef is the reference BusyboxImage makes sure exists.
	BusyboxRef = "dockman-test/busybox:latest"

	// busyboxPath is where Debian's busybox-static installs its binary.
	busyboxPath = "/bin/busybox"

	// contentLabel is set on the imported image to the hash of the rootfs
	// tar, so an image left by an earlier run is reused only when it holds
	// exactly what this code would build.
	contentLabel = "dockman.testenv.content"

	// registryBin is Debian's docker-registry (distribution v2).
	registryBin = "/usr/bin/docker-registry"

	pingTimeout = 5 * time.Second
	opTimeout   = 2 * time.Minute
)

// busyboxApplets are the names symlinked to bin/busybox in the test image.
var busyboxApplets = []string{
	"sh", "ash", "sleep", "echo", "seq", "cat", "true", "false", "yes",
	"printf", "top", "ls", "env", "kill", "head", "tail", "wc", "date", "id",
	"hostname", "ps", "grep", "sed", "awk", "tr", "touch", "mkdir", "rm",
	"cp", "mv", "ln", "test", "[", "[[", "sort", "uniq", "cut", "tee",
	"xargs", "find", "pwd", "uname", "whoami", "stat", "dd", "md5sum",
	"sha256sum", "base64", "timeout", "usleep", "nproc", "free", "watch",
	"basename", "dirname", "expr", "chmod", "chown", "mount", "df", "du",
	"vi", "less", "more", "nc", "wget", "ping", "ip", "ifconfig", "hexdump",
	"od", "nohup", "setsid", "nice", "time", "gzip", "gunzip", "tar",
}

// ciMode reports whether the CI environment variable is set: then a missing
// engine or registry binary fails the test instead of skipping it.
func ciMode() bool { return os.Getenv("CI") != "" }

// unavailable skips the test locally and fails it on CI.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if ciMode() {
		t.Fatalf("%s (CI is set, so this is a failure rather than a skip)", msg)
	}
	t.Skipf("%s (skipping; set CI=1 to make this a failure)", msg)
}

// Host returns the engine address Client uses: DOCKER_HOST when set,
// otherwise the default socket (unix:///var/run/docker.sock).
func Host() string {
	if h := os.Getenv(client.EnvOverrideHost); h != "" {
		return h
	}
	return client.DefaultDockerHost
}

var (
	pingMu     sync.Mutex
	pingFailed error // sticky per process: do not wait 5s again in every test
)

// Client returns an SDK client for the engine at DOCKER_HOST or the default
// socket, closed at cleanup. When no engine answers a Ping within 5s, the
// test is skipped (or fails when the CI env var is non-empty).
func Client(t testing.TB) *client.Client {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs a Docker engine: skipped with -short")
	}
	pingMu.Lock()
	prev := pingFailed
	pingMu.Unlock()
	if prev != nil {
		unavailable(t, "no Docker engine at %s: %v", Host(), prev)
	}

	c, err := client.New(client.FromEnv)
	if err != nil {
		t.Fatalf("testenv: creating Docker client for %s: %v", Host(), err)
	}
	t.Cleanup(func() { _ = c.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if _, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		pingMu.Lock()
		pingFailed = err
		pingMu.Unlock()
		unavailable(t, "no Docker engine answered a ping at %s within %s: %v", Host(), pingTimeout, err)
	}
	return c
}

// randHex returns n random hex digits.
func randHex(n int) string {
	b := make([]byte, (n+1)/2)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return hex.EncodeToString(b)[:n]
}

// Name returns a unique container name with the given prefix:
// "dmt-<prefix>-<6 random hex digits>".
func Name(prefix string) string {
	return "dmt-" + prefix + "-" + randHex(6)
}

// Label returns the label key "dockman.test" and a random value unique to
// this test. It registers a cleanup that force-removes (with their anonymous
// volumes) every container carrying that label value, then every network and
// volume carrying it.
func Label(t testing.TB, c *client.Client) (key, value string) {
	t.Helper()
	value = sanitize(t.Name(), 40) + "-" + randHex(10)
	t.Cleanup(func() { removeLabelled(t, c, value) })
	return LabelKey, value
}

// sanitize keeps a test name readable inside a label value.
func sanitize(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
	if len(s) > max {
		s = s[:max]
	}
	return s
}

func removeLabelled(t testing.TB, c *client.Client, value string) {
	t.Helper()
	// t.Context() is already cancelled when cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	f := make(client.Filters).Add("label", LabelKey+"="+value)

	list, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Errorf("testenv: listing containers labelled %s=%s: %v", LabelKey, value, err)
		return
	}
	for _, ctr := range list.Items {
		_, err := c.ContainerRemove(ctx, ctr.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) && !isRemovalInProgress(err) {
			t.Errorf("testenv: removing container %s %v: %v", shortID(ctr.ID), ctr.Names, err)
		}
	}

	if nets, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: f}); err == nil {
		for _, n := range nets.Items {
			if _, err := c.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) {
				t.Errorf("testenv: removing network %s: %v", n.Name, err)
			}
		}
	}
	if vols, err := c.VolumeList(ctx, client.VolumeListOptions{Filters: f}); err == nil {
		for _, v := range vols.Items {
			if _, err := c.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
				t.Errorf("testenv: removing volume %s: %v", v.Name, err)
			}
		}
	}
}

// isRemovalInProgress reports the 409 the engine returns when another
// request (e.g. a RunContainer cleanup, or AutoRemove) is already removing it.
func isRemovalInProgress(err error) bool {
	return err != nil && strings.Contains(err.Error(), "is already in progress")
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// RunContainer creates and starts a container from BusyboxImage with network
// mode "none", label dockman.test=labelValue (from Label), the given name and
// command, and returns its full ID. A cleanup force-removes it.
func RunContainer(t testing.TB, c *client.Client, labelValue, name string, cmd ...string) string {
	t.Helper()
	return startContainer(t, c, name, labelValue, container.Config{Image: BusyboxImage(t, c), Cmd: cmd}, container.HostConfig{})
}

// RunLogGen creates and starts a container from LogGenImage whose
// arguments, args, are loggen's flags (see internal/testenv/loggen), with
// network mode "none", label dockman.test=labelValue (from Label), the given
// name and a TTY when tty is set, and returns its full ID. A cleanup
// force-removes it.
func RunLogGen(t testing.TB, c *client.Client, labelValue, name string, tty bool, args ...string) string {
	t.Helper()
	return startContainer(t, c, name, labelValue, container.Config{Image: LogGenImage(t, c), Cmd: args, Tty: tty}, container.HostConfig{})
}

// RunBusybox is RunContainer with the whole create request in hand (a
// TTY, a restart policy, a log driver, more labels): cfg gets the busybox
// image unless it names one, and the test label; host gets network mode
// "none" unless it names one.
func RunBusybox(t testing.TB, c *client.Client, labelValue, name string, cfg container.Config, host container.HostConfig) string {
	t.Helper()
	if cfg.Image == "" {
		cfg.Image = BusyboxImage(t, c)
	}
	return startContainer(t, c, name, labelValue, cfg, host)
}

// startContainer is RunContainer, RunLogGen and RunBusybox: create, register the
// removal, start.
func startContainer(t testing.TB, c *client.Client, name, labelValue string, cfg container.Config, host container.HostConfig) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	labels := map[string]string{LabelKey: labelValue}
	for k, v := range cfg.Labels {
		labels[k] = v
	}
	cfg.Labels = labels
	if host.NetworkMode == "" {
		host.NetworkMode = "none"
	}
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: &cfg, HostConfig: &host})
	if err != nil {
		t.Fatalf("testenv: creating container %q: %v", name, err)
	}
	id := created.ID
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		_, err := c.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		if err != nil && !cerrdefs.IsNotFound(err) && !isRemovalInProgress(err) {
			t.Errorf("testenv: removing container %s (%s): %v", name, shortID(id), err)
		}
	})
	if _, err := c.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		t.Fatalf("testenv: starting container %q: %v", name, err)
	}
	return id
}

var (
	busyboxMu    sync.Mutex
	busyboxBuilt bool // built (or verified) by this process
)

// BusyboxImage makes sure the image "dockman-test/busybox:latest" exists on
// the engine and returns that reference. It is built at most once per
// process (again only if it vanished from the engine), safe for concurrent
// use, by ImageImport of an in-memory tar holding the host's static
// /bin/busybox plus applet symlinks, with CMD ["/bin/sh"] and ENV PATH=/bin.
// An image left by an earlier process is reused when its content label
// matches. Skips the test (fails it on CI) when /bin/busybox is missing,
// and fails it when that busybox is not static.
func BusyboxImage(t testing.TB, c *client.Client) string {
	t.Helper()
	busyboxMu.Lock()
	defer busyboxMu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()

	if busyboxBuilt {
		if _, err := c.ImageInspect(ctx, BusyboxRef); err == nil {
			return BusyboxRef
		}
		busyboxBuilt = false // removed behind our back: build again
	}
	if _, err := os.Stat(busyboxPath); err != nil {
		unavailable(t, "no busybox at %s to build the test image from: apt-get install busybox-static", busyboxPath)
	}
	if _, err := ensureBusybox(ctx, c, BusyboxRef); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	busyboxBuilt = true
	return BusyboxRef
}

// ensureBusybox imports the busybox rootfs as ref unless ref already exists
// with the same content label. It reports whether it imported.
func ensureBusybox(ctx context.Context, c *client.Client, ref string) (imported bool, err error) {
	rootfs, err := busyboxRootfs(busyboxPath)
	if err != nil {
		return false, err
	}
	return ensureImage(ctx, c, ref, rootfs, "dockman testenv busybox", `CMD ["/bin/sh"]`)
}

// ensureImage imports rootfs (a tar) as ref, with ENV PATH=/bin, the given
// Dockerfile changes and a content label holding the tar's hash, unless ref
// already exists with that label. It reports whether it imported.
func ensureImage(ctx context.Context, c *client.Client, ref string, rootfs []byte, message string, changes ...string) (imported bool, err error) {
	sum := sha256.Sum256(rootfs)
	digest := hex.EncodeToString(sum[:])[:24]

	if img, err := c.ImageInspect(ctx, ref); err == nil &&
		img.Config != nil && img.Config.Labels[contentLabel] == digest {
		return false, nil
	}

	resp, err := c.ImageImport(ctx,
		client.ImageImportSource{Source: bytes.NewReader(rootfs), SourceName: "-"},
		ref,
		client.ImageImportOptions{
			Message: message,
			Changes: append(changes, `ENV PATH=/bin`, `LABEL `+contentLabel+`=`+digest),
		})
	if err != nil {
		return false, fmt.Errorf("importing %s: %w", ref, err)
	}
	_, err = drainJSONStream(resp)
	_ = resp.Close()
	if err != nil {
		return false, fmt.Errorf("importing %s: %w", ref, err)
	}
	if _, err := c.ImageInspect(ctx, ref); err != nil {
		return false, fmt.Errorf("%s missing right after import: %w", ref, err)
	}
	return true, nil
}

// busyboxRootfs returns a deterministic tar of a tiny rootfs around the
// static busybox binary at path.
func busyboxRootfs(path string) ([]byte, error) {
	return rootfsWith(path, nil)
}

// rootfsFile is a regular file added to the busybox rootfs.
type rootfsFile struct {
	name string // path in the tar, e.g. "bin/loggen"
	mode int64
	body []byte
}

// rootfsWith returns busyboxRootfs(path) with the extra files added after
// busybox's own.
func rootfsWith(path string, extra []rootfsFile) ([]byte, error) {
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s (install Debian's busybox-static): %w", path, err)
	}
	if err := checkStatic(path); err != nil {
		return nil, err
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	hdr := func(h *tar.Header) *tar.Header {
		h.ModTime, h.Uname, h.Gname, h.Format = mtime, "root", "root", tar.FormatPAX
		return h
	}
	write := func(h *tar.Header, body []byte) error {
		if err := tw.WriteHeader(hdr(h)); err != nil {
			return err
		}
		if len(body) > 0 {
			_, err := tw.Write(body)
			return err
		}
		return nil
	}
	dirs := []struct {
		name string
		mode int64
	}{{"bin/", 0o755}, {"etc/", 0o755}, {"root/", 0o700}, {"tmp/", 0o1777}}
	for _, d := range dirs {
		if err := write(&tar.Header{Typeflag: tar.TypeDir, Name: d.name, Mode: d.mode}, nil); err != nil {
			return nil, err
		}
	}
	if err := write(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(bin))}, bin); err != nil {
		return nil, err
	}
	for _, a := range busyboxApplets {
		if err := write(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777}, nil); err != nil {
			return nil, err
		}
	}
	files := []struct{ name, body string }{
		{"etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"},
		{"etc/group", "root:x:0:\nnogroup:x:65534:\n"},
	}
	for _, f := range files {
		if err := write(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.body))}, []byte(f.body)); err != nil {
			return nil, err
		}
	}
	for _, f := range extra {
		if err := write(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.body))}, f.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// checkStatic fails unless path is an ELF executable with no interpreter and
// no shared-library dependencies (the plain busybox package is dynamic and
// cannot run in an empty rootfs).
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s is not a readable ELF binary: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (has an ELF interpreter); install Debian's busybox-static", path)
		}
	}
	libs, err := f.ImportedLibraries()
	if err == nil && len(libs) > 0 {
		return fmt.Errorf("%s is dynamically linked (needs %v); install Debian's busybox-static", path, libs)
	}
	return nil
}

// streamMessage is one message of the engine's JSON progress stream (import,
// push, pull). Both the legacy "error" string and "errorDetail" are read.
type streamMessage struct {
	Status      string `json:"status"`
	ID          string `json:"id"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errorDetail"`
}

// drainJSONStream reads a progress stream to its end. It returns the status
// lines, and an error when the stream carries an error message.
func drainJSONStream(r io.Reader) ([]string, error) {
	var statuses []string
	dec := json.NewDecoder(r)
	for {
		var m streamMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return statuses, nil
			}
			return statuses, fmt.Errorf("reading progress stream: %w", err)
		}
		if m.ErrorDetail != nil && m.ErrorDetail.Message != "" {
			return statuses, errors.New(m.ErrorDetail.Message)
		}
		if m.Error != "" {
			return statuses, errors.New(m.Error)
		}
		if m.Status != "" {
			s := m.Status
			if m.ID != "" {
				s = m.ID + ": " + s
			}
			statuses = append(statuses, s)
		}
	}
}

// EmptyRegistryAuth is the X-Registry-Auth value for an anonymous registry:
// base64url of "{}". Engines before API 1.42 reject a push without the header.
func EmptyRegistryAuth() string {
	s, err := authconfig.Encode(registry.AuthConfig{})
	if err != nil {
		panic(err)
	}
	return s
}

// Registry starts Debian's docker-registry (/usr/bin/docker-registry) on
// 127.0.0.1:<free port> with storage and a generated config in a temp dir,
// waits until GET /v2/ answers, and returns "127.0.0.1:PORT". A cleanup kills
// it and waits for it. The test is skipped (or fails when CI is set) when the
// binary is missing. The engine must run on this host for it to reach the
// registry; dockerd treats 127.0.0.0/8 registries as insecure (plain http).
func Registry(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skipf("starts a registry: skipped with -short")
	}
	bin := registryBin
	if _, err := os.Stat(bin); err != nil {
		p, lerr := exec.LookPath("docker-registry")
		if lerr != nil {
			unavailable(t, "docker-registry binary not found at %s nor in PATH (install Debian's docker-registry)", registryBin)
		}
		bin = p
	}
	dir := t.TempDir()

	// Picking a free port and handing it to another process races with
	// anything else binding ports: retry a few times on a fresh port.
	var lastErr error
	for attempt := 1; attempt <= 5; attempt++ {
		addr, err := startRegistry(t, bin, dir, attempt)
		if err == nil {
			return addr
		}
		lastErr = err
		t.Logf("testenv: registry attempt %d: %v", attempt, err)
	}
	t.Fatalf("testenv: starting %s: %v", bin, lastErr)
	return ""
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startRegistry(t testing.TB, bin, dir string, attempt int) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	storage := filepath.Join(dir, fmt.Sprintf("storage-%d", attempt))
	if err := os.MkdirAll(storage, 0o755); err != nil {
		return "", err
	}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: %s
`, storage, addr, randHex(32))
	cfgPath := filepath.Join(dir, fmt.Sprintf("config-%d.yml", attempt))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return "", err
	}
	logPath := filepath.Join(dir, fmt.Sprintf("registry-%d.log", attempt))
	logf, err := os.Create(logPath)
	if err != nil {
		return "", err
	}

	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	// REGISTRY_* variables would override the generated config.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "REGISTRY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return "", err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	logTail := func() string {
		b, _ := os.ReadFile(logPath)
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		return string(b)
	}

	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err // let a later stop() return
			return "", fmt.Errorf("registry on %s exited early (%v); log:\n%s", addr, err, logTail())
		default:
		}
		resp, err := hc.Get("http://" + addr + "/v2/")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
			err = fmt.Errorf("GET /v2/: %s", resp.Status)
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("registry on %s did not answer within 30s (%v); log:\n%s", addr, err, logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}

	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("testenv: registry %s log tail:\n%s", addr, logTail())
		}
	})
	return addr, nil
}

// PushToRegistry tags src as ref (e.g. "127.0.0.1:PORT/dmt/busybox:v1"),
// pushes it with ImagePush, drains the progress stream and fails on an error
// in it, then removes the local tag ref so a later pull really pulls. A
// cleanup removes the ref tag again in case the test pulled it.
func PushToRegistry(t testing.TB, c *client.Client, src, ref string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()

	if _, err := c.ImageTag(ctx, client.ImageTagOptions{Source: src, Target: ref}); err != nil {
		t.Fatalf("testenv: tagging %s as %s: %v", src, ref, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		defer cancel()
		_, _ = c.ImageRemove(ctx, ref, client.ImageRemoveOptions{})
	})

	resp, err := c.ImagePush(ctx, ref, client.ImagePushOptions{RegistryAuth: EmptyRegistryAuth()})
	if err != nil {
		t.Fatalf("testenv: pushing %s: %v", ref, err)
	}
	statuses, err := drainJSONStream(resp)
	_ = resp.Close()
	if err != nil {
		t.Fatalf("testenv: pushing %s: %v (progress: %q)", ref, err, statuses)
	}

	if _, err := c.ImageRemove(ctx, ref, client.ImageRemoveOptions{}); err != nil {
		t.Fatalf("testenv: removing local tag %s after push: %v", ref, err)
	}
}
