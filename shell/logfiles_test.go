package shell

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dockman/dockman/logtail"
)

// someLogFiles are three containers' files, out of order: web followed,
// api failing with nothing written yet, old removed, rotated twice.
func someLogFiles(now time.Time) []logtail.FileStatus {
	return []logtail.FileStatus{
		{ID: fakeID("web"), Name: "web", Path: "/logs/776562000000+web.log", Size: 1234, Last: now.Add(-3 * time.Second), Behind: 12345 * time.Microsecond, State: logtail.StateFollowing},
		{ID: fakeID("api"), Name: "api", Path: "/logs/617069000000+api.log", State: logtail.StateFailing, Reason: "write: no space left on device"},
		{ID: fakeID("old"), Name: "old", Path: "/logs/6f6c64000000+old.log", Size: 3_400_000, Rotated: 2, Last: now.Add(-150 * time.Minute), Behind: 1500 * time.Millisecond, State: logtail.StateRemoved},
	}
}

func TestLogfilesTable(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var out bytes.Buffer
	s := New(nil, Options{Out: &out, LogFiles: func() ([]logtail.FileStatus, error) { return someLogFiles(now), nil }})
	if err := runLogfiles(s, logfilesOptions{}, now); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"CONTAINER   CONTAINER ID   SIZE      LAST LINE       BEHIND    STATE                                     FILE\n" +
		"api         617069000000   0B        -               -         failing: write: no space left on device   /logs/617069000000+api.log\n" +
		"old         6f6c64000000   3.4MB     3 hours ago     1.5s      removed                                   /logs/6f6c64000000+old.log\n" +
		"web         776562000000   1.23kB    3 seconds ago   12ms      following                                 /logs/776562000000+web.log\n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestLogfiles(t *testing.T) {
	files := someLogFiles(time.Now())
	withFiles := Options{LogFiles: func() ([]logtail.FileStatus, error) { return files, nil }}

	t.Run("quiet", func(t *testing.T) {
		r := newSession(nil, withFiles).exec(t, "logfiles -q").ok(t)
		if want := "/logs/617069000000+api.log\n/logs/6f6c64000000+old.log\n/logs/776562000000+web.log\n"; r.out != want {
			t.Errorf("printed %q, want %q", r.out, want)
		}
	})
	t.Run("format", func(t *testing.T) {
		r := newSession(nil, withFiles).exec(t, `logfiles --format '{{.Name}} {{.Rotated}} {{.State}}'`).ok(t)
		if want := "api 0 failing: write: no space left on device\nold 2 removed\nweb 0 following\n"; r.out != want {
			t.Errorf("printed %q, want %q", r.out, want)
		}
	})
	t.Run("format table", func(t *testing.T) {
		r := newSession(nil, withFiles).exec(t, `logfiles --format 'table {{.Name}}\t{{.Rotated}}'`).ok(t)
		if want := "CONTAINER   ROTATED\napi         0\nold         2\nweb         0\n"; r.out != want {
			t.Errorf("printed %q, want %q", r.out, want)
		}
	})
	t.Run("json", func(t *testing.T) {
		r := newSession(nil, withFiles).exec(t, "logfiles --format json").ok(t)
		got := lines(r.out)
		if len(got) != 3 {
			t.Fatalf("printed %q, want 3 lines", r.out)
		}
		var row map[string]string
		if err := json.Unmarshal([]byte(got[2]), &row); err != nil {
			t.Fatal(err)
		}
		// LastLine is now's: "3 seconds ago", or more on a slow machine.
		if !strings.HasSuffix(row["LastLine"], " seconds ago") {
			t.Errorf("LastLine %q", row["LastLine"])
		}
		delete(row, "LastLine")
		want := map[string]string{
			"Name": "web", "ID": "776562000000", "Size": "1.23kB", "Rotated": "0",
			"Behind": "12ms", "State": "following", "File": "/logs/776562000000+web.log",
		}
		if !reflect.DeepEqual(row, want) {
			t.Errorf("json %v, want %v", row, want)
		}
	})
	t.Run("none", func(t *testing.T) {
		s := newSession(nil, Options{LogFiles: func() ([]logtail.FileStatus, error) { return nil, nil }})
		if r := s.exec(t, "logfiles").ok(t); r.out != "CONTAINER   CONTAINER ID   SIZE      LAST LINE   BEHIND    STATE     FILE\n" {
			t.Errorf("printed %q, want the header only", r.out)
		}
	})
	t.Run("bad template", func(t *testing.T) {
		r := newSession(nil, withFiles).exec(t, "logfiles --format '{{.Nope'")
		r.oneError(t, "template parsing error")
	})
	t.Run("no log directory", func(t *testing.T) {
		r := newSession(nil, Options{}).exec(t, "logfiles")
		r.oneError(t, "error: logfiles: no log directory")
		if ExitStatus(r.err) != StatusFailed {
			t.Errorf("status %d, want %d", ExitStatus(r.err), StatusFailed)
		}
	})
	t.Run("read error", func(t *testing.T) {
		s := newSession(nil, Options{LogFiles: func() ([]logtail.FileStatus, error) {
			return nil, errors.New("open /logs: permission denied")
		}})
		s.exec(t, "logfiles").oneError(t, "error: logfiles: open /logs: permission denied")
	})
}

func TestRoundDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		350*time.Microsecond + 400: "350µs",
		1534 * time.Microsecond:    "1.5ms",
		12345 * time.Microsecond:   "12ms",
		345678 * time.Microsecond:  "346ms",
		2345 * time.Millisecond:    "2.3s",
		42400 * time.Millisecond:   "42s",
		123456 * time.Millisecond:  "2m3s",
		-12345 * time.Microsecond:  "-12ms",
	} {
		if got := roundDuration(d).String(); got != want {
			t.Errorf("roundDuration(%v) = %s, want %s", d, got, want)
		}
	}
}
