package durable

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// A second TryLock fails, naming the holder's pid, until the first is
// released. (flock locks belong to an open file, so two opens in one
// process conflict as two processes do.)
func TestTryLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	first, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = TryLock(path)
	var held *LockedError
	if !errors.As(err, &held) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second TryLock: %v, want a LockedError", err)
	}
	if held.Pid != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid %q, want ours", held.Pid)
	}
	first.Unlock()
	first.Unlock() // twice is harmless
	again, err := TryLock(path)
	if err != nil {
		t.Fatalf("after Unlock: %v", err)
	}
	again.Unlock()
	var none *Lock
	none.Unlock() // nil too
}
