package shell

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"
)

// execLine runs one line on a Shell over eng and returns what it printed
// and its exit status.
func execLine(t *testing.T, eng Engine, line string) (out, errOut string, status int) {
	t.Helper()
	var o, e bytes.Buffer
	s := New(eng, Options{Out: &o, Err: &e})
	err := s.Execute(context.Background(), line)
	if err != nil && !errors.Is(err, ErrFailed) {
		t.Fatalf("Execute(%q) = %v", line, err)
	}
	return o.String(), e.String(), ExitStatus(err)
}

func TestPsFormat(t *testing.T) {
	eng := newFakeEngine("web", "db:exited")
	eng.containers[0].Labels = map[string]string{"com.example.tier": "front", "b": "2"}
	tests := []struct {
		name, line, want string
	}{
		{"fields with tab", `ps -a --format '{{.Names}}\t{{.Status}}'`, "web\tUp 5 minutes\ndb\tExited (0) 5 minutes ago\n"},
		{"table header from docker's names", `ps --format 'table {{.ID}}\t{{.Names}}'`,
			"CONTAINER ID   NAMES\n" + fakeID("web")[:12] + "   web\n"},
		{"label and its header", `ps --format 'table {{.Label "com.example.tier"}}\t{{.Labels}}'`,
			"tier      LABELS\nfront     b=2,com.example.tier=front\n"},
		{"functions leave headers alone", `ps --format 'table {{upper .Names}}\t{{pad .State 1 1}}|'`,
			"NAMES      STATE |\nWEB        running |\n"}, // pad is not replaced in headers, as in docker
		{"docker's functions", `ps --format '{{join (split .Command " ") "+"}} {{title .State}} {{truncate .Names 2}} {{json .Names}}'`,
			`"sleep+600" Running we "web"` + "\n"},
		{"println", `ps --format '{{.Names}}{{println}}'`, "web\n\n"},
		{"table alone is the default", `ps --format table`, ""}, // checked below
	}
	if out, _, _ := execLine(t, newFakeEngine("old:exited"), "ps --format 'table {{.Names}}'"); out != "NAMES\n" {
		t.Errorf("an empty table printed %q, want its header alone", out)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, status := execLine(t, eng, tt.line)
			if status != 0 || errOut != "" {
				t.Fatalf("status %d, stderr %q", status, errOut)
			}
			if tt.want != "" && out != tt.want {
				t.Errorf("out:\n%q\nwant:\n%q", out, tt.want)
			}
			if tt.want == "" && !strings.HasPrefix(out, "CONTAINER ID   IMAGE") {
				t.Errorf("out %q is not the default table", out)
			}
		})
	}
}

func TestPsFormatErrors(t *testing.T) {
	eng := newFakeEngine("web")
	tests := []struct{ line, want string }{
		{`ps --format '{{.Names'`, "ps: failed to parse template: template: :1: unclosed action"},
		{`ps --format '{{.Foo}}'`, `ps: failed to execute template: template: :1:2: executing "" at <.Foo>: can't evaluate field Foo`},
		{`ps --format 'table {{.Label}}'`, "wrong number of args for Label"},
	}
	for _, tt := range tests {
		out, errOut, status := execLine(t, eng, tt.line)
		if status != StatusFailed || out != "" || !strings.Contains(errOut, tt.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: status %d, out %q, stderr %q; want status 1 and one line with %q", tt.line, status, out, errOut, tt.want)
		}
	}
	if _, errOut, status := execLine(t, eng, "ps -f nokey"); status != StatusUsage {
		t.Errorf("ps -f nokey: status %d (%q), want 125 as docker's flag error", status, errOut)
	}
}

