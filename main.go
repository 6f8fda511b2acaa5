// Command dockman is a shell for managing the containers of a Docker host:
// an interactive prompt with history and completion, and the same commands
// from a script (-c, or lines on stdin).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/manager"
	"github.com/dockman/dockman/shell"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the exit, returning the process's exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("dockman", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	host := fs.StringP("host", "H", "", "Docker engine address (default: $DOCKER_HOST, else "+manager.DefaultHost+")")
	stateDir := fs.String("state-dir", defaultStateDir(), "Directory for history and other state")
	fs.String("log-dir", "", "Directory for container log files (default: STATE-DIR/logs)")
	script := fs.StringP("command", "c", "", "Run these commands (separated by ';') and exit")
	noColor := fs.Bool("no-color", false, "Never colour output")
	showVersion := fs.Bool("version", false, "Print the version and exit")
	fs.BoolP("help", "h", false, "Print this help and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: dockman [OPTIONS]\n\nA shell for the containers of a Docker host. Without -c and with a\nterminal on stdin it starts the interactive prompt; otherwise it runs\ncommands from -c or stdin, one per line.\n\nOptions:\n%s", fs.FlagUsages())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "dockman: %v\n", err)
		return 2
	}
	if help, _ := fs.GetBool("help"); help {
		fs.Usage()
		return 0
	}
	if *showVersion {
		fmt.Fprintf(stdout, "dockman %s\n", version)
		return 0
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dockman: unexpected argument %q (commands go in -c '...')\n", fs.Arg(0))
		return 2
	}
	mgr, err := manager.New(*host)
	if err != nil {
		fmt.Fprintf(stderr, "dockman: %v\n", err)
		return 2
	}
	defer mgr.Close()

	interactive := !fs.Changed("command") && isTerminal(stdin) && isTerminal(stdout)
	if !interactive {
		color.NoColor = true
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		sh := shell.New(mgr, shell.Options{Out: stdout, Err: stderr})
		in := stdin
		if fs.Changed("command") {
			in = strings.NewReader(*script)
		}
		if err := sh.Script(ctx, in); err != nil {
			switch {
			case errors.Is(err, context.Canceled):
				return 130 // interrupted, as a shell reports it; nothing to add
			case !errors.Is(err, shell.ErrFailed):
				fmt.Fprintf(stderr, "dockman: %v\n", err)
			}
			return 1
		}
		return 0
	}

	useColor := !*noColor && os.Getenv("NO_COLOR") == ""
	color.NoColor = !useColor
	history, err := shell.OpenHistory(filepath.Join(*stateDir, "history"), shell.DefaultHistoryLimit)
	if err != nil {
		fmt.Fprintf(stderr, "dockman: %v (history will not be kept)\n", err)
		history = nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	live := manager.NewLive(mgr)
	live.Start(ctx)
	defer live.Stop()
	cache := shell.NewCache(mgr)

	sh := shell.New(mgr, shell.Options{Out: stdout, Err: stderr, Color: useColor, History: history, Cache: cache})
	fmt.Fprintf(stdout, "dockman %s on %s: type 'help' for commands, Ctrl-D to leave\n", version, mgr.Host())
	if err := sh.Interactive(ctx, "dockman> "); err != nil {
		fmt.Fprintf(stderr, "dockman: %v\n", err)
		return 1
	}
	if sig, ok := sh.Signal().(syscall.Signal); ok {
		return 128 + int(sig) // as a shell reports a death by signal
	}
	return 0
}

// defaultStateDir is $XDG_STATE_HOME/dockman, else ~/.local/state/dockman.
func defaultStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "dockman")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "dockman")
	}
	return ".dockman"
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}
