package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// LogsOptions mirrors `docker logs` flags.
type LogsOptions struct {
	Follow     bool
	Tail       string // "all" or a number of lines
	Since      string // RFC 3339 time, Unix timestamp or Go duration ("10m")
	Until      string // as Since: show logs before this time
	Timestamps bool
}

// Logs copies a container's output to stdout and stderr. It handles both
// stream formats: raw for TTY containers, multiplexed otherwise. With Follow it
// returns when the container stops or when ctx is cancelled; cancellation is
// not an error, so Ctrl-C simply ends the follow.
func (m *Manager) Logs(ctx context.Context, id string, opts LogsOptions, stdout, stderr io.Writer) error {
	info, _, err := m.Inspect(ctx, id)
	if err != nil {
		return err
	}
	rc, err := m.api.ContainerLogs(ctx, id, client.ContainerLogsOptions{
		ShowStdout: true,
		ShowStderr: true,
		Follow:     opts.Follow,
		Tail:       opts.Tail,
		Since:      opts.Since,
		Until:      opts.Until,
		Timestamps: opts.Timestamps,
	})
	if err != nil {
		return m.logsError(err)
	}
	defer rc.Close()
	if info.Config != nil && info.Config.Tty {
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	if ctx.Err() != nil {
		return nil
	}
	if err != nil || opts.Follow {
		// A follow ends cleanly when the container stops, but also when the
		// engine goes away: check it is still there before calling the end
		// the container's.
		if _, perr := m.Ping(ctx); errors.Is(perr, ErrUnreachable) {
			return perr
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return m.wrap(err)
	}
	return nil
}

// ErrLogsUnreadable says that a container's log driver keeps no copy the
// engine can read back (`--log-driver none`, or a remote driver on an
// engine without dual logging): no retry will change that.
var ErrLogsUnreadable = errors.New("the container's log driver cannot be read back")

// StreamOptions choose the part of a container's log LogStream returns.
type StreamOptions struct {
	// Since: from this stamp on, inclusive to the nanosecond; the zero
	// time: from the first line the engine keeps.
	Since time.Time
	// Follow: go on until the container stops.
	Follow bool
	// Tail: only the last Tail lines (0: all), read from the end of the
	// engine's file rather than from its start.
	Tail int
}

// LogStream opens a container's log as the engine stores it, both streams,
// every message prefixed with its timestamp. The stream is the engine's
// own: multiplexed frames for a container without a TTY, raw bytes for one
// with a TTY (the caller knows which from Inspect). The log keeper parses
// it itself.
func (m *Manager) LogStream(ctx context.Context, id string, so StreamOptions) (io.ReadCloser, error) {
	opts := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: so.Follow, Timestamps: true}
	if !so.Since.IsZero() {
		opts.Since = fmt.Sprintf("%d.%09d", so.Since.Unix(), so.Since.Nanosecond())
	}
	if so.Tail > 0 {
		opts.Tail = strconv.Itoa(so.Tail)
	}
	rc, err := m.api.ContainerLogs(ctx, id, opts)
	if err != nil {
		return nil, m.logsError(err)
	}
	return rc, nil
}

// goneError is a container the engine is removing: its log can no longer
// be read, and it will not come back.
type goneError struct{ err error }

func (e goneError) Error() string { return e.err.Error() }
func (e goneError) Unwrap() error { return e.err }
func (goneError) NotFound()       {}

// logsError is wrap for a failure to open a container's log, in the
// engine's words for the two cases callers act on: a log driver that
// cannot be read back (ErrLogsUnreadable), and a container being removed
// (as good as gone: IsNotFound says so).
func (m *Manager) logsError(err error) error {
	switch msg := err.Error(); {
	case strings.Contains(msg, "does not support reading"):
		return fmt.Errorf("%w: %w", ErrLogsUnreadable, m.wrap(err))
	case strings.Contains(msg, "dead or marked for removal"):
		return goneError{m.wrap(err)}
	}
	return m.wrap(err)
}
