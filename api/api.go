// Package api is dockman's read-only status API: the containers, the
// snapshot and enforcement as JSON, health and readiness for probes, and
// the Prometheus metrics. It answers from what the event-fed inventory and
// the enforce controller hold in memory, never with an engine call per
// request, and it is a runner part: Start binds and serves, Stop shuts it
// down and waits.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/inventory"
	"github.com/dockman/dockman/manager"
)

// DefaultAddr is where the API listens unless told otherwise: loopback
// only, so that nothing is exposed by default.
const DefaultAddr = "127.0.0.1:8080"

// Containers is what the API reads the containers from: the inventory.
type Containers interface {
	List(opts manager.ListOptions) ([]inventory.Container, bool)
	Generation() uint64
}

// Engine says whether the engine answers: the Watcher.
type Engine interface {
	Connected() (bool, error)
}

// Enforcement is what the API reads the snapshot and enforcement from:
// the enforce controller.
type Enforcement interface {
	Status() (enforce.ControllerStatus, error)
}

// Options configure a Server.
type Options struct {
	// Addr is the TCP address to listen on, host:port.
	Addr string
	// Token, when set, must come as "Authorization: Bearer TOKEN" on every
	// path but /healthz and /readyz. New refuses an Addr that is not
	// loopback without one.
	Token string

	Containers Containers
	Engine     Engine
	Enforce    Enforcement
	// Leader reports whether this process keeps the logs and may enforce
	// (the agent that holds the state directory); nil: always.
	Leader func() bool
	// Metrics serves /metrics; nil: 404.
	Metrics http.Handler
	// Observe, if set, is told of every request answered.
	Observe func(handler string, code int, took time.Duration)
	Log     *slog.Logger
}

// Server is the status API.
type Server struct {
	opts  Options
	token [sha256.Size]byte
	log   *slog.Logger
	list  listCache

	srv  *http.Server
	ln   net.Listener
	done chan struct{}
}

// Timeouts that keep a slow or idle client from holding a connection: the
// headers must come within readHeaderTimeout, the whole request within
// readTimeout; an idle keep-alive connection is closed after idleTimeout.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
	shutdownTimeout   = 5 * time.Second
)

// ErrTokenRequired is returned by New for an address beyond loopback
// without a token.
var ErrTokenRequired = errors.New("a token is required to listen beyond loopback (--api-token-file, or DOCKMAN_API_TOKEN)")

// New checks the options and returns a stopped Server.
func New(opts Options) (*Server, error) {
	host, _, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("api address %q: %w", opts.Addr, err)
	}
	if opts.Token == "" && !IsLoopback(host) {
		return nil, fmt.Errorf("api address %q: %w", opts.Addr, ErrTokenRequired)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Log.With("part", "api")}
	if opts.Token != "" {
		s.token = sha256.Sum256([]byte(opts.Token))
	}
	return s, nil
}

// IsLoopback reports whether host names only this machine: "localhost" or
// a loopback IP. An empty host (":8080") is every address, not loopback.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Start binds the address and serves in the background.
func (s *Server) Start(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serve", "err", err)
		}
	}()
	s.log.Info("listening", "addr", ln.Addr().String(), "token", s.opts.Token != "")
	return nil
}

// Addr is the address bound, once started (with the port chosen when
// Options.Addr asked for port 0).
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.opts.Addr
	}
	return s.ln.Addr().String()
}

// Stop stops accepting, lets the requests under way finish (for a few
// seconds at most), and waits for the server to return.
func (s *Server) Stop() {
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		s.srv.Close()
	}
	<-s.done
	s.srv = nil
}

// route is one path of the API.
type route struct {
	name   string // the handler label in the metrics
	public bool   // answered without the token (probes)
	serve  func(w http.ResponseWriter, r *http.Request, arg string)
}

// match finds the route for path, and its argument (the container
// reference of /containers/{ref}).
func (s *Server) match(path string) (route, string, bool) {
	switch path {
	case "/healthz":
		return route{"healthz", true, s.healthz}, "", true
	case "/readyz":
		return route{"readyz", true, s.readyz}, "", true
	case "/containers":
		return route{"containers", false, s.containers}, "", true
	case "/snapshot":
		return route{"snapshot", false, s.snapshot}, "", true
	case "/enforce":
		return route{"enforce", false, s.enforce}, "", true
	case "/metrics":
		if s.opts.Metrics != nil {
			return route{"metrics", false, func(w http.ResponseWriter, r *http.Request, _ string) { s.opts.Metrics.ServeHTTP(w, r) }}, "", true
		}
	}
	if ref, ok := strings.CutPrefix(path, "/containers/"); ok && ref != "" && !strings.Contains(ref, "/") {
		return route{"container", false, s.container}, ref, true
	}
	return route{}, "", false
}

// ServeHTTP applies the rules every path shares, in this order: the token
// (but for the probes), then 404 for a path the API does not have, then
// 405 for a method other than GET and HEAD.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	rt, arg, found := s.match(r.URL.Path)
	handler := "other"
	if found {
		handler = rt.name
	}
	defer func() {
		if s.opts.Observe != nil {
			s.opts.Observe(handler, rec.code, time.Since(start))
		}
	}()
	w = rec
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case !(found && rt.public) && !s.authorized(r):
		w.Header().Set("WWW-Authenticate", `Bearer realm="dockman"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong bearer token")
	case !found:
		writeError(w, http.StatusNotFound, "no such path: "+r.URL.Path)
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "the API is read-only: GET or HEAD")
	default:
		rt.serve(w, r, arg)
	}
}

// authorized checks the bearer token in constant time (both sides are
// hashed first, so that not even the token's length shows in the time).
func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Token == "" {
		return true
	}
	scheme, got, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
	return subtle.ConstantTimeCompare(sum[:], s.token[:]) == 1
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request, _ string) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request, _ string) {
	// Without the token: the status word only. The error would name the
	// engine's address (the agent's own log has it).
	if up, _ := s.opts.Engine.Connected(); !up {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "engine unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeBody(w, code, append(b, '\n'))
}

func writeBody(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	writeBody(w, code, append(b, '\n'))
}

// listCache holds /containers rendered, until the inventory changes or
// the second turns (the status text says "Up 5 seconds"): under load,
// one rendering serves every request of that second.
type listCache struct {
	mu     sync.Mutex
	gen    uint64
	second int64
	body   []byte
}
