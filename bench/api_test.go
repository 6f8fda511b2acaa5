package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
)

// The status API's figure (issue 9): 200 clients at once for 30 s on
// loopback against the agent's GET /containers, with 100 containers on
// the engine: p99 under 50 ms and no errors. BenchmarkAPI measures it with
// wrk, the real agent binary (DOCKMAN_BENCH_BIN, else built from this
// tree) and, in the same run with the same wrk command, a naive server:
// one in this process that answers /containers by listing the engine's
// containers on every request, as a status endpoint written without an
// inventory would.
//
//	API_SECONDS=30      wrk's duration per side
//	API_CONNS=200       wrk's connections (clients); 2 threads
//	API_CONTAINERS=100  the labelled busybox containers started (network none)
//	API_TIMEOUT=10      wrk's --timeout in seconds: wrk leaves a request that
//	                    times out out of its latency distribution (counting it
//	                    as a socket error), so its default 2 s would flatter a
//	                    slow side
//	API_AGENT_FLAGS     replaces the agent flags given besides --api and
//	                    --state-dir (default: --log-dir in a temp dir)
//
// Nothing asserts on time: the figures are reported. A wrong answer is a
// failure: dockman's non-2xx responses or connect, read or write errors,
// or a /containers that does not list the containers started.

// BenchmarkAPI runs wrk against the agent and then against the naive
// server (run with -benchtime 1x: each iteration runs both once).
func BenchmarkAPI(b *testing.B) {
	c := testenv.Client(b)
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("no wrk on PATH (apt-get install wrk)")
	}
	secs, conns, n := envInt("API_SECONDS", 30), envInt("API_CONNS", 200), envInt("API_CONTAINERS", 100)
	timeout := envInt("API_TIMEOUT", 10)
	if secs < 1 || conns < 2 || timeout < 1 {
		b.Fatal("API_SECONDS and API_TIMEOUT must be at least 1, API_CONNS at least 2 (wrk runs 2 threads)")
	}
	bin := dockmanBin(b)
	_, label := testenv.Label(b, c)
	started := time.Now()
	runFleet(b, c, label, n)
	note("%d containers started in %.1f s (label %s=%s)", n, time.Since(started).Seconds(), testenv.LabelKey, label)
	othersRunning(b, c, label)

	agent := startAgent(b, bin)
	naive := startNaive(b, c)
	for _, side := range []struct{ name, url string }{{"dockman", agent.url}, {"naive", naive}} {
		if err := waitListing(side.url+"/containers", label, n, time.Minute); err != nil {
			b.Fatalf("%s: %v", side.name, err)
		}
	}
	note("dockman: %s", agent.how)
	note("naive:   %s (GET /containers lists the engine's containers on every request)", naive)

	args := []string{"-t2", fmt.Sprintf("-c%d", conns), fmt.Sprintf("-d%ds", secs), "--latency", fmt.Sprintf("--timeout=%ds", timeout)}
	var dm, base *wrkResult
	var dmCPU float64
	var served serverSide
	for b.Loop() {
		before, err := scrapeServerSide(agent.url)
		if err != nil {
			b.Fatal(err)
		}
		cpu0 := cpuSeconds(agent.pid())
		dm = runWrk(b, wrk, args, agent.url+"/containers")
		dmCPU = cpuSeconds(agent.pid()) - cpu0
		after, err := scrapeServerSide(agent.url)
		if err != nil {
			b.Fatal(err)
		}
		served = after.minus(before)
		base = runWrk(b, wrk, args, naive+"/containers")
	}
	if err := waitListing(agent.url+"/containers", label, n, 10*time.Second); err != nil {
		b.Errorf("dockman after the run: %v", err)
	}

	report := func(side string, r *wrkResult) {
		b.ReportMetric(ms(r.Percentile[50]), side+"-p50-ms")
		b.ReportMetric(ms(r.Percentile[90]), side+"-p90-ms")
		b.ReportMetric(ms(r.Percentile[99]), side+"-p99-ms")
		b.ReportMetric(r.PerSecond, side+"-req/s")
		b.ReportMetric(float64(r.Errors()), side+"-errors")
	}
	report("dockman", dm)
	report("naive", base)
	if p := ms(base.Percentile[99]); p > 0 {
		b.ReportMetric(ms(dm.Percentile[99])/p, "dockman/naive-p99")
	}
	b.ReportMetric(dmCPU, "dockman-cpu-s")

	note("wrk %s URL/containers, %d containers on the engine", strings.Join(args, " "), n)
	note("%-8s %9s %9s %9s %9s %10s %8s %9s %s", "side", "p50 ms", "p90 ms", "p99 ms", "max ms", "req/s", "requests", "B/resp", "errors")
	for _, row := range []struct {
		side string
		r    *wrkResult
	}{{"dockman", dm}, {"naive", base}} {
		r := row.r
		note("%-8s %9.2f %9.2f %9.2f %9.2f %10.0f %8d %9.0f %s", row.side, ms(r.Percentile[50]), ms(r.Percentile[90]),
			ms(r.Percentile[99]), ms(r.Max), r.PerSecond, r.Requests, r.BytesPerRequest(), r.ErrorText())
	}
	note("dockman: %.1f CPU-s over its %d s (%.0f%% of one core); target p99 < 50 ms with no errors: p99 %.2f ms, %s",
		dmCPU, secs, 100*dmCPU/float64(secs), ms(dm.Percentile[99]), dm.ErrorText())
	note("dockman's own metrics over its run: %.0f /containers requests (wrk counted %d answers), mean %.3f ms in the handler, p99 <= %s ms (histogram bucket)",
		served.count, dm.Requests, served.mean()*1000, served.p99Bound())
	if dm.Non2xx > 0 || dm.Connect > 0 || dm.Read > 0 || dm.Write > 0 {
		b.Errorf("dockman answered wrongly: %s", dm.ErrorText())
	}
	if dm.Timeout > 0 {
		b.Logf("dockman: %d requests took over %d s (wrk's timeout) and are not in its latency figures", dm.Timeout, timeout)
	}
	agent.stop(b)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// serverSide is the agent's own view of its /containers requests, from
