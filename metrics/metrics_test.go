package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/metrics"
)

// everything returns Sources that report fixed values.
func everything() metrics.Sources {
	return metrics.Sources{
		Containers: func() (map[string]int, bool) { return map[string]int{"running": 3, "exited": 1}, true },
		EngineUp:   func() bool { return true },
		Reconnects: func() uint64 { return 2 },
		Enforce:    func() (int, bool, int, int, bool) { return 4, true, 1, 0, true },
		Followers:  func() int { return 3 },
		Leading:    func() bool { return true },
	}
}

// TestFamiliesAreExported checks the table against what a scrape holds:
// every family in it is exported, and every dockman_* family exported is
// in it, with its type.
func TestFamiliesAreExported(t *testing.T) {
	m := metrics.New("test")
	m.Read(everything())
	m.ObserveRequest("containers", 200, time.Millisecond)
	m.Logs().Wrote(2, 40, 5*time.Millisecond)
	m.Enforce().Acted(enforce.KindRemove, "ok", 80*time.Millisecond)
	got, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, mf := range got {
		types[mf.GetName()] = strings.ToLower(mf.GetType().String())
	}
	for _, f := range metrics.Families {
		if types[f.Name] != f.Type {
			t.Errorf("%s: exported as %q, the table says %q", f.Name, types[f.Name], f.Type)
		}
		delete(types, f.Name)
	}
	for name := range types {
		if strings.HasPrefix(name, "dockman_") {
			t.Errorf("%s is exported but not in metrics.Families", name)
		}
	}
}

// TestScrape reads the text format as Prometheus would and checks values
// read from the sources and pushed by the observers.
func TestScrape(t *testing.T) {
	m := metrics.New("1.2.3")
	m.Read(everything())
	m.Logs().Wrote(2, 40, 5*time.Millisecond)
	m.Logs().Failed("write")
	m.Enforce().Acted(enforce.KindRecreate, "failed", -1)
	m.Enforce().Acted(enforce.KindRemove, "ok", 80*time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	text := string(body)
	for _, want := range []string{
		`dockman_build_info{goversion="`,
		`dockman_containers{state="running"} 3`,
		`dockman_containers{state="paused"} 0`,
		"dockman_engine_up 1",
		"dockman_engine_reconnects_total 2",
		"dockman_snapshot_containers 4",
		"dockman_enforce_enabled 1",
		"dockman_enforce_backoff_containers 1",
		"dockman_logs_followers 3",
		"dockman_leader 1",
		"dockman_logs_lines_total 2",
		"dockman_logs_bytes_total 40",
		`dockman_logs_errors_total{kind="write"} 1`,
		`dockman_logs_errors_total{kind="read"} 0`,
		`dockman_enforce_actions_total{action="recreate",result="failed"} 1`,
		`dockman_enforce_actions_total{action="start",result="ok"} 0`,
		`dockman_enforce_action_latency_seconds_count{action="remove"} 1`,
		`dockman_enforce_action_latency_seconds_count{action="recreate"} 0`,
		"go_goroutines ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}

// TestNilSources checks that a process without some parts (a shell with
// --no-logs) leaves their families out rather than failing the scrape.
func TestNilSources(t *testing.T) {
	m := metrics.New("x")
	m.Read(metrics.Sources{})
	if _, err := m.Gatherer().Gather(); err != nil {
		t.Fatal(err)
	}
}
