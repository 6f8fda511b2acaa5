package logtail

import (
	"fmt"
	"strings"
	"time"
)

// State says what the keeper is doing with a container's log.
type State string

const (
	// StateFollowing: a follower is reading the container's log as it is written.
	StateFollowing State = "following"
	// StateStopped: the container is not running and its log is read to the end.
	StateStopped State = "stopped"
	// StateRemoved: the container is gone; its file holds its last line and is kept.
	StateRemoved State = "removed"
	// StateFailing: writing the file or reading the log failed; retried with backoff.
	StateFailing State = "failing"
	// StateUnreadable: the log driver keeps nothing the engine can read back.
	StateUnreadable State = "unreadable"
	// StateIdle: no keeper of this process follows it (script mode reads the directory).
	StateIdle State = "idle"
)

// FileStatus is what `logfiles` shows of one container's log file.
type FileStatus struct {
	ID   string // full container ID
	Name string // container name, as in the file name
	// Path is the file being written; rotated files are Path.1, Path.2, ...
	Path    string
	Size    int64 // bytes in Path (rotated files not counted)
	Rotated int   // rotated files kept beside it
	// Last is the engine's timestamp of the newest line written (zero: none).
	Last time.Time
	// Behind is how long after the engine stamped it the newest line reached
	// the file: the keeper's delay behind the engine.
	Behind time.Duration
	State  State
	Reason string // why, for StateFailing and StateUnreadable
}

// FileName is the name of a container's log file: the 12-character ID, a
// plus sign and the name, so that `ls` sorts by ID and shows the name, and
// a rename of the container renames the file while the ID keeps it apart
// from a later container of the same name.
func FileName(id, name string) string {
	return shortID(id) + "+" + strings.TrimPrefix(name, "/") + ".log"
}

// splitFileName is FileName reversed, for the current file only.
func splitFileName(base string) (id12, name string, ok bool) {
	stem, ok := strings.CutSuffix(base, ".log")
	if !ok {
		return "", "", false
	}
	id12, name, ok = strings.Cut(stem, "+")
	if !ok || len(id12) != 12 || name == "" {
		return "", "", false
	}
	return id12, name, true
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Find picks the file a container reference names, the way docker resolves
// references: a full or short ID, then an exact name (the live container's
// file before a removed one's of the same name, else the newest), then a
// unique ID prefix. The files of removed containers can be found too.
func Find(files []FileStatus, ref string) (FileStatus, error) {
	ref = strings.TrimPrefix(ref, "/")
	if ref == "" {
		return FileStatus{}, fmt.Errorf("no log file for an empty name")
	}
	for _, f := range files {
		if f.ID == ref || (len(ref) == 12 && shortID(f.ID) == ref) {
			return f, nil
		}
	}
	var best *FileStatus
	for i := range files {
		f := &files[i]
		if f.Name != ref {
			continue
		}
		if best == nil || better(f, best) {
			best = f
		}
	}
	if best != nil {
		return *best, nil
	}
	var found []FileStatus
	for _, f := range files {
		if strings.HasPrefix(f.ID, ref) {
			found = append(found, f)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return FileStatus{}, fmt.Errorf("no log file for container %s", ref)
	default:
		return FileStatus{}, fmt.Errorf("%q names the log files of %d containers: give more of the ID", ref, len(found))
	}
}

// better reports whether a should be preferred to b among files of one name.
func better(a, b *FileStatus) bool {
	if (a.State == StateRemoved) != (b.State == StateRemoved) {
		return b.State == StateRemoved
	}
	return a.Last.After(b.Last)
}
