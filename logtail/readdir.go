package logtail

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ReadDir returns the status of the log files in dir as they are on disk,
// for when no keeper of this process runs (script mode): State is
// StateRemoved for the containers known gone, else StateIdle. A file
// without a cursor (its cursor not saved yet) is listed with its 12-char ID.
func ReadDir(dir string) ([]FileStatus, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no log directory at %s", dir)
	}
	if err != nil {
		return nil, err
	}
	cur, err := loadCursors(dir)
	if err != nil {
		return nil, err
	}
	byShort := map[string]string{}
	kept := cur.all()
	for id := range kept {
		byShort[shortID(id)] = id
	}
	var out []FileStatus
	for _, e := range entries {
		id12, name, ok := splitFileName(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		fs := FileStatus{ID: id12, Name: name, Path: filepath.Join(dir, e.Name()), State: StateIdle}
		if id, ok := byShort[id12]; ok {
			c := kept[id]
			fs.ID, fs.Last = id, c.Last
			if c.Removed {
				fs.State = StateRemoved
			}
		}
		statFiles(&fs)
		out = append(out, fs)
	}
	sortFiles(out)
	return out, nil
}
