package manager

import "context"

// Live follows the engine for a Manager: one Watcher feeds an Inventory,
// which the Manager then serves Snapshot, Resolve, Cached and CachedImages
// from, and any other handlers (the log keeper and the enforcer later). It is the wiring the interactive shell and the agent share.
type Live struct {
	inv     *Inventory
	watcher *Watcher
}

// NewLive prepares to follow the engine for m; nothing runs until Start.
// It attaches its Inventory to m, so call it before m is shared between
// goroutines. handlers receive every event after the Inventory has.
func NewLive(m *Manager, handlers ...Handler) *Live {
	inv := NewInventory(m)
	m.UseInventory(inv)
	return &Live{inv: inv, watcher: m.Watch(append([]Handler{inv.Handle}, handlers...)...)}
}

// Inventory returns the Inventory the Watcher keeps fresh.
func (l *Live) Inventory() *Inventory { return l.inv }

// Watcher returns the Watcher that feeds the Inventory and the handlers.
func (l *Live) Watcher() *Watcher { return l.watcher }

// Start runs the Inventory's worker and the Watcher.
func (l *Live) Start(ctx context.Context) {
	l.inv.Start(ctx)
	l.watcher.Start(ctx)
}

// Stop ends the Watcher, then the Inventory's worker, and waits for both.
func (l *Live) Stop() {
	l.watcher.Stop()
	l.inv.Stop()
}

// Cached returns the containers opts selects from the Inventory, without
// ever asking the engine: false when there is no Inventory, it is out of
// sync, or a filter needs the engine. Completion uses it, so that pressing
// Tab never waits on Docker.
func (m *Manager) Cached(opts ListOptions) ([]Container, bool) {
	if m.inv == nil {
		return nil, false
	}
	return m.inv.List(opts)
}

// CachedImages returns the image tags the Inventory knows, without asking
// the engine; nil without an Inventory.
func (m *Manager) CachedImages() []string {
	if m.inv == nil {
		return nil
	}
	return m.inv.ImageTags()
}
