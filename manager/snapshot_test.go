package manager

import (
	"slices"
	"testing"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/moby/moby/api/types/container"
)

// TestSnapshotAgreesWithEngine asks the engine and a synced Inventory the
// same questions: wherever the inventory answers instead of the engine, it
// must give the engine's answer. The engine is the reference, so this holds
// for whatever version runs the tests.
func TestSnapshotAgreesWithEngine(t *testing.T) {
	e := newEnv(t)
	token := testenv.Name("agree")
	labelled := func(extra map[string]string) *container.Config {
		return &container.Config{Labels: extra}
	}
	webCfg := labelled(map[string]string{"dmt.role": "web", "dmt.tier": "front"})
	webCfg.Cmd = []string{"sleep", "600"}
	web := e.create(t, token+"-web", webCfg, nil)
	e.start(t, web)
	dbCfg := labelled(map[string]string{"dmt.role": "db"})
	dbCfg.Cmd = []string{"true"}
	db := e.create(t, token+"-db", dbCfg, nil)
	e.start(t, db)
	e.waitExit(t, db)
	cacheCfg := labelled(map[string]string{"dmt.role": "web"})
	cacheCfg.Cmd = []string{"true"}
	cache := e.create(t, token+"-cache", cacheCfg, nil) // never started
	mine := []string{web, db, cache}

	rec := newRecorder()
	live := NewLive(e.m, rec.handle)
	inv := live.Inventory()
	live.Start(t.Context())
	t.Cleanup(live.Stop)
	// Handlers run in order: once rec has the Resync, inv has it too.
	rec.wait(t, 0, "Resync", isResync)

	label := testenv.LabelKey + "=" + e.label
	tests := []struct {
		name    string
		all     bool
		filters map[string][]string
	}{
		{"label", true, map[string][]string{"label": {label}}},
		{"label, running only", false, map[string][]string{"label": {label}}},
		{"status without all", false, map[string][]string{"label": {label}, "status": {"exited"}}},
		{"two statuses without all", false, map[string][]string{"label": {label}, "status": {"created", "exited"}}},
		{"two statuses", true, map[string][]string{"label": {label}, "status": {"created", "running"}}},
		{"name substring", true, map[string][]string{"name": {token}}},
		{"name anchored with slash", true, map[string][]string{"name": {"^/" + token + "-web$"}}},
		{"name anchored without slash", true, map[string][]string{"name": {"^" + token + "-web$"}}},
		{"two names", true, map[string][]string{"name": {token + "-db", token + "-cache"}}},
		{"id prefix", true, map[string][]string{"id": {web[:12]}}},
		{"id middle", true, map[string][]string{"id": {db[20:40]}}},
		{"id with a caret", true, map[string][]string{"id": {"^" + web[:12]}}},
		{"full id", true, map[string][]string{"id": {cache}}},
		{"label key only", true, map[string][]string{"label": {label, "dmt.role"}}},
		{"two labels must both match", true, map[string][]string{"label": {label, "dmt.role=web"}}},
		{"three labels must all match", true, map[string][]string{"label": {label, "dmt.role=web", "dmt.tier=front"}}},
		{"label and status", true, map[string][]string{"label": {label, "dmt.role=web"}, "status": {"created"}}},
	}
	// keep narrows a list to this test's containers: the engine is shared.
	keep := func(ids []string) []string {
		var out []string
		for _, id := range ids {
			if slices.Contains(mine, id) {
				out = append(out, id)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := ListOptions{All: tt.all, Filters: tt.filters}
			cached, answered := inv.List(opts)
			if !answered {
				t.Skip("the inventory leaves this one to the engine")
			}
			live, err := e.m.Containers(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			var liveIDs, cachedIDs []string
			for _, c := range live {
				liveIDs = append(liveIDs, c.ID)
			}
			for _, c := range cached {
				cachedIDs = append(cachedIDs, c.ID)
			}
			if got, want := keep(cachedIDs), keep(liveIDs); !slices.Equal(got, want) {
				t.Errorf("inventory lists %s, the engine %s (web %s, db %s, cache %s)",
					shortIDs(got), shortIDs(want), ShortID(web), ShortID(db), ShortID(cache))
			}
		})
	}
}
