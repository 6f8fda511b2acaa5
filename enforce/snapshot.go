package enforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"

	"github.com/dockman/dockman/internal/durable"
	"github.com/dockman/dockman/manager"
)

// Engine is what enforce mode asks of Docker; *manager.Manager provides it.
type Engine interface {
	Containers(ctx context.Context, opts manager.ListOptions) ([]container.Summary, error)
	Inspect(ctx context.Context, id string) (container.InspectResponse, json.RawMessage, error)
	InspectImage(ctx context.Context, ref string) (image.InspectResponse, json.RawMessage, error)
}

// Snapshot is the list of containers enforce mode keeps alive, by name,
// each with what is needed to create it again.
type Snapshot struct {
	Taken      time.Time        `json:"taken"`
	Containers map[string]Saved `json:"containers"`
	// Owned maps a name to the container enforcement created for it when
	// it recreated it: a container of that name with another ID squats it.
	Owned map[string]string `json:"owned,omitempty"`
	// Scope is the scope it was taken in: enforcing it in another would
	// treat what it holds, or what it left out, wrongly.
	Scope Scope `json:"scope,omitempty"`
}

// SnapshotFile is the snapshot's name in the state directory.
const SnapshotFile = "snapshot.json"

// Scope confines snapshots (and enforcement) to containers carrying every
// one of its labels, for hosts shared with other tools; empty: all.
type Scope map[string]string

// ParseScope reads --scope values, each label=value.
func ParseScope(values []string) (Scope, error) {
	s := Scope{}
	for _, v := range values {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("scope %q: want label=value", v)
		}
		s[k] = val
	}
	return s, nil
}

// String is the scope as --scope values, sorted: "a=1,b=2".
func (s Scope) String() string {
	if f := s.filters(); f != nil {
		return strings.Join(f["label"], ",")
	}
	return ""
}

// filters is the scope as engine list filters.
func (s Scope) filters() map[string][]string {
	if len(s) == 0 {
		return nil
	}
	var labels []string
	for k, v := range s {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	return map[string][]string{"label": labels}
}

// Take records the containers running now within scope: each one's
// inspect output and its image's. A container that goes away while it is
// read is left out; any other failure fails the whole snapshot, so that a
// snapshot is never silently short of a container.
func Take(ctx context.Context, e Engine, scope Scope) (*Snapshot, error) {
	list, err := e.Containers(ctx, manager.ListOptions{Filters: scope.filters()})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	snap := &Snapshot{Taken: time.Now().UTC(), Containers: map[string]Saved{}, Scope: scope}
	for _, c := range list {
		saved, name, err := save(ctx, e, c.ID)
		if manager.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		snap.Containers[name] = saved
	}
	return snap, nil
}

// Add records the named containers (running or not) in the snapshot,
// replacing what it held for them.
func (s *Snapshot) Add(ctx context.Context, e Engine, refs ...string) error {
	for _, ref := range refs {
		saved, name, err := save(ctx, e, ref)
		if err != nil {
			return err
		}
		s.Containers[name] = saved
	}
	return nil
}

// Remove takes names out of the snapshot; a name it does not hold is an
// error, as docker's rm of an unknown container is.
func (s *Snapshot) Remove(names ...string) error {
	var missing []string
	for _, n := range names {
		n = strings.TrimPrefix(n, "/")
		if _, ok := s.Containers[n]; !ok {
			missing = append(missing, n)
			continue
		}
		delete(s.Containers, n)
	}
	if len(missing) > 0 {
		return fmt.Errorf("not in the snapshot: %s", strings.Join(missing, ", "))
	}
	return nil
}

// Names returns the snapshot's container names, sorted (none for nil).
func (s *Snapshot) Names() []string {
	if s == nil {
		return nil
	}
	names := make([]string, 0, len(s.Containers))
	for n := range s.Containers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// save reads what a snapshot keeps of one container; the Recreate check
// runs at once, so a container that could not be made again is refused
// when it is added, not when it is needed.
func save(ctx context.Context, e Engine, ref string) (Saved, string, error) {
	info, raw, err := e.Inspect(ctx, ref)
	if err != nil {
		return Saved{}, "", fmt.Errorf("inspect %s: %w", ref, err)
	}
	saved := Saved{Container: raw}
	if _, imgRaw, err := e.InspectImage(ctx, info.Image); err == nil {
		saved.Image = imgRaw
	} else if !manager.IsNotFound(err) {
		return Saved{}, "", fmt.Errorf("inspect the image of %s: %w", ref, err)
	}
	spec, err := Recreate(saved)
	if err != nil {
		return Saved{}, "", err
	}
	return saved, spec.Name, nil
}

// LoadSnapshot reads the snapshot at path; none there is (nil, nil).
func LoadSnapshot(path string) (*Snapshot, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Containers == nil {
		s.Containers = map[string]Saved{}
	}
	return &s, nil
}

// Save writes the snapshot durably: a crash leaves the old one or the new.
// It holds environment variables, which hold secrets: owner-only.
func (s *Snapshot) Save(path string) error {
	b, err := json.MarshalIndent(s, "", " ")
	if err != nil {
		return err
	}
	return durable.WriteFile(path, append(b, '\n'), 0o600)
}
