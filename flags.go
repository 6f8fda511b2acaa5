package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	units "github.com/docker/go-units"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/api"
	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/logtail"
	"github.com/dockman/dockman/manager"
)

// Environment variables read for the API's token, so that it never has to
// be on a command line (where ps shows it).
const (
	envToken     = "DOCKMAN_API_TOKEN"
	envTokenFile = "DOCKMAN_API_TOKEN_FILE"
)

// commonFlags are the flags the shell and the agent share: the engine, the
// state and log directories, enforcement's scope, and the status API.
type commonFlags struct {
	host, stateDir, logDir, logMaxSize string
	logMaxFiles                        int
	noLogs                             bool
	scope                              []string
	stopTimeout                        int
	api, tokenFile                     string
}

// config is commonFlags checked and resolved.
type config struct {
	host, stateDir, logDir string
	maxSize                int64
	maxFiles               int
	noLogs                 bool
	scope                  enforce.Scope
	stopTimeout            int
	api, token             string // api "": no API
}

// addCommonFlags registers the shared flags on fs; apiDefault is the
// status API's default address ("": none unless asked).
func addCommonFlags(fs *pflag.FlagSet, apiDefault string) *commonFlags {
	f := &commonFlags{}
	fs.StringVarP(&f.host, "host", "H", "", "Docker engine address (default: $DOCKER_HOST, else "+manager.DefaultHost+")")
	fs.StringVar(&f.stateDir, "state-dir", defaultStateDir(), "Directory for history, the snapshot and other state")
	fs.StringVar(&f.logDir, "log-dir", "", "Directory for container log files (default: STATE-DIR/logs)")
	fs.StringVar(&f.logMaxSize, "log-max-size", "10m", "Rotate a container's log file past this size (0: never)")
	fs.IntVar(&f.logMaxFiles, "log-max-files", logtail.DefaultMaxFiles, "Log files kept per container, the current one included")
	fs.BoolVar(&f.noLogs, "no-logs", false, "Do not keep the containers' logs in files")
	fs.StringArrayVar(&f.scope, "scope", nil, "Confine snapshots and enforcement to containers with this label=value (repeatable: all of them)")
	fs.IntVar(&f.stopTimeout, "stop-timeout", enforce.DefaultStopTimeout, "Seconds enforcement gives an intruder to stop before killing it")
	apiHelp := "Serve the read-only status API on this host:port while the shell is open"
	if apiDefault != "" {
		apiHelp = "Serve the read-only status API on this host:port ('off': none)"
	}
	fs.StringVar(&f.api, "api", apiDefault, apiHelp)
	fs.StringVar(&f.tokenFile, "api-token-file", "", "File holding the API's bearer token (else $"+envToken+", else the file $"+envTokenFile+" names); required for an address beyond loopback")
	return f
}

// resolve checks the flags and reads the token.
func (f *commonFlags) resolve() (config, error) {
	c := config{host: f.host, stateDir: f.stateDir, logDir: f.logDir, maxFiles: f.logMaxFiles,
		noLogs: f.noLogs, stopTimeout: f.stopTimeout, api: f.api}
	var err error
	c.maxSize, err = units.RAMInBytes(f.logMaxSize)
	if err != nil || c.maxSize < 0 {
		return c, fmt.Errorf("invalid --log-max-size %q: give a size such as 10m or 1g", f.logMaxSize)
	}
	if f.logMaxFiles < 2 {
		return c, fmt.Errorf("invalid --log-max-files %d: at least 2 (the current file and one rotated)", f.logMaxFiles)
	}
	if c.scope, err = enforce.ParseScope(f.scope); err != nil {
		return c, fmt.Errorf("invalid --%v", err)
	}
	if f.stopTimeout < 0 {
		return c, fmt.Errorf("invalid --stop-timeout %d: seconds, 0 or more", f.stopTimeout)
	}
	if c.logDir == "" {
		c.logDir = filepath.Join(c.stateDir, "logs")
	}
	if c.api == "off" {
		c.api = ""
	}
	if c.api == "" {
		return c, nil
	}
	if c.token, err = f.readToken(c.api); err != nil {
		return c, err
	}
	// Checked here, so that a bad address is a usage error (exit 2)
	// rather than a failure to start.
	if _, err := api.New(api.Options{Addr: c.api, Token: c.token}); err != nil {
		return c, fmt.Errorf("invalid --api: %w", err)
	}
	return c, nil
}

// readToken finds the API's token: the file --api-token-file names, else
// $DOCKMAN_API_TOKEN, else the file $DOCKMAN_API_TOKEN_FILE names. The
// last is the image's default (a secret mounted there), so a file missing
// there means no token rather than an error, unless the address is
// beyond loopback, which needs one.
func (f *commonFlags) readToken(addr string) (string, error) {
	read := func(what, path string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("%s: %s is empty", what, path)
		}
		return tok, nil
	}
	if f.tokenFile != "" {
		return read("--api-token-file", f.tokenFile)
	}
	if tok := strings.TrimSpace(os.Getenv(envToken)); tok != "" {
		return tok, nil
	}
	path := os.Getenv(envTokenFile)
	if path == "" {
		return "", nil
	}
	tok, err := read("$"+envTokenFile, path)
	if errors.Is(err, os.ErrNotExist) {
		if host, _, _ := net.SplitHostPort(addr); api.IsLoopback(host) {
			return "", nil
		}
	}
	return tok, err
}

// parseArgs parses a command's flags, the same way for the shell, the
// agent and health: -h/--help prints the usage (ok false, code 0); a bad
// flag, or an argument where none is taken, is one line on stderr (ok
// false, code 2). stray, if set, is added to the stray argument's line.
func parseArgs(fs *pflag.FlagSet, args []string, name, usage string, stderr io.Writer, stray string) (code int, ok bool) {
	fs.SetOutput(stderr)
	fs.BoolP("help", "h", false, "Print this help and exit")
	fs.Usage = func() { fmt.Fprintf(stderr, "%s\nOptions:\n%s", usage, fs.FlagUsages()) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return 0, false
		}
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2, false
	}
	if help, _ := fs.GetBool("help"); help {
		fs.Usage()
		return 0, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q%s\n", name, fs.Arg(0), stray)
		return 2, false
	}
	return 0, true
}
