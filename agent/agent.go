// Package agent is headless dockman: the log keeper, the enforcer and the
// status API on one runner, until its context ends, for servers where no
// one sits at a prompt. Several agents may start on one state directory
// (an upgrade that starts the new one before it stops the old one): the
// one that holds the directory's lock keeps the logs and enforces, the
// others serve the API and wait to take over (leader.go).
package agent

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/dockman/dockman/api"
	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/logtail"
	"github.com/dockman/dockman/manager"
	"github.com/dockman/dockman/metrics"
	"github.com/dockman/dockman/runner"
)

// Config is what `dockman agent` is told by its flags.
type Config struct {
	Version string
	// StateDir holds the snapshot, enforcement's state and audit log, and
	// the agent's lock; LogDir the containers' log files.
	StateDir string
	LogDir   string
	// MaxSize and MaxFiles rotate the log files; NoLogs keeps none.
	MaxSize  int64
	MaxFiles int
	NoLogs   bool
	// Scope and StopTimeout are enforcement's (see enforce.Options).
	Scope       enforce.Scope
	StopTimeout int
	// Enforce turns enforcement on when the agent takes the lead, taking
	// a snapshot first if there is none, without asking.
	Enforce bool
	// API is the status API's address; "" serves none. Token is the
	// bearer token it requires (api.New refuses a non-loopback address
	// without one).
	API   string
	Token string
	// Self is the agent's own container ID when it runs in one (never
	// touched by enforcement).
	Self string
	Log  *slog.Logger
}

// LockFile is the agent's lock in the state directory: its holder leads.
const LockFile = "agent.lock"

// Agent is the headless agent's parts on one runner.
type Agent struct {
	cfg  Config
	log  *slog.Logger
	host string
	r    *runner.Runner
	srv  *api.Server // nil: no API
	lead *leader
}

// New builds the agent's parts; nothing runs until Start. It fails when
// the API's options are wrong (an address beyond loopback without a
// token).
func New(m *manager.Manager, cfg Config) (*Agent, error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mx := metrics.New(cfg.Version)
	r := runner.New(m, runner.Options{Log: log})

	// The keeper and the controller hear every event from the start (their
	// handlers only queue), but run only while this agent leads. No one
	// reads notices here: each part logs what a person would be told.
	var keeper *logtail.Keeper
	var led []runner.Part
	if !cfg.NoLogs {
		keeper = logtail.New(m, logtail.Options{Dir: cfg.LogDir, MaxSize: cfg.MaxSize, MaxFiles: cfg.MaxFiles,
			Log: log, Observer: mx.Logs()})
		r.Watcher().Subscribe("logs", keeper.Handle)
		led = append(led, keeper)
	}
	ctl := enforce.NewController(m, enforce.Options{StateDir: cfg.StateDir, Scope: cfg.Scope, StopTimeout: cfg.StopTimeout,
		Self: cfg.Self, Log: log, Observer: mx.Enforce()})
	r.Watcher().Subscribe("enforce", ctl.Handle)
	led = append(led, ctl)

	others := []string{filepath.Join(cfg.StateDir, enforce.LockFile)}
	if keeper != nil {
		others = append(others, filepath.Join(cfg.LogDir, logtail.LockFile))
	}
	a := &Agent{cfg: cfg, log: log, host: m.Host(), r: r,
		lead: newLeader(filepath.Join(cfg.StateDir, LockFile), others, led, log)}
	a.lead.then = func(ctx context.Context) {
		if cfg.Enforce {
			enforceOn(ctx, ctl, log)
		}
		// The Watcher's first resync may have come before this agent led,
		// while no enforcer ran to hear it: ask for another, so that what
		// changed while no agent ran (an intruder started, a container
		// stopped) is seen now, not at the next event or periodic resync.
		r.Watcher().Resync()
	}
	src := Sources(r, keeper, ctl)
	src.Leading = a.lead.Leading
	mx.Read(src)
	if cfg.API != "" {
		srv, err := NewServer(cfg.API, cfg.Token, r, ctl, mx, a.lead.Leading, log)
		if err != nil {
			return nil, err
		}
		a.srv = srv
		r.Add("api", srv, nil)
	}
	r.Add("lead", a.lead, nil)
	return a, nil
}

