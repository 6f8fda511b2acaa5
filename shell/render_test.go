package shell

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
)

func TestContainerRowColumns(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := container.Summary{
		ID:      "0123456789abcdef0123",
		Names:   []string{"/web", "/app/web-link"},
		Image:   "sha256:fedcba9876543210fedc",
		Command: "nginx -g 'daemon off;' --with-a-long-tail",
		Created: now.Add(-2 * time.Hour).Unix(),
		Status:  "Up 2 hours",
		State:   container.StateRunning,
		Ports: []container.PortSummary{
			{IP: netip.MustParseAddr("127.0.0.1"), PrivatePort: 80, PublicPort: 8080, Type: "tcp"},
			{PrivatePort: 443, Type: "tcp"},
			{IP: netip.MustParseAddr("::1"), PrivatePort: 80, PublicPort: 8080, Type: "tcp"},
		},
	}
	c.ImageID = c.Image
	r := &containerContext{c: c, now: now, trunc: true}
	checks := []struct{ col, got, want string }{
		{"ID", r.ID(), "0123456789ab"},
		{"Image", r.Image(), "fedcba987654"},
		{"Command", r.Command(), `"nginx -g 'daemon of…"`},
		{"RunningFor", r.RunningFor(), "2 hours ago"},
		{"Status", r.Status(), "Up 2 hours"},
		{"Names", r.Names(), "web"},
		// As docker: exposed ports first, then published ones one by one.
		{"Ports", r.Ports(), "443/tcp, 127.0.0.1:8080->80/tcp, [::1]:8080->80/tcp"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.col, ch.got, ch.want)
		}
	}
	full := &containerContext{c: c, now: now}
	if full.ID() != c.ID || full.Command() != `"nginx -g 'daemon off;' --with-a-long-tail"` || full.Names() != "web,app/web-link" {
		t.Errorf("no-trunc: ID %q Command %q Names %q", full.ID(), full.Command(), full.Names())
	}
}

func TestRenderContainersTable(t *testing.T) {
	var out bytes.Buffer
	s := New(nil, Options{Out: &out})
	now := time.Unix(1_700_000_000, 0)
	list := []container.Summary{
		{ID: "aaaaaaaaaaaaaaaa", Names: []string{"/web"}, Image: "nginx", Command: "nginx", Created: now.Unix() - 30, Status: "Up 30 seconds", State: container.StateRunning},
		{ID: "bbbbbbbbbbbbbbbb", Names: []string{"/db"}, Image: "postgres:16", Command: "postgres", Created: now.Unix() - 7200, Status: "Exited (0) 1 hour ago", State: container.StateExited},
	}
	if err := renderContainers(s, list, psView{format: "table", now: now}); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"CONTAINER ID   IMAGE         COMMAND      CREATED          STATUS                  PORTS     NAMES\n" +
		"aaaaaaaaaaaa   nginx         \"nginx\"      30 seconds ago   Up 30 seconds                     web\n" +
		"bbbbbbbbbbbb   postgres:16   \"postgres\"   2 hours ago      Exited (0) 1 hour ago             db\n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestRenderContainersColor(t *testing.T) {
	list := []container.Summary{{ID: "aaaaaaaaaaaaaaaa", Names: []string{"/web"}, Status: "Up 1 second", State: container.StateRunning}}
	for _, useColor := range []bool{false, true} {
		var out bytes.Buffer
		s := New(nil, Options{Out: &out, ColorOut: useColor})
		if err := renderContainers(s, list, psView{format: "table", now: time.Now()}); err != nil {
			t.Fatal(err)
		}
		hasGreen := strings.Contains(out.String(), "\x1b[32mUp 1 second")
		hasEsc := strings.Contains(out.String(), "\x1b")
		if useColor && !hasGreen {
			t.Errorf("colour on: running state not green: %q", out.String())
		}
		if !useColor && hasEsc {
			t.Errorf("colour off: escape found: %q", out.String())
		}
	}
}

func TestImageLines(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	list := []image.Summary{
		{ID: "sha256:1111111111111111", RepoTags: []string{"nginx:latest", "nginx:1.25"}, Size: 187_000_000, Created: now.Unix() - 86400*3},
		{ID: "sha256:2222222222222222", RepoDigests: []string{"busybox@sha256:" + strings.Repeat("ab", 32)}, Size: 4_260_000, Created: now.Unix()},
		{ID: "sha256:3333333333333333", Size: 10},
		{ID: "sha256:4444444444444444", RepoTags: []string{"127.0.0.1:5000/team/app:v1"}},
	}
	var got []string
	for _, r := range imageLines(list, true, false, false, now) {
		got = append(got, r.Repository()+" "+r.Tag()+" "+r.ID()+" "+r.Size()+" "+r.Digest())
	}
	want := []string{
		"nginx latest 111111111111 187MB <none>",
		"nginx 1.25 111111111111 187MB <none>",
		"busybox <none> 222222222222 4.26MB ",
		"<none> <none> 333333333333 10B <none>",
		"127.0.0.1:5000/team/app v1 444444444444 0B <none>",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNearest(t *testing.T) {
	tests := map[string]string{
		"sotp": "stop", "stpo": "stop", "strat": "start", "imgaes": "images", "pss": "ps",
		"rmm": "rm", "lgos": "logs", "hepl": "help", "kubectl": "", "x": "",
	}
	for typo, want := range tests {
		if got := nearest(typo); got != want {
			t.Errorf("nearest(%q) = %q, want %q", typo, got, want)
		}
	}
}

func TestParseFilters(t *testing.T) {
	got, err := parseFilters([]string{"name=web", "label=a=b", "status=exited", "name=db"}, psFilterKeys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got["name"]) != 2 || got["label"][0] != "a=b" || got["status"][0] != "exited" {
		t.Errorf("filters = %v", got)
	}
	for _, bad := range []string{"name", "=x", "colour=red"} {
		if _, err := parseFilters([]string{bad}, psFilterKeys); err == nil {
			t.Errorf("parseFilters(%q): no error", bad)
		}
	}
}
