package inventory

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"

	"github.com/dockman/dockman/manager"
)

// TestNamesFollowEvents: networks and volumes are listed after a resync
// and after their events, a burst of events costs one list (plus one for
// events that came while it ran), and reading the names never asks the
// engine.
func TestNamesFollowEvents(t *testing.T) {
	var networkLists, volumeLists atomic.Int32
	networks := []string{"bridge", "host", "none"}
	release := make(chan struct{})
	listing := make(chan struct{}, 1)
	var first atomic.Bool
	eng := &fakeEngine{
		networks: func() ([]string, error) {
			networkLists.Add(1)
			if first.CompareAndSwap(false, true) {
				listing <- struct{}{}
				<-release // hold the first list until the burst has come
			}
			return slices.Clone(networks), nil
		},
		volumes: func() ([]string, error) {
			volumeLists.Add(1)
			return []string{"pgdata", "cache", "cache"}, nil
		},
		images: func() ([]image.Summary, error) { return nil, nil },
	}
	inv := New(eng, nil)
	updates := make(chan string, 64)
	inv.OnUpdate = func(key string) { updates <- key }
	if err := inv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inv.Stop)
	waitKey := func(want string) {
		t.Helper()
		deadline := time.After(guard)
		for {
			select {
			case key := <-updates:
				if key == want {
					return
				}
			case <-deadline:
				t.Fatalf("timed out waiting for the %s update", want)
			}
		}
	}

	inv.Handle(manager.Event{Resync: true})
	<-listing
	waitKey(VolumesKey)
	// A burst of network events while the first list runs: one list more.
	networks = append(networks, "backend")
	for range 50 {
		inv.Handle(manager.Event{Type: events.NetworkEventType, Action: events.ActionCreate, ID: "n1", Name: "backend"})
	}
	close(release)
	if got, want := inv.Volumes(), []string{"cache", "pgdata"}; !slices.Equal(got, want) {
		t.Errorf("Volumes = %q, want %q (sorted, once each)", got, want)
	}
	waitKey(NetworksKey)
	waitKey(NetworksKey)
	if got, want := inv.Networks(), []string{"backend", "bridge", "host", "none"}; !slices.Equal(got, want) {
		t.Errorf("Networks = %q, want %q", got, want)
	}
	if n := networkLists.Load(); n != 2 {
		t.Errorf("%d network lists for a resync and 50 events during its list, want 2", n)
	}

	// Reading the names is memory only.
	for range 100 {
		inv.Networks()
		inv.Volumes()
	}
	if n, v := networkLists.Load(), volumeLists.Load(); n != 2 || v != 1 {
		t.Errorf("after reads: %d network and %d volume lists, want 2 and 1", n, v)
	}

	// A volume event re-lists volumes only.
	inv.Handle(manager.Event{Type: events.VolumeEventType, Action: events.ActionDestroy, ID: "cache"})
	waitKey(VolumesKey)
	if n, v := networkLists.Load(), volumeLists.Load(); n != 2 || v != 2 {
		t.Errorf("after a volume event: %d network and %d volume lists, want 2 and 2", n, v)
	}

	// Out of sync, the last names known are still offered, as image tags
	// are: completion is a suggestion, and the resync re-lists them.
	inv.Handle(manager.Event{Lost: true})
	if got, want := inv.Networks(), []string{"backend", "bridge", "host", "none"}; !slices.Equal(got, want) {
		t.Errorf("Networks after the stream was lost = %q, want %q", got, want)
	}
}