// Start binds the API and starts the parts; the log keeper and enforcer
// start once this agent holds the state directory.
func (a *Agent) Start(ctx context.Context) error {
	if err := a.r.Start(ctx); err != nil {
		return err
	}
	a.log.Info("agent started", "version", a.cfg.Version, "host", a.host, "state_dir", a.cfg.StateDir,
		"log_dir", a.cfg.LogDir, "api", a.APIAddr(), "scope", a.cfg.Scope.String())
	return nil
}

// Stop stops the parts in order: events first; then the log followers
// drain and the files, cursors and snapshot are made durable, and the
// state directory is let go; the API last.
func (a *Agent) Stop() {
	a.log.Info("agent stopping")
	a.r.Stop()
	a.log.Info("agent stopped")
}

// APIAddr is the address the API listens on ("" without one), with the
// port the system chose for port 0.
func (a *Agent) APIAddr() string {
	if a.srv == nil {
		return ""
	}
	return a.srv.Addr()
}

// Leading reports whether this agent holds the state directory (keeps
// the logs, may enforce).
func (a *Agent) Leading() bool { return a.lead.Leading() }

// Run runs an agent until ctx ends, then stops it (see Stop) and returns
// nil. It returns an error only when the agent cannot start (its API's
// address is wrong or taken).
func Run(ctx context.Context, m *manager.Manager, cfg Config) error {
	a, err := New(m, cfg)
	if err != nil {
		return err
	}
	if err := a.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	a.Stop()
	return nil
}

// enforceOn turns enforcement on as --enforce asks: no question (the
// operator said so), a snapshot taken first if there is none.
func enforceOn(ctx context.Context, ctl *enforce.Controller, log *slog.Logger) {
	res, err := ctl.On(ctx, enforce.OnOptions{Force: true})
	if err != nil {
		log.Error("enforce on", "err", err)
		return
	}
	n := 0
	if res.Preview.Snapshot != nil {
		n = len(res.Preview.Snapshot.Containers)
	}
	log.Info("enforcing", "snapshot_taken", res.Taken, "containers", n)
}

// NewServer builds the status API over a runner's parts; the shell's
// --api uses it too. leader may be nil (always leading).
func NewServer(addr, token string, r *runner.Runner, ctl *enforce.Controller, mx *metrics.Metrics, leader func() bool, log *slog.Logger) (*api.Server, error) {
	srv, err := api.New(api.Options{
		Addr: addr, Token: token,
		Containers: r.Inventory(), Engine: r.Watcher(), Enforce: ctl, Leader: leader,
		Metrics: mx.Handler(), Observe: mx.ObserveRequest, Log: log,
	})
	if err != nil {
		return nil, fmt.Errorf("status API: %w", err)
	}
	return srv, nil
}

// Sources are what a metrics scrape reads from the parts. keeper may be
// nil (no logs kept).
func Sources(r *runner.Runner, keeper *logtail.Keeper, ctl *enforce.Controller) metrics.Sources {
	inv, w := r.Inventory(), r.Watcher()
	src := metrics.Sources{
		Containers: func() (map[string]int, bool) {
			list, ok := inv.List(manager.ListOptions{All: true})
			if !ok {
				return nil, false
			}
			by := map[string]int{}
			for _, c := range list {
				by[string(c.State)]++
			}
			return by, true
		},
		EngineUp:   func() bool { up, _ := w.Connected(); return up },
		Reconnects: w.Reconnects,
		Enforce: func() (int, bool, int, int, bool) {
			st, err := ctl.Status()
			if err != nil {
				return 0, false, 0, 0, false
			}
			n := 0
			if st.Snapshot != nil {
				n = len(st.Snapshot.Containers)
			}
			return n, st.Here, len(st.Backoff), len(st.Failing), true
		},
	}
	if keeper != nil {
		src.Followers = keeper.Following
	}
	return src
}
