// Command dockman is a shell for managing the containers of a Docker host:
// an interactive prompt with history and completion, and the same commands
// from a script (-c, or lines on stdin).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/agent"
	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/logtail"
	"github.com/dockman/dockman/manager"
	"github.com/dockman/dockman/metrics"
	"github.com/dockman/dockman/runner"
	"github.com/dockman/dockman/shell"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the exit, returning the process's exit code. The
// first word picks the command: `agent` and `health` have their own
// flags (agent.go); anything else is the shell's.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "agent":
			return runAgent(args[1:], stdout, stderr)
		case "health":
			return runHealth(args[1:], stdout, stderr)
		}
	}
	fs := pflag.NewFlagSet("dockman", pflag.ContinueOnError)
	common := addCommonFlags(fs, "")
	script := fs.StringP("command", "c", "", "Run these commands (separated by ';') and exit")
	noColor := fs.Bool("no-color", false, "Never colour output")
	debug := fs.Bool("debug", false, "Write more detail to the debug log (STATE-DIR/debug.log)")
	showVersion := fs.Bool("version", false, "Print the version and exit")
	usage := "Usage: dockman [OPTIONS]\n       dockman agent [OPTIONS]\n       dockman health [OPTIONS]\n\nA shell for the containers of a Docker host. Without -c and with a\nterminal on stdin it starts the interactive prompt; otherwise it runs\ncommands from -c or stdin, one per line. 'dockman agent' runs the log\nkeeper, enforcement and the status API headless; 'dockman health' asks a\nrunning agent whether it is ready.\n"
	if code, ok := parseArgs(fs, args, "dockman", usage, stderr, " (commands go in -c '...')"); !ok {
		return code
	}
	if *showVersion {
		fmt.Fprintf(stdout, "dockman %s\n", version)
		return 0
	}
	cfg, err := common.resolve()
	if err != nil {
		fmt.Fprintf(stderr, "dockman: %v\n", err)
		return 2
	}
	mgr, err := manager.New(cfg.host)
	if err != nil {
		fmt.Fprintf(stderr, "dockman: %v\n", err)
		return 2
	}
	defer mgr.Close()
	stateDir, logDir, scope, stopTimeout := cfg.stateDir, cfg.logDir, cfg.scope, cfg.stopTimeout

	// Colour only where a person reads it: each stream decides for itself,
	// so `dockman 2>err.log` keeps escape codes out of the file.
	useColor := !*noColor && os.Getenv("NO_COLOR") == ""
	color.NoColor = !useColor || !isTerminal(stdout)
	colorOut, colorErr := useColor && isTerminal(stdout), useColor && isTerminal(stderr)

	interactive := !fs.Changed("command") && isTerminal(stdin) && isTerminal(stdout)
	if !interactive && cfg.api != "" {
		fmt.Fprintf(stderr, "dockman: --api serves while the interactive shell is open; a script ends at once ('dockman agent' serves it headless)\n")
		return 2
	}
	if !interactive {
		in := stdin
		if fs.Changed("command") {
			in = strings.NewReader(*script)
		}
		// A script edits the snapshot and the on/off state, and leaves the
		// enforcing to the shell or agent that runs on the state directory.
		ctl := enforce.NewController(mgr, enforce.Options{StateDir: stateDir, Scope: scope, StopTimeout: stopTimeout, Self: enforce.DetectSelf()})
		sh := shell.New(mgr, shell.Options{Out: stdout, Err: stderr, ColorOut: colorOut, ColorErr: colorErr,
			LogFiles: func() ([]logtail.FileStatus, error) { return logtail.ReadDir(logDir) }, Enforce: ctl})
		return runScript(sh, in, stderr)
	}

	history, err := shell.OpenHistory(filepath.Join(stateDir, "history"), shell.DefaultHistoryLimit)
	if err != nil {
		fmt.Fprintf(stderr, "dockman: %v (history will not be kept)\n", err)
		history = nil
	}
	logPath := filepath.Join(stateDir, "debug.log")
	logger, closeLog, err := openDebugLog(logPath, *debug)
	if err != nil {
		fmt.Fprintf(stderr, "dockman: %v (no debug log will be kept)\n", err)
		logPath = ""
	}
	defer closeLog()
	logger.Info("dockman started", "version", version, "host", mgr.Host())

	// The background parts (event Watcher, inventory, ...) tell the
	// person at the prompt what they should know through the shell.
	var sh *shell.Shell
	parts := runner.New(mgr, runner.Options{Log: logger, Notify: func(msg string) { sh.Notify(msg) }})
	inv := parts.Inventory()
	mx := metrics.New(version)
	// logfiles and tail read the keeper's memory (Tab may call it too);
	// without a keeper, what the directory holds.
	logFiles := func() ([]logtail.FileStatus, error) { return logtail.ReadDir(logDir) }
	var keeper *logtail.Keeper
	if !cfg.noLogs {
		keeper = logtail.New(mgr, logtail.Options{
			Dir: logDir, MaxSize: cfg.maxSize, MaxFiles: cfg.maxFiles, Log: logger, Notify: parts.Notify, Observer: mx.Logs(),
		})
		parts.Add("logs", keeper, keeper.Handle)
		logFiles = func() ([]logtail.FileStatus, error) { return keeper.Files(), nil }
	}
	// Enforcement runs while the shell is open, and resumes at start if it
	// was on when dockman last ran on this state directory.
	ctl := enforce.NewController(mgr, enforce.Options{
		StateDir: stateDir, Scope: scope, StopTimeout: stopTimeout, Self: enforce.DetectSelf(),
		Log: logger, Notify: parts.Notify, Observer: mx.Enforce(),
	})
	parts.Add("enforce", ctl, ctl.Handle)
	// --api: the same status API the agent serves, while the shell is open.
	if cfg.api != "" {
		mx.Read(agent.Sources(parts, keeper, ctl))
		srv, err := agent.NewServer(cfg.api, cfg.token, parts, ctl, mx, nil, logger)
		if err != nil {
			fmt.Fprintf(stderr, "dockman: %v\n", err)
			return 2
		}
		parts.Add("api", srv, nil)
	}
	sh = shell.New(inv.Front(), shell.Options{
		Out: stdout, Err: stderr, ColorOut: colorOut, ColorErr: colorErr, History: history,
		Completer: shell.NewCompleter(inv), DebugLog: logPath, LogFiles: logFiles, Enforce: ctl,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := parts.Start(ctx); err != nil {
		fmt.Fprintf(stderr, "dockman: %v\n", err)
		return 1
	}
	defer parts.Stop()

	fmt.Fprintf(stdout, "dockman %s on %s: type 'help' for commands, Ctrl-D to leave\n", version, mgr.Host())
	err = sh.Interactive(ctx, "dockman> ")
	if ctl.Running() {
		fmt.Fprintf(stdout, "dockman: enforcement stops with this shell; it resumes when dockman starts again with --state-dir %s ('enforce off' first ends it for good)\n", stateDir)
	}
	if err != nil {
		logger.Error("dockman stopped", "err", err)
		fmt.Fprintf(stderr, "dockman: %v\n", err)
		return 1
	}
	if sig, ok := sh.Signal().(syscall.Signal); ok {
		logger.Info("dockman stopped", "signal", sig.String())
		return 128 + int(sig) // as a shell reports a death by signal
	}
	status, _ := sh.ExitStatus()
	logger.Info("dockman stopped", "status", status)
	return status
}

// runScript runs the commands read from in and returns the exit status:
// N after `exit N`, else 0 when every command succeeded, else docker's
// status for the last failure (125 for a bad flag, 1 for a failed
// operation, ...). SIGINT, SIGTERM and SIGHUP cancel the command under way
// and end the script with 128+signal, as a shell reports a death by signal.
func runScript(sh *shell.Shell, in io.Reader, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	var ending syscall.Signal
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case sig := <-sigs:
			ending = sig.(syscall.Signal)
			cancel()
		case <-done:
		}
	}()
	err := sh.Script(ctx, in)
	close(done)
	<-stopped // ending is settled from here on
	if ending != 0 {
		return 128 + int(ending)
	}
	if n, ok := sh.ExitStatus(); ok {
		return n
	}
	if err != nil && !errors.Is(err, shell.ErrFailed) {
		fmt.Fprintf(stderr, "dockman: %v\n", err)
		return 1
	}
	return shell.ExitStatus(err)
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

// maxDebugLog is the size past which the debug log is moved aside (to
// debug.log.1) when dockman starts, so that it never grows without bound.
const maxDebugLog = 8 << 20

// openDebugLog opens the debug log for appending, with debug-level detail
// when asked: what background parts do and what goes wrong in them. On
// failure it returns a logger that discards, and the error.
func openDebugLog(path string, debug bool) (*slog.Logger, func(), error) {
	discard := slog.New(slog.DiscardHandler)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return discard, func() {}, fmt.Errorf("debug log: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Size() > maxDebugLog {
		_ = os.Rename(path, path+".1")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return discard, func() {}, fmt.Errorf("debug log: %w", err)
	}
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(f, &slog.HandlerOptions{Level: level})).With("pid", os.Getpid())
	return logger, func() { f.Close() }, nil
}

func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}
