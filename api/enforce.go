package api

import (
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/dockman/dockman/enforce"
)

// Snapshot is GET /snapshot: the containers enforcement keeps, without
// the saved configuration (which holds their environment).
type Snapshot struct {
	Taken      *time.Time        `json:"taken"`
	Scope      map[string]string `json:"scope"`
	Containers []SnapshotEntry   `json:"containers"`
}

// SnapshotEntry is one container of the snapshot.
type SnapshotEntry struct {
	Name    string `json:"name"`
	ID      string `json:"id"`
	Image   string `json:"image"`
	ImageID string `json:"image_id"`
}

// savedHead is the part of a saved inspect output the snapshot shows.
type savedHead struct {
	ID     string `json:"Id"`
	Image  string `json:"Image"`
	Config *struct {
		Image string `json:"Image"`
	} `json:"Config"`
}

func snapshotOf(snap *enforce.Snapshot, scope enforce.Scope) Snapshot {
	// The scope is the snapshot's own (a dockman with another scope
	// refuses to enforce it); without a snapshot, the one it would be
	// taken in.
	out := Snapshot{Scope: map[string]string{}, Containers: []SnapshotEntry{}}
	if snap == nil {
		for k, v := range scope {
			out.Scope[k] = v
		}
		return out
	}
	t := snap.Taken.UTC()
	out.Taken = &t
	for k, v := range snap.Scope {
		out.Scope[k] = v
	}
	for name, saved := range snap.Containers {
		e := SnapshotEntry{Name: name}
		var h savedHead
		if json.Unmarshal(saved.Container, &h) == nil {
			e.ID, e.ImageID = h.ID, h.Image
			if h.Config != nil {
				e.Image = h.Config.Image
			}
		}
		if id := snap.Owned[name]; id != "" {
			e.ID = id // recreated by enforcement since
		}
		out.Containers = append(out.Containers, e)
	}
	sort.Slice(out.Containers, func(i, j int) bool { return out.Containers[i].Name < out.Containers[j].Name })
	return out
}

func (s *Server) snapshot(w http.ResponseWriter, _ *http.Request, _ string) {
	st, err := s.opts.Enforce.Status()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, snapshotOf(st.Snapshot, st.Scope))
}

// Enforce is GET /enforce: what `enforce status` shows.
type Enforce struct {
	// State is the words `enforce status` uses: "on", "on (dry run)",
	// "off", "on, enforced by dockman pid N", ...
	State string `json:"state"`
	// On says whether enforcement is on for this state directory, Here
	// whether this process enforces it, Leader whether this process
	// holds the state directory (an agent waiting to take over does not).
	On           bool                 `json:"on"`
	DryRun       bool                 `json:"dry_run"`
	Here         bool                 `json:"here"`
	Leader       bool                 `json:"leader"`
	EnforcedBy   string               `json:"enforced_by,omitempty"`
	Scope        map[string]string    `json:"scope"`
	SnapshotSize int                  `json:"snapshot_size"`
	Counts       map[string]int       `json:"counts"`
	Last         []enforce.Record     `json:"last"`
	Backoff      map[string]time.Time `json:"backoff"`
	Failing      map[string]string    `json:"failing"`
	AuditLog     string               `json:"audit_log"`
}

func (s *Server) enforce(w http.ResponseWriter, _ *http.Request, _ string) {
	st, err := s.opts.Enforce.Status()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := Enforce{
		State:      st.State,
		On:         st.State != "off",
		DryRun:     st.State == "on (dry run)",
		Here:       st.Here,
		Leader:     s.opts.Leader == nil || s.opts.Leader(),
		EnforcedBy: st.EnforcedBy,
		Scope:      map[string]string{},
		Counts:     map[string]int{},
		Last:       st.Last,
		Backoff:    map[string]time.Time{},
		Failing:    map[string]string{},
		AuditLog:   st.AuditLog,
	}
	for k, v := range st.Scope {
		out.Scope[k] = v
	}
	if st.Snapshot != nil {
		out.SnapshotSize = len(st.Snapshot.Containers)
	}
	for k, v := range st.Counts {
		out.Counts[string(k)] = v
	}
	for k, v := range st.Backoff {
		out.Backoff[k] = v.UTC()
	}
	for k, v := range st.Failing {
		out.Failing[k] = v
	}
	if out.Last == nil {
		out.Last = []enforce.Record{}
	}
	writeJSON(w, http.StatusOK, out)
}
