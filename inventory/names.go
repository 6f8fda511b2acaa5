package inventory

import (
	"context"
	"slices"
)

// The queue keys that ask for the networks or the volumes to be re-listed;
// no container ID looks like them. Events only queue them, so a burst of
// network or volume events costs one list each: the queue runs a key
// waiting several times once.
const (
	NetworksKey = "networks"
	VolumesKey  = "volumes"
)

// refreshNames re-lists the names of one kind of object (NetworksKey,
// VolumesKey) with list, and stores them sorted and unique.
func (inv *Inventory) refreshNames(ctx context.Context, key string, list func(context.Context) ([]string, error)) error {
	return inv.relist(ctx, key, func(ctx context.Context) error {
		names, err := list(ctx)
		if err != nil {
			return err
		}
		slices.Sort(names)
		inv.store.setNames(key, slices.Compact(names))
		return nil
	})
}

// Networks returns the names of the engine's networks as of the last
// network event or resync, sorted and unique. It never asks the engine:
// completion reads it on every key.
func (inv *Inventory) Networks() []string { return inv.store.namesOf(NetworksKey) }

// Volumes returns the names of the engine's volumes as of the last volume
// event or resync, sorted and unique. It never asks the engine.
func (inv *Inventory) Volumes() []string { return inv.store.namesOf(VolumesKey) }

func (s *store) setNames(key string, names []string) {
	s.mu.Lock()
	s.gen.Add(1)
	defer s.mu.Unlock()
	s.names[key] = names
}

// namesOf returns the names last listed for key, as images' tags are:
// the last known, also while the inventory re-syncs.
func (s *store) namesOf(key string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.names[key])
}
