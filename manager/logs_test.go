package manager

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// logsOf runs Logs to completion and returns what went to each writer.
func logsOf(t *testing.T, m *Manager, id string, opts LogsOptions) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	if err := m.Logs(t.Context(), id, opts, &o, &e); err != nil {
		t.Fatalf("Logs(%+v): %v", opts, err)
	}
	return o.String(), e.String()
}

func TestLogs(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, testenv.Name("logs"), "sh", "-c", "echo out1; echo err1 >&2; echo out2; echo err2 >&2")
	if code := e.waitExit(t, id); code != 0 {
		t.Fatalf("exit %d", code)
	}
	seq := e.run(t, testenv.Name("seq"), "seq", "10")
	e.waitExit(t, seq)
	ttyID := e.create(t, testenv.Name("tty"), &container.Config{Tty: true, Cmd: []string{"sh", "-c", "echo out; echo err >&2"}}, nil)
	e.start(t, ttyID)
	e.waitExit(t, ttyID)

	tests := []struct {
		name       string
		id         string
		opts       LogsOptions
		wantStdout string
		wantStderr string
	}{
		{name: "stdout and stderr apart", id: id, wantStdout: "out1\nout2\n", wantStderr: "err1\nerr2\n"},
		{name: "tty is raw on stdout", id: ttyID, wantStdout: "out\r\nerr\r\n"},
		{name: "tail 3", id: seq, opts: LogsOptions{Tail: "3"}, wantStdout: "8\n9\n10\n"},
		{name: "tail 0", id: seq, opts: LogsOptions{Tail: "0"}},
		{name: "tail all", id: seq, opts: LogsOptions{Tail: "all"}, wantStdout: "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"},
		{name: "since a duration ago", id: seq, opts: LogsOptions{Since: "1h", Tail: "2"}, wantStdout: "9\n10\n"},
		{name: "since the future", id: seq, opts: LogsOptions{Since: strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)}},
		{name: "follow an exited container", id: seq, opts: LogsOptions{Follow: true, Tail: "1"}, wantStdout: "10\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut := logsOf(t, e.m, tt.id, tt.opts)
			if out != tt.wantStdout || errOut != tt.wantStderr {
				t.Errorf("stdout %q stderr %q, want %q and %q", out, errOut, tt.wantStdout, tt.wantStderr)
			}
		})
	}

	t.Run("timestamps", func(t *testing.T) {
		stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9}Z (.*)$`)
		out, errOut := logsOf(t, e.m, id, LogsOptions{Timestamps: true})
		check := func(stream, text string, want []string) {
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			var got []string
			for _, l := range lines {
				m := stamp.FindStringSubmatch(l)
				if m == nil {
					t.Errorf("%s line %q has no timestamp prefix", stream, l)
					continue
				}
				got = append(got, m[1])
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("%s texts %q, want %q", stream, got, want)
			}
		}
		check("stdout", out, []string{"out1", "out2"})
		check("stderr", errOut, []string{"err1", "err2"})
	})
	t.Run("tty with timestamps", func(t *testing.T) {
		out, _ := logsOf(t, e.m, ttyID, LogsOptions{Timestamps: true})
		if !regexp.MustCompile(`^\S+Z out\r\n\S+Z err\r\n$`).MatchString(out) {
			t.Errorf("stdout %q", out)
		}
	})
	t.Run("unknown container", func(t *testing.T) {
		err := e.m.Logs(t.Context(), testenv.Name("nosuch"), LogsOptions{}, &bytes.Buffer{}, &bytes.Buffer{})
		if !IsNotFound(err) {
			t.Errorf("err = %v, want not found", err)
		}
	})
}

// followUntil follows a running container's logs until "ready" shows up,
// then calls end and returns the output and Logs' result.
func followUntil(t *testing.T, m *Manager, ctx context.Context, id string, end func()) (string, error) {
	t.Helper()
	out := newSyncBuffer()
	done := make(chan error, 1)
	go func() { done <- m.Logs(ctx, id, LogsOptions{Follow: true}, out, out) }()
	out.waitFor(t, "ready")
	end()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(guard):
		t.Fatal("Logs with Follow did not return")
	}
	return "", nil
}

func TestLogsFollow(t *testing.T) {
	e := newEnv(t)
	zero := 0

	t.Run("container exits", func(t *testing.T) {
		id := e.run(t, testenv.Name("follow"), "sh", "-c", "echo ready; exec sleep 600")
		out, err := followUntil(t, e.m, t.Context(), id, func() {
			if err := e.m.Stop(t.Context(), id, StopOptions{Timeout: &zero}); err != nil {
				t.Errorf("Stop: %v", err)
			}
		})
		if err != nil {
			t.Errorf("Logs = %v, want nil when the container exits", err)
		}
		if out != "ready\n" {
			t.Errorf("output %q", out)
		}
	})
	t.Run("container exits by itself", func(t *testing.T) {
		// USR1 makes the script print its last line and exit 0.
		id := e.run(t, testenv.Name("follow"), "sh", "-c", `trap "echo bye; exit 0" USR1; echo ready; sleep 600 & wait`)
		out, err := followUntil(t, e.m, t.Context(), id, func() {
			if _, err := e.c.ContainerKill(t.Context(), id, client.ContainerKillOptions{Signal: "USR1"}); err != nil {
				t.Errorf("kill -USR1: %v", err)
			}
		})
		if err != nil {
			t.Errorf("Logs = %v, want nil when the container exits", err)
		}
		if out != "ready\nbye\n" {
			t.Errorf("output %q", out)
		}
		if code := e.waitExit(t, id); code != 0 {
			t.Errorf("exit %d", code)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		id := e.run(t, testenv.Name("follow"), "sh", "-c", "echo ready; exec sleep 600")
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		_, err := followUntil(t, e.m, ctx, id, cancel)
		if err != nil {
			t.Errorf("Logs = %v, want nil on cancel", err)
		}
		if st := e.inspect(t, id).State; !st.Running {
			t.Errorf("container %q after cancelling the follow", st.Status)
		}
	})
	t.Run("tty container", func(t *testing.T) {
		id := e.create(t, testenv.Name("follow"), &container.Config{Tty: true, Cmd: []string{"sh", "-c", "echo ready; exec sleep 600"}}, nil)
		e.start(t, id)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		out, err := followUntil(t, e.m, ctx, id, cancel)
		if err != nil || out != "ready\r\n" {
			t.Errorf("Logs = %v, output %q", err, out)
		}
	})
}

// TestLogsFollowEngineGone cuts the engine away during a follow: Logs must
// not end as if the container had stopped.
func TestLogsFollowEngineGone(t *testing.T) {
	e := newEnv(t)
	id := e.run(t, testenv.Name("gone"), "sh", "-c", "echo ready; exec sleep 600")
	p := testenv.NewProxy(t)
	p.Start()
	m := newManager(t, p.Host())
	_, err := followUntil(t, m, t.Context(), id, p.Stop)
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("Logs = %v, want an ErrUnreachable error when the engine goes away", err)
	}
	oneLine(t, err)
	if st := e.inspect(t, id).State; !st.Running {
		t.Errorf("container %q", st.Status)
	}
}