// dockman_api_request_duration_seconds{handler="containers"}: the
// count, the sum of seconds, and the cumulative bucket counts by bound.
type serverSide struct {
	count, sum float64
	buckets    map[string]float64 // le → cumulative count
	bounds     []string           // the le values in order
}

func (s serverSide) minus(o serverSide) serverSide {
	d := serverSide{count: s.count - o.count, sum: s.sum - o.sum, buckets: map[string]float64{}, bounds: s.bounds}
	for le, n := range s.buckets {
		d.buckets[le] = n - o.buckets[le]
	}
	return d
}

func (s serverSide) mean() float64 {
	if s.count == 0 {
		return 0
	}
	return s.sum / s.count
}

// p99Bound is the upper bound, in ms, of the bucket holding the 99th
// percentile request.
func (s serverSide) p99Bound() string {
	for _, le := range s.bounds {
		if s.count > 0 && s.buckets[le] >= 0.99*s.count {
			if le == "+Inf" {
				return le
			}
			v, _ := strconv.ParseFloat(le, 64)
			return strconv.FormatFloat(v*1000, 'f', -1, 64)
		}
	}
	return "?"
}

// scrapeServerSide reads the agent's /containers histogram from its
// /metrics.
func scrapeServerSide(agentURL string) (serverSide, error) {
	code, body, err := get(agentURL + "/metrics")
	if err != nil || code != http.StatusOK {
		return serverSide{}, fmt.Errorf("GET /metrics: %d %v", code, err)
	}
	return parseServerSide(string(body))
}

var leRE = regexp.MustCompile(`le="([^"]+)"`)

