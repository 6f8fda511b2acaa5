// Package logtail is dockman's log keeper: it follows the log of every
// container on the engine into one file per container, <id12>+<name>.log in
// the log directory, in the CRI log format (format.go), so that people can
// tail -f them, and never writes a line twice or loses one the engine still
// holds, whatever restarts: the container, dockman (even killed), or the
// engine itself.
package logtail

import (
	"context"
	"log/slog"
	"time"

	"github.com/dockman/dockman/manager"
)

// Options configure a Keeper.
type Options struct {
	// Dir is the log directory; it is created if missing.
	Dir string
	// MaxSize is the size past which a file is rotated (0: never).
	MaxSize int64
	// MaxFiles is how many files a container keeps, the current one
	// included (as docker's json-file max-file); below 2 means 2 when
	// MaxSize is set.
	MaxFiles int
	// Log is the debug log; Notify shows a notice to the person (it must not
	// block). Either may be nil.
	Log    *slog.Logger
	Notify func(msg string)
}

// Defaults for the shell's flags.
const (
	DefaultMaxSize  = 10 << 20
	DefaultMaxFiles = 5
)

// Keeper is the log keeper, a background part of the runner: its Handle
// only queues container IDs, its workers decide per container what to do,
// and one follower goroutine per container with something to read copies
// the engine's stream into the file.
type Keeper struct {
	opts Options
}

// New returns a stopped Keeper for the engine e.
func New(e Engine, opts Options) *Keeper {
	return &Keeper{opts: opts}
}

// Dir returns the log directory.
func (k *Keeper) Dir() string { return k.opts.Dir }

// Handle receives the Watcher's events: it only queues container IDs.
func (k *Keeper) Handle(ev manager.Event) {}

// Start takes the log directory's lock and starts the workers.
func (k *Keeper) Start(ctx context.Context) error { return nil }

// Stop stops every follower, waits for them, and makes every file and
// cursor durable.
func (k *Keeper) Stop() {}

// Files returns the status of every container's log file the keeper
// knows, sorted by name.
func (k *Keeper) Files() []FileStatus { return nil }

var _ = time.Second
