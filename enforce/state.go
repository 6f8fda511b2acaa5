package enforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/dockman/dockman/internal/durable"
)

// StateFile is where whether enforcement is on is kept in the state
// directory, so that a dockman started again (the shell, or the agent)
// goes on as the last one was told.
const StateFile = "enforce.json"

// LockFile is the state directory's enforcement lock: one enforcer per
// state directory, so that two shells never fight over the containers.
const LockFile = "enforce.lock"

// persisted is the content of StateFile.
type persisted struct {
	On      bool      `json:"on"`
	DryRun  bool      `json:"dry_run,omitempty"`
	Changed time.Time `json:"changed"`
}

func loadState(path string) (persisted, error) {
	var p persisted
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

func saveState(path string, p persisted) error {
	p.Changed = time.Now().UTC()
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return durable.WriteFile(path, append(b, '\n'), 0o600)
}