// parseServerSide reads dockman_api_request_duration_seconds's
// handler="containers" series out of a text exposition.
func parseServerSide(text string) (serverSide, error) {
	const family = "dockman_api_request_duration_seconds"
	s := serverSide{buckets: map[string]float64{}}
	for line := range strings.Lines(text) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), "{")
		if !ok || !strings.HasPrefix(name, family) || !strings.Contains(rest, `handler="containers"`) {
			continue
		}
		labels, value, _ := strings.Cut(rest, "} ")
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return s, fmt.Errorf("metrics line %q: %v", line, err)
		}
		switch name {
		case family + "_count":
			s.count = v
		case family + "_sum":
			s.sum = v
		case family + "_bucket":
			m := leRE.FindStringSubmatch(labels)
			if m == nil {
				return s, fmt.Errorf("metrics line %q: no le", line)
			}
			s.buckets[m[1]] = v
			s.bounds = append(s.bounds, m[1])
		}
	}
	return s, nil
}

// runFleet creates and starts n busybox containers sleeping, labelled
// label, network none; the label's cleanup removes them.
func runFleet(b *testing.B, c *client.Client, label string, n int) {
	b.Helper()
	img := testenv.BusyboxImage(b, c)
	ids := createParallel(b, c, n, func(i int) client.ContainerCreateOptions {
		return client.ContainerCreateOptions{
			Name:       fmt.Sprintf("dma-%s-%03d", label[len(label)-6:], i),
			Config:     &container.Config{Image: img, Cmd: sleeperCmd, Labels: map[string]string{testenv.LabelKey: label}},
			HostConfig: &container.HostConfig{NetworkMode: "none"},
		}
	})
	errs := make([]error, n)
	parallel(n, func(i int) {
		_, errs[i] = c.ContainerStart(context.Background(), ids[i], client.ContainerStartOptions{})
	})
	if err := errors.Join(errs...); err != nil {
		b.Fatalf("starting the containers: %v", err)
	}
}

// agentProc is a dockman agent serving the API on loopback.
type agentProc struct {
	cmd  *exec.Cmd
	url  string
	how  string
	log  string
	once sync.Once
	done chan struct{}
}

func (a *agentProc) pid() int { return a.cmd.Process.Pid }

// startAgent starts `dockman agent` on a free loopback port with a state
// directory (and log directory) of its own, its stderr in a file, and
// returns once /readyz answers 200. A cleanup stops it.
func startAgent(b *testing.B, bin string) *agentProc {
	b.Helper()
	port, err := freeLoopbackPort()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	flags := []string{"--log-dir", filepath.Join(dir, "logs")}
	if s, ok := os.LookupEnv("API_AGENT_FLAGS"); ok {
		flags = strings.Fields(s)
	}
	args := append([]string{"agent", "--api", addr, "--state-dir", filepath.Join(dir, "state")}, flags...)
	logPath := filepath.Join(dir, "agent.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+testenv.Host())
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting the agent: %v", err)
	}
	a := &agentProc{cmd: cmd, url: "http://" + addr, how: bin + " " + strings.Join(args, " "), log: logPath, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(a.done)
	}()
	b.Cleanup(func() { a.stop(b) })
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, err := get(a.url + "/readyz")
		if code == http.StatusOK {
			return a
		}
		select {
		case <-a.done:
			b.Fatalf("the agent exited (%v): %s", cmd.ProcessState, tail(logPath))
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("the agent's /readyz never answered 200 (last: %d %v): %s", code, err, tail(logPath))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the agent with SIGTERM (kills it 10 s later) and reports an
// exit other than 0, which the contract promises.
func (a *agentProc) stop(b *testing.B) {
	a.once.Do(func() {
		a.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-a.done:
		case <-time.After(10 * time.Second):
			a.cmd.Process.Kill()
			<-a.done
			b.Errorf("the agent was still running 10 s after SIGTERM: killed")
			return
		}
		if code := a.cmd.ProcessState.ExitCode(); code != 0 {
			b.Errorf("the agent exited %d after SIGTERM, want 0: %s", code, tail(a.log))
		}
	})
}

// tail is the end of a log file, for a failure message.
func tail(path string) string {
	data, _ := os.ReadFile(path)
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return string(data)
}

// startNaive serves GET /containers on a free loopback port by listing
// every container of the engine through the SDK on each request, and
// returns its URL; a cleanup closes it.
func startNaive(b *testing.B, c *client.Client) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: naiveHandler(c)}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// naiveHandler answers GET /containers with the engine's container list,
// asked anew for every request.
func naiveHandler(c *client.Client) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containers", func(w http.ResponseWriter, r *http.Request) {
		list, err := c.ContainerList(r.Context(), client.ContainerListOptions{All: true})
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadGateway)
			json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(list.Items)
	})
	return mux
}

