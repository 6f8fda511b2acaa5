package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// ArgKind says what a command's positional arguments name, which drives
// their completion.
type ArgKind int

// The kinds of positional argument.
const (
	ArgNone             ArgKind = iota
	ArgAnyContainer             // any container (rm, inspect, logs)
	ArgRunningContainer         // running containers (stop, restart)
	ArgStoppedContainer         // stopped containers (start)
	ArgImage                    // an image, then free words (run)
	ArgCommand                  // a command name (help)
	ArgLogFile                  // a container with a log file, removed ones too (tail)
	ArgSnapshotName             // a name in the enforcement snapshot (snapshot rm)
)

// Command is one entry of the command table. The table feeds dispatch, help
// and completion, so the three can never disagree.
type Command struct {
	Name    string
	Aliases []string
	Usage   string // e.g. "stop [OPTIONS] CONTAINER..."
	Summary string
	Args    ArgKind
	MinArgs int
	MaxArgs int // -1: no limit
	// Interspersed lets flags follow positional arguments; run turns it off so
	// that the container's command keeps its own flags.
	NoInterspersed bool
	// Setup registers the command's flags on fs and returns the function that
	// runs the command once they are parsed. It is called afresh for every
	// invocation, so no flag value leaks from one line to the next.
	Setup func(fs *pflag.FlagSet) RunFunc
	// Subcommands, when set, make the first word choose one of them
	// (`enforce on`): each is a Command of its own whose Name is the whole
	// "enforce on", and DefaultSub runs when no word is given. Their words
	// are completed, and help lists them.
	Subcommands []*Command
	DefaultSub  string
}

// sub returns the subcommand that word names.
func (c *Command) sub(word string) *Command {
	for _, sc := range c.Subcommands {
		if sc.word() == word {
			return sc
		}
	}
	return nil
}

// word is the last word of the name: "on" of "enforce on".
func (c *Command) word() string { return c.Name[strings.LastIndexByte(c.Name, ' ')+1:] }

// subWords lists the subcommands' words, for messages.
func (c *Command) subWords() string {
	var w []string
	for _, sc := range c.Subcommands {
		w = append(w, sc.word())
	}
	return strings.Join(w, ", ")
}

// RunFunc runs a command with its parsed positional arguments.
type RunFunc func(ctx context.Context, s *Shell, args []string) error

// commands is the table, in the order help lists it.
var commands = []*Command{
	psCommand,
	imagesCommand,
	runCommand,
	startCommand,
	stopCommand,
	restartCommand,
	rmCommand,
	logsCommand,
	tailCommand,
	logfilesCommand,
	snapshotCommand,
	enforceCommand,
	inspectCommand,
	historyCommand,
	helpCommand,
	exitCommand,
}

func init() {
	// helpCommand refers to the table; breaking the initialization cycle here.
	helpCommand.Setup = setupHelp
}

func lookup(name string) (*Command, bool) {
	for _, c := range commands {
		if c.Name == name {
			return c, true
		}
		for _, a := range c.Aliases {
			if a == name {
				return c, true
			}
		}
	}
	return nil, false
}

// flagSet builds the command's flag set and its run function.
func (c *Command) flagSet() (*pflag.FlagSet, RunFunc) {
	fs := pflag.NewFlagSet(c.Name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(!c.NoInterspersed)
	var run RunFunc
	if c.Setup != nil {
		run = c.Setup(fs)
	}
	if fs.Lookup("help") == nil {
		fs.Bool("help", false, "Print usage")
	}
	return fs, run
}

// execute parses args and runs the command. Every error it returns names
// the command (a commandError), carries docker's exit status, and a flag or
// argument error also carries the usage line.
func (c *Command) execute(ctx context.Context, s *Shell, args []string) error {
	if len(c.Subcommands) > 0 {
		word, rest := c.DefaultSub, args
		if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			word, rest = args[0], args[1:]
		} else if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			return printUsage(s.out, c)
		} else if i := slices.IndexFunc(args, func(a string) bool { return c.sub(a) != nil }); i > 0 {
			// `enforce --force on`: the flags belong to the subcommand.
			return usageError(c, StatusUsage, fmt.Errorf("give the subcommand before its options: %s %s %s", c.Name, args[i], strings.Join(args[:i], " ")))
		}
		sc := c.sub(word)
		if sc == nil {
			return usageError(c, StatusFailed, fmt.Errorf("unknown subcommand %q: one of %s", word, c.subWords()))
		}
		return sc.execute(ctx, s, rest)
	}
	fs, run := c.flagSet()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return printUsage(s.out, c)
		}
		return usageError(c, StatusUsage, err)
	}
	if help, _ := fs.GetBool("help"); help {
		return printUsage(s.out, c)
	}
	pos := fs.Args()
	// docker gives these status 1, not 125: cobra checks arguments after
	// the flags are parsed.
	switch {
	case len(pos) < c.MinArgs:
		return usageError(c, StatusFailed, fmt.Errorf("requires at least %d argument%s", c.MinArgs, plural(c.MinArgs)))
	case c.MaxArgs >= 0 && len(pos) > c.MaxArgs:
		if c.MaxArgs == 0 {
			return usageError(c, StatusFailed, fmt.Errorf("takes no arguments, got %q", pos[0]))
		}
		return usageError(c, StatusFailed, fmt.Errorf("takes at most %d argument%s", c.MaxArgs, plural(c.MaxArgs)))
	}
	if err := run(ctx, s, pos); err != nil {
		return &commandError{cmd: c.Name, err: err}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// nearest suggests the known command closest to a mistyped one, if any is
// close enough to be a plausible typo.
func nearest(name string) string {
	// Allow one edit in short names, two in longer ones: "x" is no typo of "ps".
	maxDist := 1
	if len(name) > 3 {
		maxDist = 2
	}
	best, bestDist := "", maxDist+1
	var names []string
	for _, c := range commands {
		names = append(names, c.Name)
		names = append(names, c.Aliases...)
	}
	sort.Strings(names)
	for _, n := range names {
		if d := editDistance(name, n); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// editDistance is the Damerau (optimal string alignment) distance, so a
// swapped pair like "sotp" is one edit from "stop".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range rb {
		d[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
