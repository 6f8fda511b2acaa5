// Package runner owns dockman's background parts. It builds the ones every
// mode needs (the event Watcher, the inventory it feeds, the engine-status
// notices), takes more (the log keeper, the enforcer, the status API), and
// starts them in order and stops them in reverse: cancel, then wait. The
// interactive shell and the agent each make one Runner, and every part
// that follows the engine belongs to it. (The shell's own goroutines, its
// signal router and a notice timer, belong to the shell's session.)
package runner

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dockman/dockman/inventory"
	"github.com/dockman/dockman/manager"
)

// Part is a background part: Start launches its goroutines and returns
// without waiting for them; Stop cancels them and waits until they have
// returned.
type Part interface {
	Start(ctx context.Context) error
	Stop()
}

// Options configure a Runner.
type Options struct {
	// Log receives what background parts do and what goes wrong: the debug
	// log. Nil: nowhere.
	Log *slog.Logger
	// Notify shows a notice to the person using dockman (above the prompt,
	// or on stderr). It must not block. Nil: notices go to Log only.
	Notify func(msg string)
}

// Runner owns the background parts for one engine.
type Runner struct {
	log     *slog.Logger
	notify  func(string)
	watcher *manager.Watcher
	inv     *inventory.Inventory

	parts   []namedPart
	started []namedPart
}

type namedPart struct {
	name string
	Part
}

// New prepares the parts that follow m's engine; nothing runs until Start.
func New(m *manager.Manager, opts Options) *Runner {
	r := &Runner{log: opts.Log, notify: opts.Notify}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.watcher = m.Watch(r.log)
	r.inv = inventory.New(m, r.log)
	r.Add("inventory", r.inv, r.inv.Handle)
	r.watcher.Subscribe("engine-status", newEngineStatus(m.Host(), r.Notify).Handle)
	return r
}

// Add appends a part, to be started after those added before it and
// stopped before them. handle, if not nil, receives every Watcher event (it
// must only enqueue). Call it before Start.
func (r *Runner) Add(name string, p Part, handle manager.Handler) {
	r.parts = append(r.parts, namedPart{name, p})
	if handle != nil {
		r.watcher.Subscribe(name, handle)
	}
}

// Inventory returns the inventory the Watcher keeps fresh.
func (r *Runner) Inventory() *inventory.Inventory { return r.inv }

// Watcher returns the event Watcher every part is fed by.
func (r *Runner) Watcher() *manager.Watcher { return r.watcher }

// Notify shows msg to the person using dockman and writes it to the debug
// log. Background parts call it for what a person should know now.
func (r *Runner) Notify(msg string) {
	r.log.Info("notice", "msg", msg)
	if r.notify != nil {
		r.notify(msg)
	}
}

// Start starts the parts in the order they were added, then the Watcher,
// so that every part runs before the first event reaches it. If a part
// fails to start, those already started are stopped again.
func (r *Runner) Start(ctx context.Context) error {
	all := append(append([]namedPart(nil), r.parts...), namedPart{"watcher", r.watcher})
	for _, p := range all {
		if err := p.Start(ctx); err != nil {
			r.Stop()
			return fmt.Errorf("start %s: %w", p.name, err)
		}
		r.started = append(r.started, p)
		r.log.Debug("started", "part", p.name)
	}
	return nil
}

// Stop stops the started parts in reverse order, the Watcher first, each
// cancelled and waited for before the next.
func (r *Runner) Stop() {
	for i := len(r.started) - 1; i >= 0; i-- {
		p := r.started[i]
		p.Stop()
		r.log.Debug("stopped", "part", p.name)
	}
	r.started = nil
}
