package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dockman/dockman/deploy/grafana"
	promdeploy "github.com/dockman/dockman/deploy/prometheus"
	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/metrics"
)

// TestPrometheusScrapesTheAgent runs the real thing: the dockman binary
// as `dockman agent` on the engine, with one labelled container running
// and an API token, and Debian's Prometheus scraping its /metrics every
// second on loopback with that token, as docs/monitoring.md configures it
// (authorization: credentials_file:; the file ends in a newline, as
// `base64` writes it). /metrics must refuse a scrape without the token;
// promtool must find nothing to say about the exposition (lint included);
// Prometheus must see the target up, with dockman_build_info and
// dockman_containers counting the running container; each family of
// metrics.Families must be in Prometheus with the table's type; and every
// metric the Grafana dashboard and the alerting rules select must have
// series there (a dashboard panel would otherwise stay empty). Skipped
// without an engine, prometheus or promtool; failed then when CI is set.
func TestPrometheusScrapesTheAgent(t *testing.T) {
	c := testenv.Client(t)
	promBin := promdeploy.LookTool(t, "prometheus")
	promtool := promdeploy.LookTool(t, "promtool")
	_, label := testenv.Label(t, c)
	testenv.RunContainer(t, c, label, testenv.Name("prom"), "sleep", "1000")

	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "api-token")
	if err := os.WriteFile(tokenFile, []byte(testenv.Name("token")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	agentURL := promStartAgent(t, dir, tokenFile)

	t.Run("no token, no metrics", func(t *testing.T) {
		resp, err := http.Get(agentURL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /metrics without the token: %d, want 401", resp.StatusCode)
		}
	})

	t.Run("promtool check metrics", func(t *testing.T) {
		body := promGet(t, agentURL+"/metrics", tokenFile)
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = bytes.NewReader(body)
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("promtool check metrics on the agent's /metrics: %v\n%s", err, out)
		}
	})

	prom := promStartPrometheus(t, promBin, dir, strings.TrimPrefix(agentURL, "http://"), tokenFile)

	// The target is scraped and up, and the agent counts the container.
	promWaitQuery(t, prom, `up{job="dockman"} == 1`, func(r []promSample) bool { return len(r) == 1 })
	promWaitQuery(t, prom, `dockman_build_info{job="dockman"}`, func(r []promSample) bool {
		return len(r) == 1 && r[0].Metric["version"] != "" && r[0].Metric["goversion"] != ""
	})
	promWaitQuery(t, prom, `dockman_containers{job="dockman", state="running"} >= 1`, func(r []promSample) bool { return len(r) == 1 })
	promWaitQuery(t, prom, `dockman_engine_up{job="dockman"} == 1`, func(r []promSample) bool { return len(r) == 1 })

	t.Run("families in Prometheus with their types", func(t *testing.T) {
		var meta map[string][]struct {
			Type string `json:"type"`
		}
		promAPI(t, prom, "/api/v1/metadata", nil, &meta)
		for _, f := range metrics.Families {
			m, ok := meta[f.Name]
			if !ok {
				t.Errorf("%s: no metadata in Prometheus: never scraped", f.Name)
				continue
			}
			if !slices.ContainsFunc(m, func(x struct {
				Type string `json:"type"`
			}) bool {
				return x.Type == f.Type
			}) {
				t.Errorf("%s: Prometheus has it as %v, metrics.Families says %s", f.Name, m, f.Type)
			}
		}
	})

	t.Run("every metric the dashboard and the alerts select has series", func(t *testing.T) {
		var names []string
		promAPI(t, prom, "/api/v1/label/__name__/values", url.Values{"match[]": {`{job="dockman"}`}}, &names)
		have := map[string]bool{"up": true}
		for _, n := range names {
			have[n] = true
		}
		for _, used := range promUsedMetrics(t) {
			if !have[used.name] {
				t.Errorf("%s selects %s, which has no series in Prometheus after scraping the agent", used.where, used.name)
			}
		}
	})
}

// promUse is one metric a query selects, and where the query is.
type promUse struct{ where, name string }

// promUsedMetrics returns every metric the dashboard's panels and the
// alerting rules select.
func promUsedMetrics(t *testing.T) []promUse {
	t.Helper()
	board, err := grafana.Parse(grafana.Dashboard)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := board.Queries()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := promdeploy.ReadRules(promdeploy.Alerts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		qs = append(qs, grafana.Query{Where: "alert " + r.Name, Expr: r.Expr})
	}
	var uses []promUse
	for _, q := range qs {
		names, err := promdeploy.MetricNames(q.Expr)
		if err != nil {
			t.Fatalf("%s: %v", q.Where, err)
		}
		for _, n := range names {
			uses = append(uses, promUse{q.Where, n})
		}
	}
	return uses
}