func TestPsSizeAndLimit(t *testing.T) {
	eng := newFakeEngine("c3", "c2:exited", "c1")
	for i := range eng.containers {
		eng.containers[i].SizeRw, eng.containers[i].SizeRootFs = 2, 1_982_911
	}
	tests := []struct {
		line      string
		size      bool
		limit     int
		wantLines []string
	}{
		{"ps --format '{{.Names}}'", false, -1, []string{"c3", "c1"}},
		{"ps --format '{{.Names}} {{.Size}}'", true, -1, []string{"c3 2B (virtual 1.98MB)", "c1 2B (virtual 1.98MB)"}},
		{"ps --size=false --format '{{.Size}}'", false, -1, []string{"0B", "0B"}},
		{"ps -q --format '{{.Size}}'", false, -1, []string{fakeID("c3")[:12], fakeID("c1")[:12]}},
		{"ps --format json", false, -1, nil},
		{"ps -n 2 --format '{{.Names}}'", false, 2, []string{"c3", "c2"}},
		{"ps -l --format '{{.Names}}'", false, 1, []string{"c3"}},
		{"ps -l -n 3 --format '{{.Names}}'", false, 3, []string{"c3", "c2", "c1"}},
	}
	for _, tt := range tests {
		out, _, status := execLine(t, eng, tt.line)
		if status != 0 {
			t.Errorf("%s: status %d", tt.line, status)
		}
		if eng.listOpts.Size != tt.size || eng.listOpts.Limit != tt.limit {
			t.Errorf("%s: asked Size=%v Limit=%d, want %v %d", tt.line, eng.listOpts.Size, eng.listOpts.Limit, tt.size, tt.limit)
		}
		if tt.wantLines != nil && !slices.Equal(lines(out), tt.wantLines) {
			t.Errorf("%s: printed %q, want %q", tt.line, lines(out), tt.wantLines)
		}
	}
	out, _, _ := execLine(t, eng, "ps -s")
	if !strings.Contains(lines(out)[0], "NAMES     SIZE") || !strings.HasSuffix(lines(out)[1], "c3        2B (virtual 1.98MB)") {
		t.Errorf("ps -s table:\n%s", out)
	}
	_, errOut, _ := execLine(t, eng, "ps -q --format '{{.Names}}'")
	if errOut != "WARNING: Ignoring custom format, because both --format and --quiet are set.\n" {
		t.Errorf("ps -q --format: stderr %q, want docker's warning", errOut)
	}
}

// TestJSONHasEveryField checks that json output is made of the same
// fields templates see: every method without arguments, and only those.
func TestJSONHasEveryField(t *testing.T) {
	for _, v := range []any{&containerContext{}, &imageContext{}} {
		var want []string
		typ := reflect.TypeOf(v)
		for i := range typ.NumMethod() {
			m := typ.Method(i)
			if m.Type.NumIn() == 1 && m.Type.NumOut() == 1 {
				want = append(want, m.Name)
			}
		}
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("%T: json keys %q, want the fields %q", v, keys, want)
		}
	}
}

func TestPsJSON(t *testing.T) {
	eng := newFakeEngine("web")
	eng.containers[0].Labels = map[string]string{"a": "<b>"}
	out, _, _ := execLine(t, eng, "ps --format json")
	created := time.Unix(eng.containers[0].Created, 0).String()
	want := `{"Command":"\"sleep 600\"","CreatedAt":"` + created + `","ID":"` + fakeID("web")[:12] +
		`","Image":"busybox","Labels":"a=\u003cb\u003e","LocalVolumes":"0","Mounts":"","Names":"web","Networks":"","Platform":null,"Ports":"",` +
		`"RunningFor":"` + (&containerContext{c: eng.containers[0], now: time.Now()}).RunningFor() + `","Size":"0B","State":"running","Status":"Up 5 minutes"}` + "\n"
	if out != want {
		t.Errorf("ps --format json:\n%s\nwant:\n%s", out, want)
	}
}