// waitListing waits until GET url answers 200 with a JSON array holding
// n containers labelled label (the agent's inventory fills after its
// start).
func waitListing(url, label string, n int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		got, err := countLabelled(url, label)
		if err == nil && got == n {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return err
			}
			return fmt.Errorf("GET %s lists %d containers labelled %s=%s, want %d", url, got, testenv.LabelKey, label, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// countLabelled counts the containers of GET url's JSON array whose
// labels carry the test label's value.
func countLabelled(url, label string) (int, error) {
	code, body, err := get(url)
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %d %s", url, code, body)
	}
	var list []struct {
		Labels map[string]string `json:"labels"` // the agent's field
		SDK    map[string]string `json:"Labels"` // the SDK's, which the naive server encodes
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return 0, fmt.Errorf("GET %s: not a JSON array of containers: %v", url, err)
	}
	got := 0
	for _, ctr := range list {
		if ctr.Labels[testenv.LabelKey] == label || ctr.SDK[testenv.LabelKey] == label {
			got++
		}
	}
	return got, nil
}

func get(url string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// freeLoopbackPort returns a TCP port free on 127.0.0.1 now.
func freeLoopbackPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// runWrk runs wrk with args against url and parses its report.
func runWrk(b *testing.B, wrk string, args []string, url string) *wrkResult {
	b.Helper()
	out, err := exec.Command(wrk, append(args, url)...).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk %s %s: %v: %s", strings.Join(args, " "), url, err, out)
	}
	r, err := parseWrk(string(out))
	if err != nil {
		b.Fatalf("wrk's report: %v:\n%s", err, out)
	}
	return r
}

// wrkResult is what wrk --latency reports.
type wrkResult struct {
	Requests   int64
	Elapsed    time.Duration
	Bytes      float64 // read in all, headers included
	PerSecond  float64 // requests/s
	Avg, Max   time.Duration
	Percentile map[int]time.Duration // 50, 75, 90, 99
	// Socket errors; a request that timed out is in none of the latency
	// figures.
	Connect, Read, Write, Timeout int64
	Non2xx                        int64 // responses other than 2xx and 3xx
}

// Errors is every request that failed: socket errors and non-2xx
// responses.
func (r *wrkResult) Errors() int64 {
	return r.Connect + r.Read + r.Write + r.Timeout + r.Non2xx
}

// BytesPerRequest is the mean size of a response, headers included.
func (r *wrkResult) BytesPerRequest() float64 {
	if r.Requests == 0 {
		return 0
	}
	return r.Bytes / float64(r.Requests)
}

// ErrorText spells the errors out, or "none".
func (r *wrkResult) ErrorText() string {
	if r.Errors() == 0 {
		return "none"
	}
	return fmt.Sprintf("connect %d, read %d, write %d, timeout %d, non-2xx %d", r.Connect, r.Read, r.Write, r.Timeout, r.Non2xx)
}

var (
	wrkLatencyRE  = regexp.MustCompile(`^Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+$`)
	wrkPctRE      = regexp.MustCompile(`^(\d+)%\s+(\S+)$`)
	wrkTotalRE    = regexp.MustCompile(`^(\d+) requests in (\S+), (\S+) read$`)
	wrkSocketRE   = regexp.MustCompile(`^Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)$`)
	wrkNon2xxRE   = regexp.MustCompile(`^Non-2xx or 3xx responses: (\d+)$`)
	wrkPerSecRE   = regexp.MustCompile(`^Requests/sec:\s+(\S+)$`)
	wrkUnitSuffix = regexp.MustCompile(`^([0-9.]+)([a-zA-Z]*)$`)
)

// parseWrk reads wrk 4's report (with --latency). The latency
// distribution, the request count and Requests/sec must be there; the
// socket error and non-2xx lines appear only when there were some.
func parseWrk(out string) (*wrkResult, error) {
	r := &wrkResult{Percentile: map[int]time.Duration{}}
	var seenLatency, seenTotal, seenPerSec bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		var err error
		switch {
		case wrkLatencyRE.MatchString(line):
			m := wrkLatencyRE.FindStringSubmatch(line)
			if r.Avg, err = wrkDuration(m[1]); err == nil {
				r.Max, err = wrkDuration(m[3])
			}
			seenLatency = true
		case wrkPctRE.MatchString(line):
			m := wrkPctRE.FindStringSubmatch(line)
			p, _ := strconv.Atoi(m[1])
			r.Percentile[p], err = wrkDuration(m[2])
		case wrkTotalRE.MatchString(line):
			m := wrkTotalRE.FindStringSubmatch(line)
			r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
			if r.Elapsed, err = wrkDuration(m[2]); err == nil {
				r.Bytes, err = wrkBytes(m[3])
			}
			seenTotal = true
		case wrkSocketRE.MatchString(line):
			m := wrkSocketRE.FindStringSubmatch(line)
			r.Connect, _ = strconv.ParseInt(m[1], 10, 64)
			r.Read, _ = strconv.ParseInt(m[2], 10, 64)
			r.Write, _ = strconv.ParseInt(m[3], 10, 64)
			r.Timeout, _ = strconv.ParseInt(m[4], 10, 64)
		case wrkNon2xxRE.MatchString(line):
			r.Non2xx, _ = strconv.ParseInt(wrkNon2xxRE.FindStringSubmatch(line)[1], 10, 64)
		case wrkPerSecRE.MatchString(line):
			r.PerSecond, err = strconv.ParseFloat(wrkPerSecRE.FindStringSubmatch(line)[1], 64)
			seenPerSec = true
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %w", line, err)
		}
	}
	for _, p := range []int{50, 90, 99} {
		if _, ok := r.Percentile[p]; !ok {
			return nil, fmt.Errorf("no %d%% line in the latency distribution (was --latency given?)", p)
		}
	}
	if !seenLatency || !seenTotal || !seenPerSec {
		return nil, errors.New("not a wrk report: the Latency, requests or Requests/sec line is missing")
	}
	return r, nil
}

