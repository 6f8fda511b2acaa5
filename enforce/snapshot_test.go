package enforce

import (
	"path/filepath"
	"testing"
)

func TestSnapshotSurvivesSaveAndLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), SnapshotFile)
	if s, err := LoadSnapshot(path); s != nil || err != nil {
		t.Fatalf("no file: %v, %v; want nil, nil", s, err)
	}
	s := &Snapshot{Containers: map[string]Saved{"fixweb": loadFixture(t)}}
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadSnapshot(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Names(); len(got) != 1 || got[0] != "fixweb" {
		t.Fatalf("names %v", got)
	}
	if _, err := Recreate(back.Containers["fixweb"]); err != nil {
		t.Errorf("the saved container no longer makes a spec: %v", err)
	}
	if err := back.Remove("fixweb", "ghost"); err == nil {
		t.Error("removing a name not in the snapshot is no error")
	}
	if len(back.Containers) != 0 {
		t.Errorf("fixweb still in the snapshot")
	}
}

func TestParseScope(t *testing.T) {
	s, err := ParseScope([]string{"team=web", "env=prod"})
	if err != nil || s["team"] != "web" || s["env"] != "prod" {
		t.Fatalf("%v, %v", s, err)
	}
	if f := s.filters()["label"]; len(f) != 2 || f[0] != "env=prod" {
		t.Errorf("filters %v", f)
	}
	for _, bad := range []string{"team", "=x"} {
		if _, err := ParseScope([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