func TestEllipsisByScreenColumns(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"sleep 600", 20, "sleep 600"},
		{"sh -c 'echo a; echo b'", 20, "sh -c 'echo a; echo…"},
		{"echo 你好世界你好世界你好", 20, "echo 你好世界你好世…"}, // 5 + 2*7 = 19 columns, then the ellipsis
		{"日本語", 6, "日本語"},
		{"日本語", 5, "日本…"},
		{"héllo wörld", 5, "héll…"},
		{"abc", 1, "a"},
	}
	for _, tt := range tests {
		if got := ellipsis(tt.in, tt.max); got != tt.want {
			t.Errorf("ellipsis(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestDisplayablePorts(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	port := func(ip netip.Addr, priv, pub uint16, proto string) container.PortSummary {
		return container.PortSummary{IP: ip, PrivatePort: priv, PublicPort: pub, Type: proto}
	}
	// What docker ps printed for -p 127.0.0.1:8000-8002:8000-8002
	// -p 127.0.0.1::80 -p 127.0.0.1:9000:9000/udp -p 127.0.0.1:7001:7000
	// --expose 5000-5001, the engine listing them in its own order.
	ports := []container.PortSummary{
		port(lo, 8002, 8002, "tcp"), port(lo, 80, 32768, "tcp"), port(netip.Addr{}, 5001, 0, "tcp"),
		port(lo, 8000, 8000, "tcp"), port(lo, 9000, 9000, "udp"), port(lo, 7000, 7001, "tcp"),
		port(netip.Addr{}, 5000, 0, "tcp"), port(lo, 8001, 8001, "tcp"),
	}
	want := "5000-5001/tcp, 127.0.0.1:8000-8002->8000-8002/tcp, 127.0.0.1:9000->9000/udp, 127.0.0.1:32768->80/tcp, 127.0.0.1:7001->7000/tcp"
	if got := displayablePorts(ports); got != want {
		t.Errorf("ports:\n%s\nwant:\n%s", got, want)
	}
	gap := []container.PortSummary{port(lo, 80, 80, "tcp"), port(lo, 82, 82, "tcp"), port(lo, 81, 81, "tcp"), port(lo, 90, 90, "tcp")}
	if got := displayablePorts(gap); got != "127.0.0.1:80-82->80-82/tcp, 127.0.0.1:90->90/tcp" {
		t.Errorf("ports with a gap: %s", got)
	}
}

func TestImagesFlags(t *testing.T) {
	eng := newFakeEngine()
	digest := "sha256:" + strings.Repeat("ab", 32)
	eng.images = []image.Summary{
		{ID: "sha256:" + strings.Repeat("1", 64), RepoTags: []string{"app:one", "app:two", "other:x"}, RepoDigests: []string{"app@" + digest}, Size: 3, Containers: -1, SharedSize: -1},
		{ID: "sha256:" + strings.Repeat("2", 64), Size: 10, Containers: -1, SharedSize: -1},
	}
	short1, short2 := strings.Repeat("1", 12), strings.Repeat("2", 12)
	tests := []struct {
		line string
		want []string
	}{
		{"images -q", []string{short1, short1, short1, short2}},
		{"images -q --format '{{.Tag}}'", []string{"one", "two", "x", "<none>"}},
		{"images --format '{{.Repository}}:{{.Tag}}'", []string{"app:one", "app:two", "other:x", "<none>:<none>"}},
		{"images --format '{{.Repository}}:{{.Tag}} {{.ID}}'", []string{"app:one " + short1, "app:two " + short1, "other:x " + short1, "<none>:<none> " + short2}},
		// A template naming {{.Digest}} gets the digests, as --digests would.
		{"images --format '{{.Repository}} {{.Digest}}'", []string{"app " + digest, "app " + digest, "other <none>", "<none> <none>"}},
		{"images --format '{{.Tag}} {{.Digest}}' --digests", []string{"one " + digest, "two " + digest, "x <none>", "<none> <none>"}},
		{"images --no-trunc --format '{{.ID}}'", []string{"sha256:" + strings.Repeat("1", 64), "sha256:" + strings.Repeat("1", 64), "sha256:" + strings.Repeat("1", 64), "sha256:" + strings.Repeat("2", 64)}},
		{"images --format '{{.Containers}} {{.SharedSize}} {{.UniqueSize}} {{.VirtualSize}}' -f dangling=true", []string{"N/A N/A N/A 3B", "N/A N/A N/A 3B", "N/A N/A N/A 3B", "N/A N/A N/A 10B"}},
		{"images --format 'table {{.Tag}}' --digests", []string{"TAG       DIGEST", "one       " + digest, "two       " + digest, "x         <none>", "<none>    <none>"}},
	}
	for _, tt := range tests {
		out, errOut, status := execLine(t, eng, tt.line)
		if status != 0 || errOut != "" {
			t.Errorf("%s: status %d, stderr %q", tt.line, status, errOut)
		}
		if !slices.Equal(lines(out), tt.want) {
			t.Errorf("%s:\n%q\nwant:\n%q", tt.line, lines(out), tt.want)
		}
	}
	execLine(t, eng, "images -a -f dangling=false -f label=a=b app:one")
	want := map[string][]string{"dangling": {"false"}, "label": {"a=b"}, "reference": {"app:one"}}
	if !eng.imageOpts.All || !reflect.DeepEqual(eng.imageOpts.Filters, want) {
		t.Errorf("images asked the engine for %+v, want All and filters %v", eng.imageOpts, want)
	}
	out, _, _ := execLine(t, eng, "images --digests")
	if !strings.HasPrefix(out, "REPOSITORY   TAG       DIGEST") {
		t.Errorf("images --digests header: %q", lines(out)[0])
	}
	if _, _, status := execLine(t, eng, "images -f dangling"); status != StatusUsage {
		t.Errorf("images -f dangling: status %d, want 125", status)
	}
	if out, errOut, status := execLine(t, eng, "images --format '{{.Foo}}'"); status != StatusFailed || out != "" || !strings.Contains(errOut, "template parsing error: ") {
		t.Errorf("bad field: status %d out %q stderr %q", status, out, errOut)
	}
	if _, errOut, status := execLine(t, eng, "images a b"); status != StatusFailed || !strings.Contains(errOut, "at most 1 argument") {
		t.Errorf("images a b: status %d stderr %q", status, errOut)
	}
}

func TestInspectKinds(t *testing.T) {
	eng := newFakeEngine("web", "db:exited")
	eng.images = []image.Summary{{ID: "sha256:" + strings.Repeat("1", 64), RepoTags: []string{"app:latest"}, Size: 42}}
	eng.volumes = []volume.Volume{{Name: "data", Driver: "local", CreatedAt: "2026-01-02T03:04:05Z", Labels: map[string]string{"k": "v"}}}
	tests := []struct {
		name, line, out, errOut string
		status                  int
	}{
		{"container field", "inspect -f '{{.State.Status}}' web db", "running\nexited\n", "", 0},
		{"long flag", "inspect --format '{{.Name}}' web", "/web\n", "", 0},
		{"image next", "inspect -f '{{.Size}} {{.RepoTags}}' app", "42 [app:latest]\n", "", 0},
		{"volume last", "inspect -f '{{.Driver}} {{.Labels.k}}' data", "local v\n", "", 0},
		{"type image skips containers", "inspect --type image -f '{{.Id}}' app", "sha256:" + strings.Repeat("1", 64) + "\n", "", 0},
		{"type volume only", "inspect --type volume -f '{{.Name}}' web", "\n", "error: inspect: get web: no such volume\n", 1},
		{"nothing found", "inspect nosuch", "[]\n", "error: inspect: no such object: nosuch\n", 1},
		{"found and not", "inspect -f '{{.Name}}' web nosuch", "/web\n", "error: inspect: no such object: nosuch\n", 1},
		{"json array", "inspect -f json data", `[{"CreatedAt":"2026-01-02T03:04:05Z","Driver":"local","Labels":{"k":"v"},"Mountpoint":"","Name":"data","Options":null,"Scope":""}]` + "\n", "", 0},
		{"bad type", "inspect --type network x", "", "error: inspect: unknown type: \"network\": must be one of \"container\", \"image\", \"volume\"\n", 1},
		{"empty type", "inspect --type '' x", "", "error: inspect: type is empty: must be one of \"container\", \"image\", \"volume\"\n", 1},
		{"template does not parse", "inspect -f '{{.State' web", "", "error: inspect: template parsing error: template: :1: unclosed action\n", StatusTemplate},
		{"field missing everywhere", "inspect -f '{{.Foo}}' web", "\n", "error: inspect: template parsing error: template: :1:2: executing \"\" at <.Foo>: map has no entry for key \"Foo\"\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, status := execLine(t, eng, tt.line)
			if out != tt.out || errOut != tt.errOut || status != tt.status {
				t.Errorf("got out %q, stderr %q, status %d\nwant out %q, stderr %q, status %d", out, errOut, status, tt.out, tt.errOut, tt.status)
			}
		})
	}
	out, _, _ := execLine(t, eng, "inspect data")
	if !strings.HasPrefix(out, "[\n    {\n        \"CreatedAt\": \"2026-01-02T03:04:05Z\",\n") {
		t.Errorf("inspect data: not indented as docker's: %q", out)
	}
}