// wrkDuration reads a wrk time: 683.00us, 1.30ms, 2.01s, 1.50m, 1.00h.
func wrkDuration(s string) (time.Duration, error) {
	m := wrkUnitSuffix.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("bad time %q", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, err
	}
	unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour}[m[2]]
	if unit == 0 {
		return 0, fmt.Errorf("bad time unit in %q", s)
	}
	return time.Duration(v * float64(unit)), nil
}

// wrkBytes reads a wrk size: 578.76KB, 20.50MB, 1.02GB, 512.00B.
func wrkBytes(s string) (float64, error) {
	m := wrkUnitSuffix.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("bad size %q", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, err
	}
	unit, ok := map[string]float64{"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}[m[2]]
	if !ok {
		return 0, fmt.Errorf("bad size unit in %q", s)
	}
	return v * unit, nil
}

// Reports of wrk 4.1 as captured on this kind of machine.
const (
	wrkFast = `Running 3s test @ http://127.0.0.1:18099/ok
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.05ms    1.24ms  11.09ms   88.91%
    Req/Sec    30.46k     7.26k   44.63k    65.00%
  Latency Distribution
     50%  683.00us
     75%    1.30ms
     90%    2.46ms
     99%    6.19ms
  182199 requests in 3.01s, 20.50MB read
Requests/sec:  60476.34
Transfer/sec:      6.81MB
`
	wrkErrors = `Running 4s test @ http://127.0.0.1:18099/bad
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   202.68us  392.43us   4.44ms   92.78%
    Req/Sec     8.22k     6.44k   13.51k    66.67%
  Latency Distribution
     50%   83.00us
     75%  166.00us
     90%  503.00us
     99%    1.82ms
  4950 requests in 4.01s, 578.76KB read
  Socket errors: connect 0, read 0, write 0, timeout 50
  Non-2xx or 3xx responses: 450
Requests/sec:   1235.26
Transfer/sec:    144.43KB
`
	wrkSlow = "Running 3s test @ http://127.0.0.1:18099/slow\n  2 threads and 10 connections\n" +
		"  Thread Stats   Avg      Stdev     Max   +/- Stdev\n    Latency     1.20s   509.73us   1.20s    70.00%\n" +
		"    Req/Sec     4.00      0.00     4.00    100.00%\n  Latency Distribution\n     50%    1.20s \n     75%    1.20s \n" +
		"     90%    1.20s \n     99%    1.20s \n  20 requests in 3.01s, 2.30KB read\nRequests/sec:      6.65\nTransfer/sec:     785.22B"
)

func TestParseWrk(t *testing.T) {
	for _, tc := range []struct {
		name string
		out  string
		want wrkResult
	}{
		{"fast", wrkFast, wrkResult{
			Requests: 182199, Elapsed: 3010 * time.Millisecond, Bytes: 20.5 * (1 << 20), PerSecond: 60476.34,
			Avg: 1050 * time.Microsecond, Max: 11090 * time.Microsecond,
			Percentile: map[int]time.Duration{50: 683 * time.Microsecond, 75: 1300 * time.Microsecond, 90: 2460 * time.Microsecond, 99: 6190 * time.Microsecond},
		}},
		{"errors", wrkErrors, wrkResult{
			Requests: 4950, Elapsed: 4010 * time.Millisecond, Bytes: 578.76 * (1 << 10), PerSecond: 1235.26,
			Avg: 202680 * time.Nanosecond, Max: 4440 * time.Microsecond,
			Percentile: map[int]time.Duration{50: 83 * time.Microsecond, 75: 166 * time.Microsecond, 90: 503 * time.Microsecond, 99: 1820 * time.Microsecond},
			Timeout:    50, Non2xx: 450,
		}},
		{"seconds", wrkSlow, wrkResult{
			Requests: 20, Elapsed: 3010 * time.Millisecond, Bytes: 2.3 * (1 << 10), PerSecond: 6.65,
			Avg: 1200 * time.Millisecond, Max: 1200 * time.Millisecond,
			Percentile: map[int]time.Duration{50: 1200 * time.Millisecond, 75: 1200 * time.Millisecond, 90: 1200 * time.Millisecond, 99: 1200 * time.Millisecond},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseWrk(tc.out)
			if err != nil {
				t.Fatal(err)
			}
			near := func(a, b float64) bool { return a == b || (a-b)/b < 1e-9 && (b-a)/b < 1e-9 }
			if got.Requests != tc.want.Requests || !near(float64(got.Elapsed), float64(tc.want.Elapsed)) ||
				!near(got.Bytes, tc.want.Bytes) || got.PerSecond != tc.want.PerSecond ||
				!near(float64(got.Avg), float64(tc.want.Avg)) || !near(float64(got.Max), float64(tc.want.Max)) ||
				got.Connect != tc.want.Connect || got.Read != tc.want.Read || got.Write != tc.want.Write ||
				got.Timeout != tc.want.Timeout || got.Non2xx != tc.want.Non2xx {
				t.Errorf("parseWrk = %+v\nwant %+v", *got, tc.want)
			}
			for p, d := range tc.want.Percentile {
				if !near(float64(got.Percentile[p]), float64(d)) {
					t.Errorf("p%d = %v, want %v", p, got.Percentile[p], d)
				}
			}
		})
	}
	if r, _ := parseWrk(wrkErrors); r.Errors() != 500 || r.ErrorText() != "connect 0, read 0, write 0, timeout 50, non-2xx 450" {
		t.Errorf("errors: %d %q", r.Errors(), r.ErrorText())
	}
	if r, _ := parseWrk(wrkFast); r.ErrorText() != "none" || int(r.BytesPerRequest()) != 117 {
		t.Errorf("fast: errors %q, %.1f bytes per request", r.ErrorText(), r.BytesPerRequest())
	}
	noLatency := strings.Replace(wrkFast, "     99%    6.19ms\n", "", 1)
	for name, bad := range map[string]string{
		"empty":       "",
		"refused":     "unable to connect to 127.0.0.1:18098 Connection refused\n",
		"no 99%":      noLatency,
		"bad unit":    strings.Replace(wrkFast, "683.00us", "683.00xs", 1),
		"bad size":    strings.Replace(wrkFast, "20.50MB read", "20.50QB read", 1),
		"no per-sec":  strings.Replace(wrkFast, "Requests/sec:  60476.34\n", "", 1),
		"no requests": strings.Replace(wrkFast, "182199 requests in 3.01s, 20.50MB read\n", "", 1),
	} {
		if r, err := parseWrk(bad); err == nil {
			t.Errorf("%s: parseWrk = %+v, want an error", name, *r)
		}
	}
}

func TestParseServerSide(t *testing.T) {
	text := `# TYPE dockman_api_request_duration_seconds histogram
dockman_api_request_duration_seconds_bucket{handler="containers",le="0.001"} 50
dockman_api_request_duration_seconds_bucket{handler="containers",le="0.01"} 98
dockman_api_request_duration_seconds_bucket{handler="containers",le="0.1"} 100
dockman_api_request_duration_seconds_bucket{handler="containers",le="+Inf"} 100
dockman_api_request_duration_seconds_sum{handler="containers"} 0.25
dockman_api_request_duration_seconds_count{handler="containers"} 100
dockman_api_request_duration_seconds_bucket{handler="readyz",le="0.001"} 7
dockman_api_request_duration_seconds_count{handler="readyz"} 7
dockman_api_requests_total{code="200",handler="containers"} 100
`
	s, err := parseServerSide(text)
	if err != nil {
		t.Fatal(err)
	}
	if s.count != 100 || s.sum != 0.25 || s.mean() != 0.0025 || s.p99Bound() != "100" {
		t.Errorf("parsed %+v: mean %v, p99 bound %s", s, s.mean(), s.p99Bound())
	}
	zero, _ := parseServerSide("")
	d := s.minus(zero)
	if d.count != 100 || d.buckets["0.01"] != 98 {
		t.Errorf("minus nothing: %+v", d)
	}
	if got := s.minus(s).p99Bound(); got != "?" {
		t.Errorf("no requests: p99 bound %s, want ?", got)
	}
}

// TestNaiveHandler checks the baseline against a fake engine: it lists
// on every request, all containers, and answers 502 when the engine
// fails.
func TestNaiveHandler(t *testing.T) {
	var lists int
	var mu sync.Mutex
	fail := false
	engine := http.NewServeMux()
	engine.HandleFunc("/_ping", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Api-Version", "1.41")
		w.Write([]byte("OK"))
	})
	engine.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/containers/json") {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		lists++
		f := fail
		mu.Unlock()
		if f {
			http.Error(w, `{"message":"boom"}`, http.StatusInternalServerError)
			return
		}
		if r.URL.Query().Get("all") != "1" {
			t.Errorf("list without all=1: %s", r.URL)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[{"Id":"a1","Names":["/one"],"Labels":{"dockman.test":"x"}},{"Id":"b2","Names":["/two"],"Labels":{}}]`))
	})
	fake := httptest.NewServer(engine)
	defer fake.Close()
	c, err := client.New(client.WithHost("tcp://" + fake.Listener.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := httptest.NewServer(naiveHandler(c))
	defer srv.Close()
	for i := range 3 {
		got, err := countLabelled(srv.URL+"/containers", "x")
		if err != nil || got != 1 {
			t.Fatalf("request %d: %d labelled, %v; want 1", i, got, err)
		}
	}
	mu.Lock()
	if lists != 3 {
		t.Errorf("the engine was listed %d times for 3 requests", lists)
	}
	fail = true
	mu.Unlock()
	code, body, err := get(srv.URL + "/containers")
	if err != nil || code != http.StatusBadGateway || !strings.Contains(string(body), `"error"`) {
		t.Errorf("engine failing: %d %s %v; want 502 with a JSON error", code, body, err)
	}
}
