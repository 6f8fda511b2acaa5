// Package shell is dockman's command language. It splits typed lines into
// commands, parses each command's flags with pflag, runs them against the
// engine and renders the results as docker would. The interactive prompt
// (Interactive) and script mode (Script) feed lines to the same Execute, so
// both behave alike.
package shell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fatih/color"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/logtail"
	"github.com/dockman/dockman/manager"
)

// Engine is what the shell needs from Docker. Script mode hands it the
// *manager.Manager, which asks the engine every time; the interactive shell
// hands it the inventory's Front, which reads from memory kept fresh by
// events. Keeping it narrow lets the pure parts of the shell be tested with
// a fake.
type Engine interface {
	Host() string
	// Containers lists containers, newest first, with docker's STATUS text.
	Containers(ctx context.Context, opts manager.ListOptions) ([]container.Summary, error)
	ListImages(ctx context.Context, opts manager.ImageListOptions) ([]image.Summary, error)
	Resolve(ctx context.Context, refs ...string) ([]manager.Resolved, error)
	Start(ctx context.Context, id string) error
	Stop(ctx context.Context, id string, opts manager.StopOptions) error
	Restart(ctx context.Context, id string, opts manager.StopOptions) error
	Remove(ctx context.Context, id string, opts manager.RemoveOptions) error
	// Inspect describes a container named by ID, name or unique ID prefix.
	Inspect(ctx context.Context, id string) (container.InspectResponse, json.RawMessage, error)
	InspectImage(ctx context.Context, ref string) (image.InspectResponse, json.RawMessage, error)
	InspectVolume(ctx context.Context, name string) (volume.Volume, json.RawMessage, error)
	Logs(ctx context.Context, id string, opts manager.LogsOptions, stdout, stderr io.Writer) error
	Run(ctx context.Context, spec manager.RunSpec, progress io.Writer) (string, error)
}

var _ Engine = (*manager.Manager)(nil)

// Options configure a Shell.
type Options struct {
	Out, Err io.Writer
	// ColorOut and ColorErr turn on colour in what is written to Out
	// (container states, notices at the prompt) and to Err (errors,
	// notices in script mode): each is for its main to decide, so that
	// a stream going to a file or a pipe gets no escape codes.
	ColorOut, ColorErr bool
	// History, when set, backs the history command and the prompt's recall.
	History *History
	// Completer, when set, serves completion; nil disables it.
	Completer *Completer
	// DebugLog is the path of the debug log, named when notices are too
	// many to show.
	DebugLog string
	// LogFiles, when set, returns the status of every container's log
	// file (the keeper's Files, or logtail.ReadDir in script mode): what
	// logfiles lists and tail finds containers in. Nil means no log
	// directory, which both commands say. The Completer, when set, is
	// handed it too, to offer tail the names of removed containers: it
	// must then answer from memory, as every completion source does.
	LogFiles func() ([]logtail.FileStatus, error)
	// Enforce, when set, backs the snapshot and enforce commands; the
	// Completer, when set, is handed its snapshot names.
	Enforce *enforce.Controller
}

// Shell executes dockman commands. One Shell serves one session; Execute is
// not meant to be called concurrently.
type Shell struct {
	eng      Engine
	out, err io.Writer
	colorOut bool
	colorErr bool
	history  *History
	complete *Completer
	debugLog string
	notices  notices
	exited   bool
	// endInterruptedLine, set while an interactive command runs, ends
	// the line where the terminal echoed ^C (once).
	endInterruptedLine func()
	// exitStatus is the N of `exit N`, nil when not given.
	exitStatus *int
	signal     os.Signal // the signal that ended an interactive session
	// logFiles is Options.LogFiles; see listLogFiles.
	logFiles func() ([]logtail.FileStatus, error)
	enforce  *enforce.Controller
	// confirm asks the person a yes/no question; set by Interactive
	// (a script has no one to ask).
	confirm func(ctx context.Context, question string) (bool, error)
}

// New returns a Shell that runs commands against eng.
func New(eng Engine, opts Options) *Shell {
	if opts.Completer != nil {
		opts.Completer.logFiles = opts.LogFiles
		if opts.Enforce != nil {
			opts.Completer.snapshotNames = opts.Enforce.SnapshotNames
		}
	}
	return &Shell{
		eng:      eng,
		out:      opts.Out,
		err:      opts.Err,
		colorOut: opts.ColorOut,
		colorErr: opts.ColorErr,
		history:  opts.History,
		complete: opts.Completer,
		debugLog: opts.DebugLog,
		logFiles: opts.LogFiles,
		enforce:  opts.Enforce,
	}
}

// Exited reports whether an exit or quit command has run.
func (s *Shell) Exited() bool { return s.exited }

// Signal returns the signal (SIGTERM, SIGHUP, SIGQUIT) that ended the
// interactive session, or nil.
func (s *Shell) Signal() os.Signal { return s.signal }

// ErrFailed is matched (errors.Is) by what Execute returns when a command
// failed; the failure itself has already been printed, and ExitStatus
// gives docker's exit status for it.
var ErrFailed = errors.New("command failed")

// Execute runs every command on one line. Each failure is printed to the
// error writer as one line per problem and the remaining commands still run.
// When anything failed, the result matches ErrFailed and carries the exit
// status of the last failure. An exit command stops the line.
func (s *Shell) Execute(ctx context.Context, line string) error {
	cmds, err := Split(line)
	if err != nil {
		s.printError(err)
		return withStatus(StatusFailed, ErrFailed)
	}
	status := 0
	for _, words := range cmds {
		if err := s.run(ctx, words); err != nil {
			// A command cut short by Ctrl-C, with nothing else to say,
			// fails quietly as in docker: the user knows, and the
			// client's error (a request URL) says nothing more.
			if ctx.Err() == nil || !errors.Is(err, context.Canceled) {
				if ctx.Err() != nil && s.endInterruptedLine != nil {
					s.endInterruptedLine()
				}
				s.printError(err)
			}
			status = ExitStatus(err)
		}
		if s.exited || ctx.Err() != nil {
			break
		}
	}
	if status != 0 {
		return withStatus(status, ErrFailed)
	}
	return nil
}

func (s *Shell) run(ctx context.Context, words []string) error {
	cmd, ok := lookup(words[0])
	if !ok {
		if near := nearest(words[0]); near != "" {
			return fmt.Errorf("unknown command %q: did you mean %q?", words[0], near)
		}
		return fmt.Errorf("unknown command %q: type 'help' for the list", words[0])
	}
	return cmd.execute(ctx, s, words[1:])
}

// printError writes err as "error: ..." lines, one per joined error, then
// the command's usage line after a flag or argument error.
func (s *Shell) printError(err error) {
	prefix := s.paint(s.colorErr, "error:", color.FgRed, color.Bold) + " "
	for _, l := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintln(s.err, prefix+l)
	}
	var ce *commandError
	if errors.As(err, &ce) && ce.usage != "" {
		fmt.Fprintf(s.err, "usage: %s (see 'help %s')\n", ce.usage, ce.cmd)
	}
}

// paint colours text when on is set (colour is decided per stream).
func (s *Shell) paint(on bool, text string, attrs ...color.Attribute) string {
	if !on || len(attrs) == 0 {
		return text
	}
	c := color.New(attrs...)
	c.EnableColor() // the stream's own setting decides, not the library's tty check
	return c.Sprint(text)
}
