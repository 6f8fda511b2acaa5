package inventory

import (
	"context"
	"errors"
	"slices"
	"sort"

	"github.com/dockman/dockman/internal/workqueue"
	"github.com/dockman/dockman/manager"
)

// The queue keys that ask for the networks or the volumes to be re-listed;
// no container ID looks like them. Events only queue them, so a burst of
// network or volume events costs one list each: the queue runs a key
// waiting several times once.
const (
	NetworksKey = "networks"
	VolumesKey  = "volumes"
)

// refreshNames re-lists the names of one kind of object (networks,
// volumes) with list and stores them with set.
func (inv *Inventory) refreshNames(ctx context.Context, key string, list func(context.Context) ([]string, error), set func([]string)) error {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	names, err := list(ctx)
	if err != nil {
		if errors.Is(err, manager.ErrUnreachable) {
			return workqueue.NoRetry(err) // the resync after the reconnect lists them
		}
		return err
	}
	names = slices.Clone(names)
	sort.Strings(names)
	set(slices.Compact(names))
	inv.updated(key)
	return nil
}

// Networks returns the names of the engine's networks as of the last
// network event or resync, or nil when the inventory is out of sync. It
// never asks the engine: completion reads it on every key.
func (inv *Inventory) Networks() []string { return inv.store.networkNames() }

// Volumes returns the names of the engine's volumes as of the last volume
// event or resync, or nil when the inventory is out of sync. It never asks
// the engine.
func (inv *Inventory) Volumes() []string { return inv.store.volumeNames() }

func (s *store) setNetworks(names []string) {
	s.mu.Lock()
	s.networks = names
	s.mu.Unlock()
}

func (s *store) setVolumes(names []string) {
	s.mu.Lock()
	s.volumes = names
	s.mu.Unlock()
}

func (s *store) networkNames() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.synced {
		return nil
	}
	return slices.Clone(s.networks)
}

func (s *store) volumeNames() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.synced {
		return nil
	}
	return slices.Clone(s.volumes)
}
