// Package metrics is dockman's Prometheus instrumentation. What changes
// with every event is read from the parts when Prometheus scrapes
// (containers by state, the snapshot's size, whether the engine answers),
// so nothing is counted twice and nothing goes stale; what happens once
// (an enforcement action, a write to a log file, an API request) is pushed
// in through the small observer interfaces the parts define, so that
// logtail and enforce never import Prometheus.
package metrics

import (
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/logtail"
)

// Family describes one metric family dockman exports: the table docs,
// the dashboard's test and the collectors below all read.
type Family struct {
	Name   string
	Type   string // counter, gauge or histogram
	Labels []string
	Help   string
}

// Families are every dockman_* family, in the order docs/monitoring.md
// lists them. The Go runtime's go_* and the process's process_* families
// come from the standard collectors besides.
var Families = []Family{
	{"dockman_build_info", "gauge", []string{"version", "goversion"}, "Always 1; its labels say which dockman runs."},
	{"dockman_engine_up", "gauge", nil, "1 while dockman's event stream from the Docker engine is connected, else 0."},
	{"dockman_engine_reconnects_total", "counter", nil, "Times the event stream was connected again after it was lost."},
	{"dockman_containers", "gauge", []string{"state"}, "Containers on the engine, by state, as dockman's event-fed inventory knows them."},
	{"dockman_snapshot_containers", "gauge", nil, "Containers in the enforcement snapshot."},
	{"dockman_enforce_enabled", "gauge", nil, "1 while this process enforces the snapshot, else 0."},
	{"dockman_leader", "gauge", nil, "1 while this agent holds its state directory (keeps the logs, may enforce); 0 while it waits to take over from another."},
	{"dockman_enforce_actions_total", "counter", []string{"action", "result"}, "Enforcement actions taken, by action (start, unpause, recreate, remove) and result (ok, failed, dry_run)."},
	{"dockman_enforce_action_latency_seconds", "histogram", []string{"action"}, "Time from the Docker event that queued a container to the end of the action taken for it."},
	{"dockman_enforce_backoff_containers", "gauge", nil, "Snapshot containers waiting out a crash-loop backoff before their next start."},
	{"dockman_enforce_failing_containers", "gauge", nil, "Containers whose last enforcement action failed and is retried with backoff."},
	{"dockman_logs_lines_total", "counter", nil, "Log lines written to the containers' log files."},
	{"dockman_logs_bytes_total", "counter", nil, "Bytes written to the containers' log files."},
	{"dockman_logs_errors_total", "counter", []string{"kind"}, "Failures of the log keeper: reading a log from the engine (read) or writing a file (write)."},
	{"dockman_logs_followers", "gauge", nil, "Containers whose log is being copied now."},
	{"dockman_logs_lag_seconds", "histogram", nil, "Time from a log line's engine timestamp to its write into the file."},
	{"dockman_api_requests_total", "counter", []string{"handler", "code"}, "Status API requests, by handler and HTTP status code."},
	{"dockman_api_request_duration_seconds", "histogram", []string{"handler"}, "Time to answer a status API request, by handler."},
}

// States are the container states dockman_containers always reports (0
// when none is in it), so that a dashboard's series do not come and go.
var States = []string{"created", "running", "paused", "restarting", "removing", "exited", "dead"}

// Actions and Results are the label values of the enforcement families,
// all reported from the start.
var (
	Actions = []enforce.Kind{enforce.KindStart, enforce.KindUnpause, enforce.KindRecreate, enforce.KindRemove}
	Results = []string{"ok", "failed", "dry_run"}
)

// Sources are the functions a scrape reads the parts' state through. Any
// may be nil: its families are then not reported.
type Sources struct {
	// Containers counts the containers by state; ok is false while the
	// inventory is out of sync with the engine.
	Containers func() (byState map[string]int, ok bool)
	// EngineUp reports whether the event stream is connected.
	EngineUp func() bool
	// Reconnects counts the event stream's reconnects.
	Reconnects func() uint64
	// Enforce reports the snapshot's size, whether this process enforces,
	// and the containers in backoff and failing; ok is false when they
	// cannot be read (an unreadable snapshot is not an empty one).
	Enforce func() (snapshot int, enforcing bool, backoff, failing int, ok bool)
	// Followers counts the log followers running.
	Followers func() int
	// Leading reports whether this agent holds its state directory.
	Leading func() bool
}

// Metrics owns a registry with every dockman family and the standard Go
// and process collectors.
type Metrics struct {
	reg     *prometheus.Registry
	version string

	actions   *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	lines     prometheus.Counter
	bytes     prometheus.Counter
	logErrors *prometheus.CounterVec
	lag       prometheus.Histogram
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

// family returns the table's entry for name; a name missing from the
// table is a programming error caught by the tests.
func family(name string) Family {
	for _, f := range Families {
		if f.Name == name {
			return f
		}
	}
	panic("metrics: no family " + name)
}

func counterVec(name string) *prometheus.CounterVec {
	f := family(name)
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: f.Name, Help: f.Help}, f.Labels)
}

func histogramVec(name string, buckets []float64) *prometheus.HistogramVec {
	f := family(name)
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: f.Name, Help: f.Help, Buckets: buckets}, f.Labels)
}

// Bucket bounds in seconds: enforcement acts in tens to hundreds of
// milliseconds (a recreate on a busy engine in seconds); log lines reach
// their file in milliseconds unless the keeper falls behind; the API
// answers from memory.
var (
	latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	lagBuckets     = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	apiBuckets     = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
)

