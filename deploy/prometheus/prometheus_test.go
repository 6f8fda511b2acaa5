package prometheus

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		name, expr string
		want       []string
	}{
		{"bare", "dockman_engine_up", []string{"dockman_engine_up"}},
		{"matchers", `dockman_containers{job=~"$job", instance=~"$instance", state="running"}`, []string{"dockman_containers"}},
		{"rate", `rate(dockman_logs_lines_total{instance=~"$instance"}[$__rate_interval])`, []string{"dockman_logs_lines_total"}},
		{"quantile", `histogram_quantile(0.99, sum by (le, handler) (rate(dockman_api_request_duration_seconds_bucket{job="x"}[5m])))`,
			[]string{"dockman_api_request_duration_seconds_bucket"}},
		{"grouping after", `sum(rate(a_total[1m])) by (action, result)`, []string{"a_total"}},
		{"without", `sum without (instance) (b)`, []string{"b"}},
		{"binary on", `a / on (instance) group_left (version) b`, []string{"a", "b"}},
		{"group_left bare", `a * on (job) group_left b`, []string{"a", "b"}},
		{"set ops", `a and b or c unless d`, []string{"a", "b", "c", "d"}},
		{"bool and offset", `a > bool 1 offset 5m`, []string{"a"}},
		{"twice", `a + a`, []string{"a"}},
		{"numbers", `a * 1e-3 + 0x1F - .5 + Inf + NaN`, []string{"a"}},
		{"subquery", `max_over_time(rate(c_total[5m])[1h:1m])`, []string{"c_total"}},
		{"at", `a @ start()`, []string{"a"}},
		{"braced variable", `rate(a_total[${__rate_interval}])`, []string{"a_total"}},
		{"name matcher", `{__name__="dockman_engine_up", job="x"}`, []string{"dockman_engine_up"}},
		{"regex name matcher", `{__name__=~"dockman_.*"}`, nil},
		{"label values", `label_values(dockman_build_info{job=~"$job"}, instance)`, []string{"dockman_build_info"}},
		{"label values bare", `label_values(dockman_build_info, job)`, []string{"dockman_build_info"}},
		{"string arg", `label_replace(a, "dst", "$1", "src", "(.*)")`, []string{"a"}},
		{"topk", `topk(5, sum by (instance) (a))`, []string{"a"}},
		{"count_values", `count_values("version", b)`, []string{"b"}},
		{"comment", "a # b\n+ c", []string{"a", "c"}},
		{"recording rule name", `job:a:rate5m`, []string{"job:a:rate5m"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MetricNames(tc.expr)
			if err != nil {
				t.Fatalf("MetricNames(%q): %v", tc.expr, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("MetricNames(%q) = %q, want %q", tc.expr, got, tc.want)
			}
		})
	}
}

func TestMetricNamesErrors(t *testing.T) {
	for _, expr := range []string{
		`rate(a[5m]`,
		`a{job="x"`,
		`a)`,
		`a{job="x)}`,
		`sum(a]`,
		`a ; b`,
		`rate(a[$])`,
	} {
		if got, err := MetricNames(expr); err == nil {
			t.Errorf("MetricNames(%q) = %q, want an error", expr, got)
		}
	}
}

func TestFamily(t *testing.T) {
	f := Families{
		"h_seconds":    "histogram",
		"s_seconds":    "summary",
		"c_total":      "counter",
		"g":            "gauge",
		"g_count":      "gauge",
		"other_bucket": "gauge",
	}
	for _, tc := range []struct {
		series, want string
		ok           bool
	}{
		{"h_seconds", "h_seconds", true},
		{"h_seconds_bucket", "h_seconds", true},
		{"h_seconds_sum", "h_seconds", true},
		{"h_seconds_count", "h_seconds", true},
		{"s_seconds_sum", "s_seconds", true},
		{"s_seconds_count", "s_seconds", true},
		{"s_seconds_bucket", "", false},
		{"c_total", "c_total", true},
		{"c", "c_total", true},
		{"g", "g", true},
		{"g_count", "g_count", true},
		{"g_sum", "", false},
		{"g_total", "", false},
		{"other_bucket", "other_bucket", true},
		{"missing", "", false},
	} {
		got, ok := f.Family(tc.series)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Family(%q) = %q, %v; want %q, %v", tc.series, got, ok, tc.want, tc.ok)
		}
	}
}

