package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/inventory"
	"github.com/dockman/dockman/manager"
)

// fakeInventory is Containers with a list set by the test.
type fakeInventory struct {
	list  []inventory.Container
	ok    bool
	gen   uint64
	lists int // how often List was called
}

func (f *fakeInventory) List(manager.ListOptions) ([]inventory.Container, bool) {
	f.lists++
	return f.list, f.ok
}
func (f *fakeInventory) Generation() uint64 { return f.gen }

type fakeEngine struct {
	up  bool
	err error
}

func (f fakeEngine) Connected() (bool, error) { return f.up, f.err }

type fakeEnforce struct{ st enforce.ControllerStatus }

func (f fakeEnforce) Status() (enforce.ControllerStatus, error) { return f.st, nil }

var (
	_ Containers  = (*fakeInventory)(nil)
	_ Engine      = fakeEngine{}
	_ Enforcement = fakeEnforce{}
)

func ctr(id, name string) inventory.Container {
	c := inventory.Container{Detailed: true, CreatedAt: time.Unix(1700000000, 0)}
	c.ID, c.Names, c.State, c.Image = id, []string{"/" + name}, container.StateRunning, "busybox"
	return c
}

func newTestServer(t *testing.T, inv *fakeInventory, token string) *Server {
	t.Helper()
	s, err := New(Options{Addr: "127.0.0.1:0", Token: token, Containers: inv, Engine: fakeEngine{up: true},
		Enforce: fakeEnforce{enforce.ControllerStatus{State: "off"}}, Metrics: http.NotFoundHandler()})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func do(s *Server, method, path, auth string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func TestRules(t *testing.T) {
	inv := &fakeInventory{ok: true, list: []inventory.Container{ctr("abc123", "web")}}
	s := newTestServer(t, inv, "tok")
	for _, tc := range []struct {
		name, method, path, auth string
		want                     int
	}{
		{"probe without token", "GET", "/healthz", "", 200},
		{"readiness without token", "GET", "/readyz", "", 200},
		{"no token", "GET", "/containers", "", 401},
		{"not bearer", "GET", "/containers", "Basic tok", 401},
		{"wrong token", "GET", "/containers", "Bearer tok2", 401},
		{"token prefix", "GET", "/containers", "Bearer to", 401},
		{"unknown path without token", "GET", "/x", "", 401},
		{"good token", "GET", "/containers", "Bearer tok", 200},
		{"scheme in any case", "GET", "/containers", "bearer tok", 200},
		{"head", "HEAD", "/containers", "Bearer tok", 200},
		{"unknown path", "GET", "/x", "Bearer tok", 404},
		{"post", "POST", "/containers", "Bearer tok", 405},
		{"delete one", "DELETE", "/containers/web", "Bearer tok", 405},
		{"post probe", "POST", "/healthz", "", 405},
		{"by name", "GET", "/containers/web", "Bearer tok", 200},
		{"by prefix", "GET", "/containers/abc", "Bearer tok", 200},
		{"none such", "GET", "/containers/zzz", "Bearer tok", 404},
		{"nested", "GET", "/containers/web/logs", "Bearer tok", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(s, tc.method, tc.path, tc.auth)
			if rec.Code != tc.want {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body, tc.want)
			}
			if ct := rec.Header().Get("Content-Type"); tc.path != "/metrics" && ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			switch rec.Code {
			case 401:
				if rec.Header().Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			case 405:
				if rec.Header().Get("Allow") != "GET, HEAD" {
					t.Errorf("405 with Allow %q", rec.Header().Get("Allow"))
				}
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.1.2.3": true, "::1": true, "localhost": true,
		"": false, "0.0.0.0": false, "::": false, "10.0.0.1": false, "example.com": false,
	} {
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v", host, got)
		}
	}
	if _, err := New(Options{Addr: ":8080"}); !errors.Is(err, ErrTokenRequired) {
		t.Errorf(":8080 without a token: %v", err)
	}
	if _, err := New(Options{Addr: "8080"}); err == nil {
		t.Error("an address without a port is accepted")
	}
}

// TestListRenderedOnce checks that /containers is rendered once per
// inventory generation (and second), not per request.
func TestListRenderedOnce(t *testing.T) {
	inv := &fakeInventory{ok: true, list: []inventory.Container{ctr("abc123", "web")}, gen: 1}
	s := newTestServer(t, inv, "")
	for range 50 {
		if rec := do(s, "GET", "/containers", ""); rec.Code != 200 {
			t.Fatal(rec.Code)
		}
	}
	if inv.lists > 2 { // a second may turn between two requests
		t.Errorf("the list was read %d times for 50 requests of one generation", inv.lists)
	}
	inv.list = append(inv.list, ctr("def456", "db"))
	inv.gen++
	var got []Container
	_ = json.Unmarshal(do(s, "GET", "/containers", "").Body.Bytes(), &got)
	if len(got) != 2 {
		t.Errorf("after a change, %d containers", len(got))
	}
}

func TestOutOfSync(t *testing.T) {
	s := newTestServer(t, &fakeInventory{ok: false}, "")
	if rec := do(s, "GET", "/containers", ""); rec.Code != 503 {
		t.Errorf("/containers out of sync: %d", rec.Code)
	}
	s.opts.Engine = fakeEngine{err: errors.New("connection refused")}
	rec := do(s, "GET", "/readyz", "")
	if rec.Code != 503 || strings.Contains(rec.Body.String(), "connection refused") {
		t.Errorf("/readyz with the engine down: %d %s", rec.Code, rec.Body)
	}
}

func TestAmbiguousPrefix(t *testing.T) {
	s := newTestServer(t, &fakeInventory{ok: true, list: []inventory.Container{ctr("abc123", "a"), ctr("abd456", "b")}}, "")
	if rec := do(s, "GET", "/containers/ab", ""); rec.Code != 409 {
		t.Errorf("ambiguous prefix: %d", rec.Code)
	}
	// A name wins over an ID prefix, as in docker.
	s = newTestServer(t, &fakeInventory{ok: true, list: []inventory.Container{ctr("abc123", "x"), ctr("fff", "abc")}}, "")
	var one Container
	_ = json.Unmarshal(do(s, "GET", "/containers/abc", "").Body.Bytes(), &one)
	if one.ID != "fff" {
		t.Errorf("/containers/abc is %q, want the container named abc", one.ID)
	}
}