// New returns the metrics of one dockman process of the given version.
// The observers (Logs, Enforce) are ready at once, for the parts to be
// built with; Read then says where a scrape reads the parts' state.
func New(version string) *Metrics {
	m := &Metrics{
		reg:       prometheus.NewRegistry(),
		actions:   counterVec("dockman_enforce_actions_total"),
		latency:   histogramVec("dockman_enforce_action_latency_seconds", latencyBuckets),
		logErrors: counterVec("dockman_logs_errors_total"),
		requests:  counterVec("dockman_api_requests_total"),
		duration:  histogramVec("dockman_api_request_duration_seconds", apiBuckets),
	}
	f := family("dockman_logs_lines_total")
	m.lines = prometheus.NewCounter(prometheus.CounterOpts{Name: f.Name, Help: f.Help})
	f = family("dockman_logs_bytes_total")
	m.bytes = prometheus.NewCounter(prometheus.CounterOpts{Name: f.Name, Help: f.Help})
	f = family("dockman_logs_lag_seconds")
	m.lag = prometheus.NewHistogram(prometheus.HistogramOpts{Name: f.Name, Help: f.Help, Buckets: lagBuckets})
	for _, a := range Actions {
		m.latency.WithLabelValues(string(a))
		for _, r := range Results {
			m.actions.WithLabelValues(string(a), r)
		}
	}
	for _, k := range []string{"read", "write"} {
		m.logErrors.WithLabelValues(k)
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.actions, m.latency, m.lines, m.bytes, m.logErrors, m.lag, m.requests, m.duration,
	)
	m.version = version
	return m
}

// Read registers the families read from the parts at each scrape. Call
// it once, before the metrics are served.
func (m *Metrics) Read(src Sources) {
	m.reg.MustRegister(&scraped{version: m.version, src: src})
}

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Gatherer returns the registry, for tests and for other exposition.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Logs returns the log keeper's observer.
func (m *Metrics) Logs() logtail.Observer { return logsObserver{m} }

// Enforce returns the enforcer's observer.
func (m *Metrics) Enforce() enforce.Observer { return enforceObserver{m} }

// ObserveRequest counts one API request answered by handler with code,
// and how long it took.
func (m *Metrics) ObserveRequest(handler string, code int, took time.Duration) {
	m.requests.WithLabelValues(handler, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(handler).Observe(took.Seconds())
}

type logsObserver struct{ m *Metrics }

func (o logsObserver) Wrote(lines, bytes int, lag time.Duration) {
	o.m.lines.Add(float64(lines))
	o.m.bytes.Add(float64(bytes))
	o.m.lag.Observe(max(lag, 0).Seconds())
}

func (o logsObserver) Failed(kind string) { o.m.logErrors.WithLabelValues(kind).Inc() }

type enforceObserver struct{ m *Metrics }

func (o enforceObserver) Acted(action enforce.Kind, result string, latency time.Duration) {
	o.m.actions.WithLabelValues(string(action), result).Inc()
	if latency >= 0 {
		o.m.latency.WithLabelValues(string(action)).Observe(latency.Seconds())
	}
}

// scraped collects the families read from the parts at each scrape.
type scraped struct {
	version string
	src     Sources
}

func desc(name string) *prometheus.Desc {
	f := family(name)
	return prometheus.NewDesc(f.Name, f.Help, f.Labels, nil)
}

var (
	buildInfoDesc  = desc("dockman_build_info")
	engineUpDesc   = desc("dockman_engine_up")
	reconnectsDesc = desc("dockman_engine_reconnects_total")
	containersDesc = desc("dockman_containers")
	snapshotDesc   = desc("dockman_snapshot_containers")
	enabledDesc    = desc("dockman_enforce_enabled")
	backoffDesc    = desc("dockman_enforce_backoff_containers")
	failingDesc    = desc("dockman_enforce_failing_containers")
	followersDesc  = desc("dockman_logs_followers")
	leaderDesc     = desc("dockman_leader")
)

func (s *scraped) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{buildInfoDesc, engineUpDesc, reconnectsDesc, containersDesc,
		snapshotDesc, enabledDesc, backoffDesc, failingDesc, followersDesc, leaderDesc} {
		ch <- d
	}
}

func (s *scraped) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(buildInfoDesc, 1, s.version, runtime.Version())
	if s.src.EngineUp != nil {
		gauge(engineUpDesc, b2f(s.src.EngineUp()))
	}
	if s.src.Reconnects != nil {
		ch <- prometheus.MustNewConstMetric(reconnectsDesc, prometheus.CounterValue, float64(s.src.Reconnects()))
	}
	if s.src.Containers != nil {
		if by, ok := s.src.Containers(); ok {
			for _, st := range States {
				gauge(containersDesc, float64(by[st]), st)
			}
		}
	}
	if s.src.Enforce != nil {
		if snap, on, backoff, failing, ok := s.src.Enforce(); ok {
			gauge(snapshotDesc, float64(snap))
			gauge(enabledDesc, b2f(on))
			gauge(backoffDesc, float64(backoff))
			gauge(failingDesc, float64(failing))
		}
	}
	if s.src.Followers != nil {
		gauge(followersDesc, float64(s.src.Followers()))
	}
	if s.src.Leading != nil {
		gauge(leaderDesc, b2f(s.src.Leading()))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
