package logtail_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/logtail"
	"github.com/dockman/dockman/manager"
)

// guard bounds every wait: it only stops a hung test, it is not a
// measure of speed.
const guard = 2 * time.Minute

// keeper is a Keeper fed by its own Watcher, as the runner feeds it.
type keeper struct {
	*logtail.Keeper
	w       *manager.Watcher
	notices chan string
	stopFn  func()
}

func startKeeper(t *testing.T, dir string, opts logtail.Options) *keeper {
	t.Helper()
	m, err := manager.New(testenv.Host())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	k := &keeper{notices: make(chan string, 100)}
	opts.Dir = dir
	opts.Notify = func(msg string) {
		t.Logf("notice: %s", msg)
		select {
		case k.notices <- msg:
		default:
		}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	k.Keeper = logtail.New(m, opts)
	k.w = m.Watch(opts.Log)
	k.w.Subscribe("logs", k.Handle)
	ctx := context.Background()
	if err := k.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := k.w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			k.stop()
		}
	})
	k.stopFn = func() { stopped = true; k.w.Stop(); k.Keeper.Stop() }
	return k
}

func (k *keeper) stop() { k.stopFn() }

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// engineStreams is what the engine holds of a container's log, each
// stream as `docker logs --timestamps` gives it: every message its stamp,
// a space, its text; partial pieces back to back.
func engineStreams(t *testing.T, c *client.Client, id string, tty bool) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	rc, err := c.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true})
	if err != nil {
		t.Fatalf("engine logs: %v", err)
	}
	defer rc.Close()
	var out, errb bytes.Buffer
	if tty {
		_, err = io.Copy(&out, rc)
	} else {
		_, err = stdcopy.StdCopy(&out, &errb, rc)
	}
	if err != nil {
		t.Fatalf("engine logs: %v", err)
	}
	return out.Bytes(), errb.Bytes()
}

// fileStreams renders a container's log files (rotated ones first) back
// into the engine's form, so that the two compare byte for byte. ok is
// false when a file went away while being read (a rotation under way).
func fileStreams(t *testing.T, path string, tty bool) (stdout, stderr []byte, ok bool) {
	t.Helper()
	var paths []string
	for i := 1; ; i++ {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err != nil {
			break
		}
		paths = append([]string{p}, paths...)
	}
	paths = append(paths, path)
	var out, errb bytes.Buffer
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, false
		}
		if err != nil {
			t.Fatalf("read %s: %v", p, err)
		}
		for len(b) > 0 {
			nl := bytes.IndexByte(b, '\n')
			if nl < 0 {
				t.Fatalf("%s ends in an incomplete line: %q", p, b)
			}
			line := b[:nl+1]
			b = b[nl+1:]
			l, err := logtail.ParseLine(line)
			if err != nil {
				t.Fatalf("%s: bad line %q", p, line)
			}
			w := &out
			if l.Stream == logtail.Stderr {
				w = &errb
			}
			w.Write(line[:30])
			w.WriteByte(' ')
			w.Write(l.Text)
			if !l.Partial {
				if tty {
					w.WriteByte('\r')
				}
				w.WriteByte('\n')
			}
		}
	}
	return out.Bytes(), errb.Bytes(), true
}

// filePath is the current log file of container id in dir (found by ID:
// the name may change).
func filePath(t *testing.T, dir, id string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, id[:12]+"+*.log"))
	if len(m) != 1 {
		return ""
	}
	return m[0]
}

// waitSame waits until the keeper's files for id hold exactly what the
// engine holds, and fails with the first difference if they never do.
func waitSame(t *testing.T, c *client.Client, dir, id string, tty bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	var fo, fe, eo, ee []byte
	for {
		eo, ee = engineStreams(t, c, id, tty)
		if p := filePath(t, dir, id); p != "" {
			var ok bool
			fo, fe, ok = fileStreams(t, p, tty)
			if ok && bytes.Equal(fo, eo) && bytes.Equal(fe, ee) {
				return
			}
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the log file never matched the engine's log:\nstdout: %s\nstderr: %s", diff(fo, eo), diff(fe, ee))
}

// diff describes where got first differs from want.
func diff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return "same"
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-80)
	return "file has " + strconv.Itoa(len(got)) + " bytes, engine " + strconv.Itoa(len(want)) + "; first difference at " + strconv.Itoa(i) +
		":\n  file:   " + quote(got[lo:min(len(got), i+80)]) + "\n  engine: " + quote(want[lo:min(len(want), i+80)])
}

func quote(b []byte) string { return strings.ReplaceAll(string(b), "\n", "\\n") }

// waitEngine waits until the engine's log of id holds marker.
func waitEngine(t *testing.T, c *client.Client, id string, tty bool, marker string) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		o, e := engineStreams(t, c, id, tty)
		if bytes.Contains(o, []byte(marker)) || bytes.Contains(e, []byte(marker)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container never wrote %q", marker)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runTTY starts a busybox container with a TTY, as testenv.RunContainer
// starts one without.
func runTTY(t *testing.T, c *client.Client, label, name string, cmd ...string) string {
	t.Helper()
	return testenv.RunBusybox(t, c, label, name, container.Config{Cmd: cmd, Tty: true}, container.HostConfig{})
}

func stopContainer(t *testing.T, c *client.Client, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	timeout := 10
	if _, err := c.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
}

// waitFor waits until ok holds, failing after guard.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !ok() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Logf("goroutines:\n%s", buf[:runtime.Stack(buf, true)])
			t.Fatalf("never saw %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fileSize is the size of all the container's files in dir.
func fileSize(t *testing.T, dir, id string) int64 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, id[:12]+"+*"))
	var total int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil {
			total += st.Size()
		}
	}
	return total
}
