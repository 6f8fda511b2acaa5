package grafana

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dockman/dockman/deploy/prometheus"
)

func board(t *testing.T) *Board {
	t.Helper()
	b, err := Parse(Dashboard)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDashboardWellFormed checks what Grafana needs to import the
// dashboard and draw every panel: an uid and a title, unique panel ids,
// each panel placed on the grid without overlapping another, and each
// panel but rows querying the data source the variable picks, with at
// least one target; and the variables: the data source (Prometheus), the
// job and the instance.
func TestDashboardWellFormed(t *testing.T) {
	b := board(t)
	if b.UID == "" || b.Title == "" {
		t.Errorf("uid %q, title %q: both are needed", b.UID, b.Title)
	}
	if b.SchemaVersion < 36 || b.SchemaVersion > 41 {
		t.Errorf("schemaVersion %d: want one of Grafana 9 to 11 (36-41)", b.SchemaVersion)
	}
	ids := map[int]string{}
	cells := map[[2]int]string{}
	for _, p := range b.AllPanels() {
		name := fmt.Sprintf("panel %d (%s)", p.ID, p.Title)
		if p.ID <= 0 {
			t.Errorf("%s: no id", name)
		} else if other, dup := ids[p.ID]; dup {
			t.Errorf("%s: id taken by %s", name, other)
		}
		ids[p.ID] = name
		if p.Title == "" {
			t.Errorf("%s: no title", name)
		}
		g := p.GridPos
		switch {
		case g == nil:
			t.Errorf("%s: no gridPos", name)
		case g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24:
			t.Errorf("%s: gridPos %+v is off the 24-column grid", name, *g)
		default:
			for x := g.X; x < g.X+g.W; x++ {
				for y := g.Y; y < g.Y+g.H; y++ {
					if other, taken := cells[[2]int{x, y}]; taken {
						t.Errorf("%s overlaps %s at column %d row %d", name, other, x, y)
						x, y = g.X+g.W, g.Y+g.H // once per pair
					}
					cells[[2]int{x, y}] = name
				}
			}
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
			t.Errorf("%s: datasource %+v, want prometheus ${datasource}", name, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no target", name)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("%s: refId %q missing or repeated", name, tg.RefID)
			}
			refs[tg.RefID] = true
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("%s %s: no expr", name, tg.RefID)
			}
			if tg.Datasource != nil && (tg.Datasource.Type != "prometheus" || tg.Datasource.UID != "${datasource}") {
				t.Errorf("%s %s: datasource %+v, want prometheus ${datasource}", name, tg.RefID, *tg.Datasource)
			}
		}
	}

	vars := map[string]Variable{}
	for _, v := range b.Templating.List {
		vars[v.Name] = v
	}
	ds, ok := vars["datasource"]
	if q, _ := ds.QueryText(); !ok || ds.Type != "datasource" || q != "prometheus" {
		t.Errorf("variable datasource: %+v, want a data source variable offering prometheus", ds)
	}
	for _, name := range []string{"job", "instance"} {
		v, ok := vars[name]
		if q, _ := v.QueryText(); !ok || v.Type != "query" || q == "" || v.Datasource == nil || v.Datasource.UID != "${datasource}" {
			t.Errorf("variable %s: %+v, want a query variable on ${datasource}", name, v)
		}
	}
}

// TestDashboardMetricsAreExported checks every query of the dashboard,
// panels' and variables', against the families the agent exports (its
// own, the standard Go and process collectors', Prometheus's up): each
// metric is one of them, read as its type asks (counters through rate or
// increase, histograms' buckets under histogram_quantile, gauges as they
// are).
func TestDashboardMetricsAreExported(t *testing.T) {
	qs, err := board(t).Queries()
	if err != nil {
		t.Fatal(err)
	}
	exported := prometheus.Exported()
	for _, q := range qs {
		for _, p := range prometheus.CheckUsage(q.Expr, exported) {
			t.Errorf("%s: %s\n\t%s", q.Where, p, q.Expr)
		}
	}
}

// TestDashboardChartsEveryAgentFamily checks that every family of the
// agent's own appears on the dashboard.
func TestDashboardChartsEveryAgentFamily(t *testing.T) {
	qs, err := board(t).Queries()
	if err != nil {
		t.Fatal(err)
	}
	agent := prometheus.Agent()
	charted := map[string]bool{}
	for _, q := range qs {
		names, err := prometheus.MetricNames(q.Expr)
		if err != nil {
			t.Fatalf("%s: %v", q.Where, err)
		}
		for _, n := range names {
			if fam, ok := agent.Family(n); ok {
				charted[fam] = true
			}
		}
	}
	for fam := range agent {
		if !charted[fam] {
			t.Errorf("%s is on no panel", fam)
		}
	}
}

var rangeRE = regexp.MustCompile(`\[([^\]]*)\]`)

// TestDashboardRateInterval checks that every range in a panel is
// $__rate_interval, which Grafana keeps at least four scrape intervals
// long whatever the zoom, so that rate never sees fewer than two samples.
func TestDashboardRateInterval(t *testing.T) {
	qs, err := board(t).Queries()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		for _, m := range rangeRE.FindAllStringSubmatch(q.Expr, -1) {
			if m[1] != "$__rate_interval" {
				t.Errorf("%s: range [%s], want [$__rate_interval]", q.Where, m[1])
			}
		}
	}
}

var variableRE = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)

// TestDashboardPromtool has Prometheus's own parser read every panel
// query: each becomes a recording rule, with $__rate_interval made 1m and
// the other variables (inside label matchers) a word, and `promtool check
// rules` must accept the file. Skipped without promtool (failed on CI).
func TestDashboardPromtool(t *testing.T) {
	promtool := prometheus.LookTool(t, "promtool")
	qs, err := board(t).Queries()
	if err != nil {
		t.Fatal(err)
	}
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	n := 0
	for _, q := range qs {
		if q.Variable {
			continue // label_values(...) is Grafana's, not PromQL
		}
		expr := strings.ReplaceAll(q.Expr, "$__rate_interval", "1m")
		expr = variableRE.ReplaceAllString(expr, "x")
		n++
		fmt.Fprintf(&rules, "      # %s\n      - record: dashboard:query%d\n        expr: '%s'\n", q.Where, n, strings.ReplaceAll(expr, "'", "''"))
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(path, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Errorf("promtool check rules on the dashboard's %d queries: %v\n%s\n%s", n, err, out, rules.String())
	}
}
