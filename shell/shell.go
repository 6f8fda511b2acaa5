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
	Images(ctx context.Context, all bool) ([]image.Summary, error)
	Resolve(ctx context.Context, refs ...string) ([]manager.Resolved, error)
	Start(ctx context.Context, id string) error
	Stop(ctx context.Context, id string, timeout *int) error
	Restart(ctx context.Context, id string, timeout *int) error
	Remove(ctx context.Context, id string, opts manager.RemoveOptions) error
	Inspect(ctx context.Context, id string) (container.InspectResponse, json.RawMessage, error)
	Logs(ctx context.Context, id string, opts manager.LogsOptions, stdout, stderr io.Writer) error
	Run(ctx context.Context, spec manager.RunSpec, progress io.Writer) (string, error)
}

var _ Engine = (*manager.Manager)(nil)

// Options configure a Shell.
type Options struct {
	Out, Err io.Writer
	// Color turns on coloured states and errors.
	Color bool
	// History, when set, backs the history command and the prompt's recall.
	History *History
	// Completer, when set, serves completion; nil disables it.
	Completer *Completer
	// DebugLog is the path of the debug log, named when notices are too
	// many to show.
	DebugLog string
}

// Shell executes dockman commands. One Shell serves one session; Execute is
// not meant to be called concurrently.
type Shell struct {
	eng      Engine
	out, err io.Writer
	color    bool
	history  *History
	complete *Completer
	debugLog string
	notices  notices
	exited   bool
	signal   os.Signal // the signal that ended an interactive session
}

// New returns a Shell that runs commands against eng.
func New(eng Engine, opts Options) *Shell {
	return &Shell{
		eng:      eng,
		out:      opts.Out,
		err:      opts.Err,
		color:    opts.Color,
		history:  opts.History,
		complete: opts.Completer,
		debugLog: opts.DebugLog,
	}
}

// Exited reports whether an exit or quit command has run.
func (s *Shell) Exited() bool { return s.exited }

// Signal returns the signal (SIGTERM, SIGHUP, SIGQUIT) that ended the
// interactive session, or nil.
func (s *Shell) Signal() os.Signal { return s.signal }

// ErrFailed is returned by Execute when at least one command failed; the
// failure itself has already been printed.
var ErrFailed = errors.New("command failed")

// Execute runs every command on one line. Each failure is printed to the
// error writer as one line per problem and the remaining commands still run;
// the result is ErrFailed if anything failed. An exit command stops the line.
func (s *Shell) Execute(ctx context.Context, line string) error {
	cmds, err := Split(line)
	if err != nil {
		s.printError(err)
		return ErrFailed
	}
	failed := false
	for _, words := range cmds {
		if err := s.run(ctx, words); err != nil {
			// A command cut short by Ctrl-C fails quietly, as in docker:
			// the user knows, and the client's error (a request URL) says
			// nothing more.
			if ctx.Err() == nil || !errors.Is(err, context.Canceled) {
				s.printError(err)
			}
			failed = true
		}
		if s.exited || ctx.Err() != nil {
			break
		}
	}
	if failed {
		return ErrFailed
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

// printError writes err as "error: ..." lines, one per joined error.
func (s *Shell) printError(err error) {
	prefix := s.paint("error:", color.FgRed, color.Bold) + " "
	for _, l := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintln(s.err, prefix+l)
	}
}

// paint colours text when colour is on.
func (s *Shell) paint(text string, attrs ...color.Attribute) string {
	if !s.color || len(attrs) == 0 {
		return text
	}
	c := color.New(attrs...)
	c.EnableColor() // s.color decides, not the library's own tty check
	return c.Sprint(text)
}