// promStartAgent builds the dockman binary from this module and starts it as
// an agent on a free loopback port requiring the token in tokenFile,
// state and logs under dir; it returns the API's URL once /readyz answers
// 200. A cleanup stops it with SIGTERM and checks it exits 0.
func promStartAgent(t *testing.T, dir, tokenFile string) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "dockman")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := "127.0.0.1:" + promFreePort(t)
	logPath := filepath.Join(dir, "agent.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "agent", "--api", addr, "--api-token-file", tokenFile,
		"--state-dir", filepath.Join(dir, "state"), "--log-dir", filepath.Join(dir, "logs"))
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+testenv.Host())
	cmd.Stdout, cmd.Stderr = logFile, logFile
	stop := promStartProcess(t, cmd, "the agent", logPath)
	t.Cleanup(func() {
		if state := stop(); state != nil && state.ExitCode() != 0 {
			t.Errorf("the agent exited %v after SIGTERM, want 0:\n%s", state, promTail(logPath))
		}
	})
	agentURL := "http://" + addr
	promWaitFor(t, 30*time.Second, "the agent's /readyz to answer 200", logPath, func() bool {
		resp, err := http.Get(agentURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return agentURL
}

// promStartPrometheus writes a configuration scraping target (host:port)
// every second as job "dockman" with the bearer token in tokenFile, and
// starts prometheus with its storage under dir on a free loopback port; it
// returns Prometheus's URL once it is ready. A cleanup stops it.
func promStartPrometheus(t *testing.T, bin, dir, target, tokenFile string) string {
	t.Helper()
	config := filepath.Join(dir, "prometheus.yml")
	err := os.WriteFile(config, fmt.Appendf(nil, `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: dockman
    authorization:
      type: Bearer
      credentials_file: %q
    static_configs:
      - targets: [%q]
`, tokenFile, target), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + promFreePort(t)
	logPath := filepath.Join(dir, "prometheus.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "--config.file", config, "--storage.tsdb.path", filepath.Join(dir, "tsdb"),
		"--web.listen-address", addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	stop := promStartProcess(t, cmd, "prometheus", logPath)
	t.Cleanup(func() { stop() })
	promURL := "http://" + addr
	promWaitFor(t, 60*time.Second, "prometheus's /-/ready", logPath, func() bool {
		resp, err := http.Get(promURL + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return promURL
}

// promStartProcess starts cmd and returns a function that ends it (SIGTERM,
// SIGKILL 10 s later) and returns how it exited, nil when it was killed.
// A process that exits before that fails the test, with its log.
func promStartProcess(t *testing.T, cmd *exec.Cmd, what, logPath string) func() *os.ProcessState {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", what, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	stopped := false
	return func() *os.ProcessState {
		if stopped {
			return cmd.ProcessState
		}
		stopped = true
		select {
		case <-done:
			t.Errorf("%s had exited before the test ended (%v):\n%s", what, cmd.ProcessState, promTail(logPath))
			return cmd.ProcessState
		default:
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
			return cmd.ProcessState
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
			t.Errorf("%s was still running 10 s after SIGTERM: killed", what)
			return nil
		}
	}
}

// promWaitFor polls ok every 100 ms until it holds, failing the test with
// the log's end after within.
func promWaitFor(t *testing.T, within time.Duration, what, logPath string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; log:\n%s", within, what, promTail(logPath))
		}
	}
}

// promSample is one element of an instant query's vector.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`
}

// promWaitQuery runs the instant query expr against Prometheus until ok
// accepts its result (a deadline of 60 s guards against a failure).
func promWaitQuery(t *testing.T, prom, expr string, ok func([]promSample) bool) {
	t.Helper()
	var last []promSample
	deadline := time.Now().Add(60 * time.Second)
	for {
		last = nil
		promAPI(t, prom, "/api/v1/query", url.Values{"query": {expr}}, &last)
		if ok(last) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s: %v after 60 s", expr, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// promAPI calls Prometheus's HTTP API and decodes the data of a success
// into v; anything else fails the test.
func promAPI(t *testing.T, prom, path string, params url.Values, v any) {
	t.Helper()
	u := prom + path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.Unmarshal(promGet(t, u, ""), &env); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	if env.Status != "success" {
		t.Fatalf("GET %s: %s %s", u, env.Status, env.Error)
	}
	data := env.Data
	// A query's data is {"resultType":..., "result": [...]}.
	var q struct {
		Result json.RawMessage `json:"result"`
	}
	if path == "/api/v1/query" {
		if err := json.Unmarshal(env.Data, &q); err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		data = q.Result
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("GET %s: %v: %s", u, err, data)
	}
}

// promGet GETs u, with the bearer token in tokenFile unless it is "",
// and returns the body of a 200; anything else fails the test.
func promGet(t *testing.T, u, tokenFile string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tokenFile != "" {
		token, err := os.ReadFile(tokenFile)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v: %s", u, resp.StatusCode, err, body)
	}
	return body
}

// promFreePort returns a TCP port free on 127.0.0.1 now.
func promFreePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

func promTail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 3000 {
		data = data[len(data)-3000:]
	}
	return string(data)
}
