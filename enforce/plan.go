package enforce

import (
	"fmt"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/container"
)

// Kind is what enforcement does to one container.
type Kind string

const (
	KindLeave    Kind = "leave"    // as it should be, or exempt
	KindStart    Kind = "start"    // a snapshot container that is not running
	KindUnpause  Kind = "unpause"  // a snapshot container that is paused
	KindRecreate Kind = "recreate" // a snapshot container that was deleted
	KindRemove   Kind = "remove"   // an intruder: archived, stopped and removed
)

// Action is one step of a plan, with the reason a person reads.
type Action struct {
	Kind   Kind
	Name   string
	ID     string // the live container's, when there is one
	Reason string
}

// IgnoreLabel exempts a container from enforcement: dockman.enforce=ignore.
const IgnoreLabel = "dockman.enforce"

// swarmServiceLabel marks the tasks of a Swarm service: Swarm would only
// start a removed one again, so they are left to Swarm.
const swarmServiceLabel = "com.docker.swarm.service.id"

// kubernetesPodLabel marks the containers of a Kubernetes pod run on
// Docker (cri-dockerd, dockershim): the kubelet owns them, and would
// start a removed one again.
const kubernetesPodLabel = "io.kubernetes.pod.uid"

// Live is what a plan needs to know of the engine now.
type Live struct {
	// Containers in scope, every state.
	Containers []container.Summary
	// Self is dockman's own container ID when it runs in one ("" if not).
	Self string
	// Owned maps a snapshot name to the ID of the container that is it
	// now: the saved one, or the one enforcement made when it recreated
	// it. Another container of that name is an intruder squatting it.
	Owned map[string]string
}

// Plan says what enforcement would do now to make the engine hold exactly
// the snapshot's containers, running: level-triggered, it reads only the
// present, so doing it twice does no more than doing it once. The actions
// are sorted by name, removals of squatters before the recreations they
// make room for.
func Plan(snap *Snapshot, live Live) []Action {
	var plan []Action
	byName := map[string]container.Summary{}
	for _, c := range live.Containers {
		byName[nameOf(c)] = c
	}
	inSnapshot := map[string]bool{}
	for _, name := range snap.Names() {
		inSnapshot[name] = true
		c, ok := byName[name]
		if why := exempt(c, live.Self); ok && why != "" {
			// Never touched, whatever holds the name: dockman itself
			// after an upgrade, an ignored or a Swarm container.
			plan = append(plan, Action{KindLeave, name, c.ID, why})
			continue
		}
		owned := live.Owned[name]
		if ok && owned != "" && c.ID != owned {
			plan = append(plan, Action{KindRemove, name, c.ID, "squats the name of a snapshot container"})
			ok = false
		}
		if !ok {
			plan = append(plan, Action{KindRecreate, name, "", "deleted"})
			continue
		}
		switch c.State {
		case container.StateRunning:
			plan = append(plan, Action{KindLeave, name, c.ID, "running, as in the snapshot"})
		case container.StatePaused:
			plan = append(plan, Action{KindUnpause, name, c.ID, "paused"})
		case container.StateRestarting:
			plan = append(plan, Action{KindLeave, name, c.ID, "restarting (its restart policy acts)"})
		case container.StateRemoving:
			// The engine holds the name until the removal ends: a
			// create now would fail. Its destroy event queues the name
			// again, and then it is recreated.
			plan = append(plan, Action{KindLeave, name, c.ID, "being removed: created again once it is gone"})
		case container.StateDead:
			plan = append(plan, Action{KindRecreate, name, c.ID, "dead"})
		default:
			plan = append(plan, Action{KindStart, name, c.ID, string(c.State)})
		}
	}
	for _, c := range live.Containers {
		name := nameOf(c)
		if inSnapshot[name] {
			continue
		}
		if why := exempt(c, live.Self); why != "" {
			plan = append(plan, Action{KindLeave, name, c.ID, why})
		} else if c.State == container.StateRemoving {
			// Someone removes it already: archiving it would fail
			// (its logs cannot be read any more) and gain nothing.
			plan = append(plan, Action{KindLeave, name, c.ID, "not in the snapshot, and being removed already"})
		} else {
			plan = append(plan, Action{KindRemove, name, c.ID, fmt.Sprintf("not in the snapshot (%s)", c.State)})
		}
	}
	sort.SliceStable(plan, func(i, j int) bool {
		if plan[i].Name != plan[j].Name {
			return plan[i].Name < plan[j].Name
		}
		return plan[i].Kind == KindRemove && plan[j].Kind != KindRemove
	})
	return plan
}

// exempt says why enforcement never touches c, or "" when it may.
func exempt(c container.Summary, self string) string {
	switch {
	case IsSelf(c.ID, self):
		return "dockman's own container"
	case c.Labels[IgnoreLabel] == "ignore":
		return "labelled " + IgnoreLabel + "=ignore"
	case c.Labels[swarmServiceLabel] != "":
		return "a task of a Swarm service (Swarm would start it again)"
	case c.Labels[kubernetesPodLabel] != "":
		return "a container of a Kubernetes pod (the kubelet would start it again)"
	}
	return ""
}

// IsSelf reports whether id is dockman's own container, self ("" when
// dockman runs in none; either may be a short ID).
func IsSelf(id, self string) bool {
	if id == "" || self == "" {
		return false
	}
	n := min(len(id), len(self), 12)
	return n >= 12 && id[:n] == self[:n]
}

// Drastic reports whether a plan removes more than half of the running
// containers it sees: turning enforcement on then asks for confirmation
// (--force in a script), since a wrong snapshot would empty the host.
func Drastic(plan []Action, live Live) bool {
	running, removed := 0, 0
	for _, c := range live.Containers {
		if c.State == container.StateRunning {
			running++
		}
	}
	states := map[string]container.ContainerState{}
	for _, c := range live.Containers {
		states[c.ID] = c.State
	}
	for _, a := range plan {
		if a.Kind == KindRemove && states[a.ID] == container.StateRunning {
			removed++
		}
	}
	return running > 0 && removed*2 > running
}

func nameOf(c container.Summary) string {
	for _, n := range c.Names {
		n = strings.TrimPrefix(n, "/")
		if !strings.Contains(n, "/") { // a legacy link name has a slash
			return n
		}
	}
	return shortID(c.ID)
}
