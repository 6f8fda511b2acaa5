package shell

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"

	"github.com/dockman/dockman/manager"
)

// TestEngineDownErrorShape: with the engine down, every command that needs
// it fails with one line of one shape, "error: CMD: <why>", and status 1
// (run: 125, as docker gives).
func TestEngineDownErrorShape(t *testing.T) {
	down := errors.New("cannot reach the Docker engine at unix:///fake.sock: is dockerd running?")
	for _, tc := range []struct {
		line   string
		status int
	}{
		{"ps", StatusFailed},
		{"ps -a", StatusFailed},
		{"stop web", StatusFailed},
		{"start web", StatusFailed},
		{"restart web", StatusFailed},
		{"rm -f web", StatusFailed},
		{"logs web", StatusFailed},
		{"inspect web", StatusFailed},
		{"images", StatusFailed},
		{"run busybox", StatusUsage},
	} {
		eng := newFakeEngine("web")
		eng.err = down
		eng.run = func(context.Context, manager.RunSpec) (string, error) { return "", down }
		s := newSession(eng, Options{})
		r := s.exec(t, tc.line)
		cmd := strings.Fields(tc.line)[0]
		if want := "error: " + cmd + ": " + down.Error() + "\n"; r.errOut != want {
			t.Errorf("%q: stderr %q, want %q", tc.line, r.errOut, want)
		}
		if got := ExitStatus(r.err); got != tc.status {
			t.Errorf("%q: status %d, want %d", tc.line, got, tc.status)
		}
	}
}

// TestRunStatus: run's failures get docker's statuses from the engine's
// words: the container's command not found 127, not executable 126,
// anything else 125.
func TestRunStatus(t *testing.T) {
	for _, tc := range []struct {
		err    string
		status int
	}{
		{`failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: unknown`, StatusNotFound},
		{`OCI runtime create failed: exec: "/no/such": stat /no/such: no such file or directory: unknown`, StatusNotFound},
		{`OCI runtime create failed: exec: "/etc": permission denied: unknown`, StatusCannotInvoke},
		{`invalid restart policy 'bad'`, StatusUsage},
		{`network nosuch not found`, StatusUsage},
	} {
		eng := newFakeEngine()
		eng.run = func(context.Context, manager.RunSpec) (string, error) { return "abc", errors.New(tc.err) }
		s := newSession(eng, Options{})
		r := s.exec(t, "run busybox")
		if got := ExitStatus(r.err); got != tc.status {
			t.Errorf("%q: status %d, want %d", tc.err, got, tc.status)
		}
		if !strings.HasPrefix(r.errOut, "error: run: container abc created but ") {
			t.Errorf("%q: stderr %q", tc.err, r.errOut)
		}
	}
}

// TestLogsOptions: logs resolves its one container and hands the options
// to the engine as typed.
func TestLogsOptions(t *testing.T) {
	eng := newFakeEngine("web")
	var got manager.LogsOptions
	var gotID string
	eng.logs = func(_ context.Context, c container.Summary, o manager.LogsOptions, stdout, _ io.Writer) error {
		got, gotID = o, c.ID
		_, err := io.WriteString(stdout, "line\n")
		return err
	}
	s := newSession(eng, Options{})
	r := s.exec(t, "logs -f -n 5 --since 1m -t web").ok(t)
	if r.out != "line\n" || gotID != fakeID("web") {
		t.Errorf("out %q id %q", r.out, gotID)
	}
	if !got.Follow || got.Tail != "5" || got.Since != "1m" || !got.Timestamps {
		t.Errorf("options %+v", got)
	}
	s.exec(t, "logs nosuch").oneError(t, "logs: no such container: nosuch")
}
