package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/dockman/dockman/agent"
	"github.com/dockman/dockman/api"
	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/manager"
)

// runAgent is `dockman agent`: the headless agent, until SIGTERM or
// SIGINT. It exits 0 after a clean shutdown, 2 for bad flags, 1 when it
// cannot start.
func runAgent(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("dockman agent", pflag.ContinueOnError)
	common := addCommonFlags(fs, api.DefaultAddr)
	enforceFlag := fs.Bool("enforce", false, "Turn enforcement on at start (taking a snapshot if there is none), without asking")
	logFormat := fs.String("log-format", "text", "Log format on stderr: text or json")
	logLevel := fs.String("log-level", "info", "Least level logged: debug, info, warn or error")
	usage := "Usage: dockman agent [OPTIONS]\n\nRuns headless until SIGTERM or SIGINT: keeps every container's log in\nLOG-DIR, enforces the snapshot when enforcement is on (or with --enforce),\nand serves the read-only status API and /metrics. Logs go to stderr.\n"
	if code, ok := parseArgs(fs, args, "dockman agent", usage, stderr, ""); !ok {
		return code
	}
	cfg, err := common.resolve()
	if err != nil {
		fmt.Fprintf(stderr, "dockman agent: %v\n", err)
		return 2
	}
	log, err := newLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		fmt.Fprintf(stderr, "dockman agent: %v\n", err)
		return 2
	}
	mgr, err := manager.New(cfg.host)
	if err != nil {
		fmt.Fprintf(stderr, "dockman agent: %v\n", err)
		return 2
	}
	defer mgr.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts the shutdown; a second one, while it runs,
	// ends the process at once, as a person pressing Ctrl-C twice means.
	go func() {
		<-ctx.Done()
		stop()
	}()
	err = agent.Run(ctx, mgr, agent.Config{
		Version: version, StateDir: cfg.stateDir, LogDir: cfg.logDir, MaxSize: cfg.maxSize, MaxFiles: cfg.maxFiles,
		NoLogs: cfg.noLogs, Scope: cfg.scope, StopTimeout: cfg.stopTimeout, Enforce: *enforceFlag,
		API: cfg.api, Token: cfg.token, Self: enforce.DetectSelf(), Log: log,
	})
	if err != nil {
		log.Error("agent cannot start", "err", err)
		return 1
	}
	return 0
}

// newLogger is the agent's structured log on w.
func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("invalid --log-level %q: debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("invalid --log-format %q: text or json", format)
}

// runHealth is `dockman health`: it asks a running agent's /readyz and
// exits 0 when it answers 200, else 1 with the reason on stderr; for an
// image's HEALTHCHECK and an orchestrator's probe, with no other tool in
// the image.
func runHealth(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("dockman health", pflag.ContinueOnError)
	addr := fs.String("api", api.DefaultAddr, "The agent's API address (an empty or 0.0.0.0 host means this machine)")
	timeout := fs.Duration("timeout", 3*time.Second, "Give up after this long")
	quiet := fs.BoolP("quiet", "q", false, "Print nothing when ready")
	usage := "Usage: dockman health [OPTIONS]\n\nAsks a running agent whether it is ready (its status API's /readyz: the\nagent runs and its engine answers). Exits 0 if so, else 1.\n"
	if code, ok := parseArgs(fs, args, "dockman health", usage, stderr, ""); !ok {
		return code
	}
	url, err := readyURL(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "dockman health: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(stderr, "dockman health: %v\n", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "dockman health: not ready: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	var body struct{ Status, Error string }
	_ = json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body)
	if resp.StatusCode != http.StatusOK {
		why := strings.TrimSpace(body.Status + ": " + body.Error)
		if body.Status == "" {
			why = resp.Status
		}
		fmt.Fprintf(stderr, "dockman health: not ready: %s\n", strings.TrimSuffix(why, ":"))
		return 1
	}
	if !*quiet {
		fmt.Fprintf(stdout, "ready\n")
	}
	return 0
}

// readyURL is the /readyz URL of an agent listening on addr: the host of
// an address that listens everywhere is reached on loopback.
func readyURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("invalid --api %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "127.0.0.1" // a dual-stack listener takes IPv4 too; a container may have no IPv6
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
