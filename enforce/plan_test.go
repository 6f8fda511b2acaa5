package enforce

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/moby/moby/api/types/container"
)

func snapOf(names ...string) *Snapshot {
	s := &Snapshot{Containers: map[string]Saved{}}
	for i, n := range names {
		raw, _ := json.Marshal(map[string]any{"Id": fmt.Sprintf("%064d", i), "Name": "/" + n,
			"Config": map[string]any{"Image": "img"}, "HostConfig": map[string]any{}})
		s.Containers[n] = Saved{Container: raw}
	}
	return s
}

func ctr(id, name string, state container.ContainerState, labels ...string) container.Summary {
	l := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		l[labels[i]] = labels[i+1]
	}
	return container.Summary{ID: id + "0000000000000000", Names: []string{"/" + name}, State: state, Labels: l}
}

func kinds(plan []Action) []string {
	var out []string
	for _, a := range plan {
		out = append(out, string(a.Kind)+" "+a.Name)
	}
	return out
}

func TestPlan(t *testing.T) {
	snap := snapOf("web", "db", "cache", "queue", "gone", "leaving", "husk")
	live := Live{
		Containers: []container.Summary{
			ctr("abababababab", "leaving", container.StateRemoving),
			ctr("cdcdcdcdcdcd", "husk", container.StateDead),
			ctr("efefefefefef", "going", container.StateRemoving),
			ctr("aaaaaaaaaaaa", "web", container.StateRunning),
			ctr("bbbbbbbbbbbb", "db", container.StateExited),
			ctr("cccccccccccc", "cache", container.StatePaused),
			ctr("dddddddddddd", "queue", container.StateRunning), // squatter: queue is owned by another ID
			ctr("eeeeeeeeeeee", "intruder", container.StateRunning),
			ctr("ffffffffffff", "ignored", container.StateRunning, IgnoreLabel, "ignore"),
			ctr("999999999999", "swarmtask", container.StateRunning, swarmServiceLabel, "x1"),
			ctr("888888888888", "k8s_pod", container.StateRunning, kubernetesPodLabel, "u1"),
			ctr("121212121212", "me", container.StateRunning),
		},
		Self:  "121212121212" + "0000000000000000" + "0000",
		Owned: map[string]string{"queue": "other"},
	}
	got := kinds(Plan(snap, live))
	want := []string{
		"start db", "unpause cache", "recreate gone", "leave ignored", "remove intruder",
		"leave me", "remove queue", "recreate queue", "leave swarmtask", "leave web", "leave k8s_pod",
		"leave leaving", "recreate husk", "leave going",
	}
	slices.Sort(want)
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	if !slices.Equal(sorted, want) {
		t.Fatalf("plan\n%q\nwant (in any order)\n%q", got, want)
	}
	// The squatter goes before its name is used again.
	if i, j := slices.Index(got, "remove queue"), slices.Index(got, "recreate queue"); i > j {
		t.Errorf("recreate queue planned before the squatter's removal: %q", got)
	}
	// Doing it twice plans the same: it reads only the present.
	if again := kinds(Plan(snap, live)); !slices.Equal(again, got) {
		t.Errorf("a second plan differs: %q", again)
	}
}

func TestDrastic(t *testing.T) {
	live := Live{Containers: []container.Summary{
		ctr("aaaaaaaaaaaa", "a", container.StateRunning),
		ctr("bbbbbbbbbbbb", "b", container.StateRunning),
		ctr("cccccccccccc", "c", container.StateRunning),
	}}
	if Drastic(Plan(snapOf("a", "b"), live), live) {
		t.Error("removing 1 of 3 called drastic")
	}
	if !Drastic(Plan(snapOf("a"), live), live) {
		t.Error("removing 2 of 3 not called drastic")
	}
	if !Drastic(Plan(snapOf(), live), live) {
		t.Error("an empty snapshot removing everything not called drastic")
	}
}

// A container that holds a snapshot name but is exempt is left alone,
// squatter or not: dockman's own container after an upgrade (recreated
// under the same name, so with another ID), an ignored one, a Swarm task.
func TestPlanExemptHoldsSnapshotName(t *testing.T) {
	snap := snapOf("dockman", "side", "svc")
	live := Live{
		Containers: []container.Summary{
			ctr("121212121212", "dockman", container.StateRunning),
			ctr("343434343434", "side", container.StateExited, IgnoreLabel, "ignore"),
			ctr("565656565656", "svc", container.StateRunning, swarmServiceLabel, "x1"),
		},
		Self:  "121212121212",
		Owned: map[string]string{"dockman": "old", "side": "old", "svc": "old"},
	}
	got := kinds(Plan(snap, live))
	want := []string{"leave dockman", "leave side", "leave svc"}
	if !slices.Equal(got, want) {
		t.Fatalf("plan %q, want %q", got, want)
	}
}

func TestIsSelf(t *testing.T) {
	id := "121212121212abcdef"
	for _, tc := range []struct {
		id, self string
		want     bool
	}{
		{id, "121212121212", true},
		{"121212121212", id, true},
		{id, "", false},
		{"", id, false},
		{id, "1212", false}, // too short to tell
		{id, "121212121213", false},
	} {
		if got := IsSelf(tc.id, tc.self); got != tc.want {
			t.Errorf("IsSelf(%q, %q) = %v", tc.id, tc.self, got)
		}
	}
}
