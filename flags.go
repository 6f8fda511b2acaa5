package main

import (
	"errors"
	"fmt"
	"io"
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
	fs.StringVar(&f.tokenFile, "api-token-file", os.Getenv(envTokenFile), "File holding the API's bearer token (default: $"+envTokenFile+"; else the token is $"+envToken+"); required for an address beyond loopback")
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
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return c, fmt.Errorf("--api-token-file: %w", err)
		}
		if c.token = strings.TrimSpace(string(b)); c.token == "" {
			return c, fmt.Errorf("--api-token-file %s is empty", f.tokenFile)
		}
	} else {
		c.token = strings.TrimSpace(os.Getenv(envToken))
	}
	// Checked here, so that a bad address is a usage error (exit 2)
	// rather than a failure to start.
	if _, err := api.New(api.Options{Addr: c.api, Token: c.token}); err != nil {
		return c, fmt.Errorf("invalid --api: %w", err)
	}
	return c, nil
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