func TestReadRules(t *testing.T) {
	good := `
groups:
  - name: g
    rules:
      # a comment
      - alert: A
        expr: up == 0
        for: 5m
      - record: job:b:rate5m
        expr: 'sum by (job) (rate(b_total[5m]))'
      - expr: "c > 1"
        alert: C
`
	_, err := ReadRules([]byte(good))
	if err == nil || !strings.Contains(err.Error(), "before any") {
		// "- expr:" before "alert:" in the same item is valid YAML, but
		// this reader refuses it rather than guess.
		t.Fatalf("ReadRules: err = %v, want an expr-before-name error", err)
	}
	good = strings.Replace(good, "      - expr: \"c > 1\"\n        alert: C\n", "      - alert: C\n        expr: \"c > 1\"\n", 1)
	rules, err := ReadRules([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{{"A", "up == 0"}, {"job:b:rate5m", "sum by (job) (rate(b_total[5m]))"}, {"C", "c > 1"}}
	if !slices.Equal(rules, want) {
		t.Errorf("ReadRules = %q, want %q", rules, want)
	}
	for name, bad := range map[string]string{
		"no expr":      "- alert: A\n  for: 5m\n- alert: B\n  expr: b\n",
		"last no expr": "- alert: A\n  expr: a\n- alert: B\n",
		"block":        "- alert: A\n  expr: |\n    a > 1\n",
		"folded":       "- alert: A\n  expr: >-\n    a > 1\n",
		"escapes":      "- alert: A\n  expr: \"a{x=\\\"y\\\"}\"\n",
	} {
		if got, err := ReadRules([]byte(bad)); err == nil {
			t.Errorf("%s: ReadRules = %q, want an error", name, got)
		}
	}
}

// TestAlertsUseExportedMetrics checks that every alert of alerts.yaml
// selects only metrics the agent (or Prometheus, for up) exports, each
// read as its type asks (CheckUsage), and that the alerts the monitoring
// doc promises are there.
func TestAlertsUseExportedMetrics(t *testing.T) {
	rules, err := ReadRules(Alerts)
	if err != nil {
		t.Fatal(err)
	}
	exported := Exported()
	var names []string
	for _, r := range rules {
		names = append(names, r.Name)
		for _, p := range CheckUsage(r.Expr, exported) {
			t.Errorf("%s: %s", r.Name, p)
		}
	}
	for _, want := range []string{
		"DockmanAgentDown", "DockmanEngineUnreachable", "DockmanEnforcementFailing",
		"DockmanEnforceActionsFailing", "DockmanLogErrors", "DockmanLogLagHigh", "DockmanCrashLoop",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("alerts.yaml has no %s", want)
		}
	}
}

// TestPromtoolCheckRules runs promtool's own checks on alerts.yaml (the
// PromQL parses, the templates expand, no duplicate rules) and its unit
// tests, alerts.test.yaml, which feed series to the rules and expect each
// alert to fire when it should, with its labels and annotations, and not
// before.
func TestPromtoolCheckRules(t *testing.T) {
	promtool := LookTool(t, "promtool")
	for _, args := range [][]string{
		{"check", "rules", "alerts.yaml"},
		{"test", "rules", "alerts.test.yaml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestStandardAndScrapeDoNotOverlapTheAgent(t *testing.T) {
	for name := range Agent() {
		if !strings.HasPrefix(name, "dockman_") {
			t.Errorf("agent family %s lacks the dockman_ prefix", name)
		}
	}
	for name := range Standard {
		if !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("standard family %s is neither go_* nor process_*", name)
		}
	}
}

func TestSelectorsFuncs(t *testing.T) {
	sels, err := Selectors(`histogram_quantile(0.9, sum by (le) (rate(x_bucket{a="b"}[5m]))) / on (job) group_left count(y) + z`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Selector{
		{"x_bucket", []string{"histogram_quantile", "sum", "rate"}},
		{"y", []string{"count"}},
		{"z", nil},
	}
	if len(sels) != len(want) {
		t.Fatalf("Selectors = %v, want %v", sels, want)
	}
	for i := range want {
		if sels[i].Name != want[i].Name || !slices.Equal(sels[i].Funcs, want[i].Funcs) {
			t.Errorf("selector %d = %v, want %v", i, sels[i], want[i])
		}
	}
}

func TestCheckUsage(t *testing.T) {
	f := Families{"c_total": "counter", "g": "gauge", "h_seconds": "histogram", "s": "summary"}
	for _, tc := range []struct {
		expr string
		bad  int
	}{
		{`rate(c_total[5m])`, 0},
		{`sum by (a) (increase(c_total[1h])) > 3`, 0},
		{`histogram_quantile(0.99, sum by (le) (rate(h_seconds_bucket[5m])))`, 0},
		{`rate(h_seconds_sum[5m]) / rate(h_seconds_count[5m])`, 0},
		{`rate(s_sum[5m])`, 0},
		{`s{quantile="0.5"}`, 0},
		{`sum by (state) (g) > 0`, 0},
		{`absent(g)`, 0},
		{`c_total`, 1},
		{`sum(c_total)`, 1},
		{`rate(g[5m])`, 1},
		{`sum(rate(h_seconds_bucket[5m]))`, 1},
		{`histogram_quantile(0.9, h_seconds_bucket)`, 1},
		{`h_seconds_count`, 1},
		{`nope`, 1},
		{`vector(1)`, 1},
		{`rate(c_total[5m]`, 1},
	} {
		if got := CheckUsage(tc.expr, f); len(got) != tc.bad {
			t.Errorf("CheckUsage(%q) = %q, want %d problem(s)", tc.expr, got, tc.bad)
		}
	}
}

// TestAgentFamiliesAreTheContract checks the metrics package's table
// against issue 9's contract, which the dashboard and the alerts were
// written from: the same names with the same types.
func TestAgentFamiliesAreTheContract(t *testing.T) {
	contract := Families{
		"dockman_build_info":                     "gauge",
		"dockman_engine_up":                      "gauge",
		"dockman_engine_reconnects_total":        "counter",
		"dockman_containers":                     "gauge",
		"dockman_snapshot_containers":            "gauge",
		"dockman_enforce_enabled":                "gauge",
		"dockman_leader":                         "gauge",
		"dockman_enforce_actions_total":          "counter",
		"dockman_enforce_action_latency_seconds": "histogram",
		"dockman_enforce_backoff_containers":     "gauge",
		"dockman_enforce_failing_containers":     "gauge",
		"dockman_logs_lines_total":               "counter",
		"dockman_logs_bytes_total":               "counter",
		"dockman_logs_errors_total":              "counter",
		"dockman_logs_followers":                 "gauge",
		"dockman_logs_lag_seconds":               "histogram",
		"dockman_api_requests_total":             "counter",
		"dockman_api_request_duration_seconds":   "histogram",
	}
	agent := Agent()
	for name, typ := range contract {
		if agent[name] != typ {
			t.Errorf("%s: the contract says %s, metrics.Families %q", name, typ, agent[name])
		}
	}
	for name := range agent {
		if _, ok := contract[name]; !ok {
			t.Errorf("%s is in metrics.Families but not in the contract: chart it and document it", name)
		}
	}
}
