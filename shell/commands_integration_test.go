package shell

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/manager"
)

var psHeader = []string{"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"}

func TestPs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	upName, doneName := testenv.Name("ps-up"), testenv.Name("ps-done")
	up := f.sleeper(t, upName)
	done := testenv.RunContainer(t, f.c, f.value, doneName, "sh", "-c", "exit 3")
	f.wait(t, done, container.WaitConditionNotRunning)
	s := newSession(f.eng, Options{})

	// The engine's own command line of the sleeper, to check COMMAND with.
	list, err := f.c.ContainerList(context.Background(), client.ContainerListOptions{Filters: make(client.Filters).Add("id", up)})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list %s: %v %v", up, err, list.Items)
	}
	engineCmd := list.Items[0].Command

	t.Run("running only", func(t *testing.T) {
		r := s.exec(t, "ps"+f.mine()).ok(t)
		tb := parseTable(t, r.out)
		if !slices.Equal(tb.header, psHeader) {
			t.Fatalf("header %q, want %q", tb.header, psHeader)
		}
		if len(tb.rows) != 1 {
			t.Fatalf("%d rows, want the running container only:\n%s", len(tb.rows), r.out)
		}
		row := tb.rows[0]
		want := map[string]string{
			"CONTAINER ID": up[:12],
			"IMAGE":        f.img,
			"COMMAND":      strconv.Quote(string([]rune(engineCmd)[:19]) + "…"),
			"PORTS":        "",
			"NAMES":        upName,
		}
		for col, w := range want {
			if got := row[tb.col(t, col)]; got != w {
				t.Errorf("%s = %q, want %q", col, got, w)
			}
		}
		if got := row[tb.col(t, "CREATED")]; !strings.HasSuffix(got, " ago") {
			t.Errorf("CREATED = %q, want \"... ago\"", got)
		}
		if got := row[tb.col(t, "STATUS")]; !strings.HasPrefix(got, "Up ") {
			t.Errorf("STATUS = %q, want \"Up ...\"", got)
		}
	})

	t.Run("all", func(t *testing.T) {
		r := s.exec(t, "ps -a"+f.mine()).ok(t)
		tb := parseTable(t, r.out)
		if len(tb.rows) != 2 {
			t.Fatalf("%d rows, want 2:\n%s", len(tb.rows), r.out)
		}
		// Newest first, as docker lists them.
		names := tb.col(t, "NAMES")
		if tb.rows[0][names] != doneName || tb.rows[1][names] != upName {
			t.Errorf("names in order %q, %q; want %q, %q", tb.rows[0][names], tb.rows[1][names], doneName, upName)
		}
		if got := tb.rowWith(t, "NAMES", doneName)[tb.col(t, "STATUS")]; !strings.HasPrefix(got, "Exited (3) ") {
			t.Errorf("STATUS of the exited one = %q, want \"Exited (3) ...\"", got)
		}
	})

	t.Run("quiet", func(t *testing.T) {
		r := s.exec(t, "ps -q"+f.mine()).ok(t)
		if r.out != up[:12]+"\n" {
			t.Errorf("ps -q printed %q, want %q", r.out, up[:12]+"\n")
		}
	})

	t.Run("quiet all no-trunc", func(t *testing.T) {
		r := s.exec(t, "ps -a -q --no-trunc"+f.mine()).ok(t)
		got := lines(r.out)
		sort.Strings(got)
		want := []string{up, done}
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("ps -a -q --no-trunc printed %q, want %q", got, want)
		}
	})

	t.Run("no-trunc table", func(t *testing.T) {
		r := s.exec(t, "ps --no-trunc"+f.mine()).ok(t)
		tb := parseTable(t, r.out)
		if len(tb.rows) != 1 {
			t.Fatalf("%d rows, want 1:\n%s", len(tb.rows), r.out)
		}
		if got := tb.rows[0][tb.col(t, "CONTAINER ID")]; got != up {
			t.Errorf("CONTAINER ID = %q, want the full ID %q", got, up)
		}
		if got, want := tb.rows[0][tb.col(t, "COMMAND")], strconv.Quote(engineCmd); got != want {
			t.Errorf("COMMAND = %q, want the whole command %q", got, want)
		}
	})

	t.Run("json", func(t *testing.T) {
		r := s.exec(t, "ps -a --format json"+f.mine()).ok(t)
		ls := lines(r.out)
		if len(ls) != 2 {
			t.Fatalf("%d lines, want one object per container:\n%s", len(ls), r.out)
		}
		states := map[string]string{}
		for _, l := range ls {
			var obj map[string]any
			if err := json.Unmarshal([]byte(l), &obj); err != nil {
				t.Fatalf("line %q does not decode: %v", l, err)
			}
			for _, k := range []string{"ID", "Image", "Command", "CreatedAt", "RunningFor", "Status", "State", "Ports", "Names", "Labels"} {
				if _, ok := obj[k]; !ok {
					t.Errorf("line %q has no key %q", l, k)
				}
			}
			name, _ := obj["Names"].(string)
			state, _ := obj["State"].(string)
			states[name] = state
			if labels, _ := obj["Labels"].(string); !strings.Contains(labels, f.label()) {
				t.Errorf("Labels %q does not hold %q", labels, f.label())
			}
			if id, _ := obj["ID"].(string); !shortIDRE.MatchString(id) {
				t.Errorf("ID %q is not a short ID", id)
			}
		}
		if states[upName] != "running" || states[doneName] != "exited" {
			t.Errorf("states %v, want %s running and %s exited", states, upName, doneName)
		}
	})

	t.Run("explicit table format", func(t *testing.T) {
		r := s.exec(t, "ps --format table"+f.mine()).ok(t)
		if tb := parseTable(t, r.out); len(tb.rows) != 1 {
			t.Errorf("ps --format table: %d rows, want 1", len(tb.rows))
		}
	})
}

func TestPsEmptyHeader(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := newSession(f.eng, Options{})
	r := s.exec(t, "ps -a"+f.mine()).ok(t)
	// docker prints its tabwriter's layout (minimum width 10, padding 3):
	// `docker ps -a -f label=nothing` on the 20.10 CLI prints exactly this.
	const want = "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
	if r.out != want {
		t.Errorf("ps with nothing to list printed\n%q\nwant docker's\n%q", r.out, want)
	}
}

// TestPsLayoutMatchesDocker checks the column widths of a filled table
// against docker's tabwriter: each column but the last is as wide as its
// widest cell plus 3 spaces, and at least 10.
func TestPsLayoutMatchesDocker(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sleeper(t, testenv.Name("layout"))
	s := newSession(f.eng, Options{})
	r := s.exec(t, "ps"+f.mine()).ok(t)
	tb := parseTable(t, r.out)
	for i := 0; i+1 < len(tb.starts); i++ {
		widest := len([]rune(tb.header[i]))
		for _, row := range tb.rows {
			widest = max(widest, len([]rune(row[i])))
		}
		if got, want := tb.starts[i+1]-tb.starts[i], max(widest+3, 10); got != want {
			t.Errorf("column %s is %d wide, docker makes it %d:\n%s", tb.header[i], got, want, r.out)
		}
	}
}

func TestPsFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	aName, bName := testenv.Name("filt-a"), testenv.Name("filt-b")
	a := f.sleeper(t, aName)
	b := f.create(t, bName, container.Config{Cmd: []string{"true"}, Labels: map[string]string{"role": "db"}}, container.HostConfig{})
	f.start(t, b)
	f.wait(t, b, container.WaitConditionNotRunning)
	s := newSession(f.eng, Options{})

	tests := []struct {
		name    string
		filters string
		want    []string
		noAll   bool // without -a
	}{
		{name: "label only", filters: "", want: []string{a, b}},
		{name: "name", filters: "-f name=" + aName, want: []string{a}},
		{name: "name with slash", filters: "-f name=/" + bName, want: []string{b}},
		{name: "name anchored", filters: "-f name=^" + aName + "$", want: []string{a}},
		{name: "name part", filters: "-f name=filt-", want: []string{a, b}},
		{name: "second label", filters: "-f label=role=db", want: []string{b}},
		{name: "label key only", filters: "-f label=role", want: []string{b}},
		{name: "status running", filters: "-f status=running", want: []string{a}},
		{name: "status exited", filters: "-f status=exited", want: []string{b}},
		{name: "two statuses", filters: "-f status=exited -f status=running", want: []string{a, b}},
		{name: "ancestor", filters: "-f ancestor=" + f.img, want: []string{a, b}},
		{name: "ancestor other", filters: "-f ancestor=dockman-test/none-such:v0", want: nil},
		{name: "id prefix", filters: "-f id=" + a[:10], want: []string{a}},
		{name: "id full", filters: "--filter id=" + b, want: []string{b}},
		{name: "id middle", filters: "-f id=" + a[5:13], want: nil},
		{name: "status without -a", filters: "-f status=exited", want: []string{b}, noAll: true},
		{name: "key case", filters: "-f NAME=" + aName, want: []string{a}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all := "-a "
			if tt.noAll {
				all = ""
			}
			r := s.exec(t, "ps "+all+"-q --no-trunc "+tt.filters+f.mine()).ok(t)
			got := lines(r.out)
			sort.Strings(got)
			want := slices.Clone(tt.want)
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestPsBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := newSession(f.eng, Options{})
	tests := []struct {
		name  string
		args  string
		wants []string
	}{
		{name: "unknown filter key", args: "-f color=red", wants: []string{`unknown filter "color"`, "name", "label", "status", "ancestor", "id"}},
		{name: "filter without equals", args: "-f running", wants: []string{`bad filter "running"`, "key=value"}},
		{name: "empty filter key", args: "-f =x", wants: []string{`bad filter "=x"`}},
		{name: "template that does not parse", args: "--format '{{.Names'", wants: []string{"failed to parse template", "unclosed action"}},
		{name: "unknown field", args: "--format '{{.Colour}}'", wants: []string{"failed to execute template", "Colour"}},
		{name: "bad status value", args: "-f status=sleepy", wants: []string{"sleepy"}},
		{name: "argument", args: "web", wants: []string{"ps: takes no arguments", `"web"`}},
		{name: "flag value missing", args: "-f", wants: []string{"ps:", "flag needs an argument"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.exec(t, "ps"+f.mine()+" "+tt.args)
			r.oneError(t, tt.wants...)
			if r.out != "" {
				t.Errorf("stdout %q, want nothing", r.out)
			}
		})
	}
}

func TestPsColor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	upName, doneName := testenv.Name("col-up"), testenv.Name("col-done")
	f.sleeper(t, upName)
	done := testenv.RunContainer(t, f.c, f.value, doneName, "true")
	f.wait(t, done, container.WaitConditionNotRunning)

	t.Run("off", func(t *testing.T) {
		s := newSession(f.eng, Options{})
		r := s.exec(t, "ps -a"+f.mine()+"; sotp")
		if strings.Contains(r.out+r.errOut, "\x1b") {
			t.Errorf("escape byte in output without Color:\n%q\n%q", r.out, r.errOut)
		}
	})

	t.Run("on", func(t *testing.T) {
		s := newSession(f.eng, Options{ColorOut: true, ColorErr: true})
		r := s.exec(t, "ps -a"+f.mine()).ok(t)
		running := regexp.MustCompile(`\x1b\[32mUp [^\x1b]*\x1b\[0m`)
		exited := regexp.MustCompile(`\x1b\[31mExited \(0\) [^\x1b]*\x1b\[0m`)
		if !running.MatchString(r.out) {
			t.Errorf("running state not wrapped in green with Color on:\n%q", r.out)
		}
		if !exited.MatchString(r.out) {
			t.Errorf("exited state not wrapped in red with Color on:\n%q", r.out)
		}
		// Escapes take no room: columns still line up once they are removed.
		tb := parseTable(t, r.out)
		if got := tb.rowWith(t, "NAMES", upName)[tb.col(t, "STATUS")]; !strings.HasPrefix(got, "Up ") {
			t.Errorf("STATUS = %q once escapes are removed", got)
		}
		r = s.exec(t, "sotp")
		if !strings.HasPrefix(r.errOut, "\x1b[") {
			t.Errorf("error prefix not coloured with Color on: %q", r.errOut)
		}
		if got := ansiRE.ReplaceAllString(r.errOut, ""); !strings.HasPrefix(got, "error: unknown command") {
			t.Errorf("error line %q", got)
		}
	})
}

func TestImages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	img, err := f.c.ImageInspect(ctx, f.img)
	if err != nil {
		t.Fatal(err)
	}
	short := strings.TrimPrefix(img.ID, "sha256:")[:12]
	repo, tag, _ := strings.Cut(f.img, ":")
	s := newSession(f.eng, Options{})

	for _, line := range []string{"images", "images -a", "images --format table"} {
		t.Run(line, func(t *testing.T) {
			r := s.exec(t, line).ok(t)
			tb := parseTable(t, r.out)
			if want := []string{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}; !slices.Equal(tb.header, want) {
				t.Fatalf("header %q, want %q", tb.header, want)
			}
			row := tb.rowWith(t, "REPOSITORY", repo)
			if row[tb.col(t, "TAG")] != tag || row[tb.col(t, "IMAGE ID")] != short {
				t.Errorf("row %q, want tag %q and ID %q", row, tag, short)
			}
			if got := row[tb.col(t, "CREATED")]; !strings.HasSuffix(got, " ago") {
				t.Errorf("CREATED = %q", got)
			}
			if got := row[tb.col(t, "SIZE")]; !regexp.MustCompile(`^[0-9.]+[kMG]?B$`).MatchString(got) {
				t.Errorf("SIZE = %q, want docker's human size like 1.98MB", got)
			}
		})
	}

	t.Run("quiet", func(t *testing.T) {
		r := s.exec(t, "images -q").ok(t)
		ls := lines(r.out)
		if !slices.Contains(ls, short) {
			t.Errorf("images -q does not list %s:\n%s", short, r.out)
		}
		for _, l := range ls {
			if !shortIDRE.MatchString(l) {
				t.Errorf("images -q line %q is not a short ID", l)
			}
		}
		// An image with two tags is listed twice, as `docker images -q`
		// lists it (one line per tag): no check of uniqueness here.
	})

	t.Run("json", func(t *testing.T) {
		r := s.exec(t, "images --format json").ok(t)
		found := false
		for _, l := range lines(r.out) {
			var obj map[string]any
			if err := json.Unmarshal([]byte(l), &obj); err != nil {
				t.Fatalf("line %q does not decode: %v", l, err)
			}
			if obj["Repository"] == repo && obj["Tag"] == tag {
				found = true
				if obj["ID"] != short {
					t.Errorf("ID %v, want %s", obj["ID"], short)
				}
				for _, k := range []string{"CreatedSince", "CreatedAt", "Size"} {
					if _, ok := obj[k]; !ok {
						t.Errorf("no key %s in %s", k, l)
					}
				}
			}
		}
		if !found {
			t.Errorf("no line for %s:\n%s", f.img, r.out)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		s.exec(t, "images --format '{{.Repository'").oneError(t, "template parsing error", "unclosed action")
		s.exec(t, "images a b").oneError(t, "images: takes at most 1 argument")
		s.exec(t, "images --all=maybe").oneError(t, "images:")
	})
}

// TestLifecycle drives stop, start, restart and rm over several containers
// per call, named by name, full ID and unique ID prefix, with one unknown
// container among them.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	names := []string{testenv.Name("life-a"), testenv.Name("life-b"), testenv.Name("life-c")}
	var ids []string
	for _, n := range names {
		ids = append(ids, f.sleeper(t, n))
	}
	unknown := testenv.Name("nosuch")
	refs := []string{names[0], ids[1], ids[2][:12], unknown}
	line := strings.Join(refs, " ")
	// Successes are printed as they complete, in any order.
	wantOut := strings.Join(slices.Sorted(slices.Values(refs[:3])), "\n")
	s := newSession(f.eng, Options{})

	check := func(t *testing.T, r result, running bool) {
		t.Helper()
		if strings.Join(sortedLines(r.out), "\n") != wantOut {
			t.Errorf("%q printed %q, want each success on its own line: %q", r.line, r.out, wantOut)
		}
		r.oneError(t, "no such container: "+unknown)
		for i, id := range ids {
			if got := f.inspect(t, id).State.Running; got != running {
				t.Errorf("after %q: %s running=%v, want %v", r.line, names[i], got, running)
			}
		}
	}

	var started []string
	for _, id := range ids {
		started = append(started, f.inspect(t, id).State.StartedAt)
	}

	t.Run("stop", func(t *testing.T) {
		check(t, s.exec(t, "stop "+line), false)
		for i, id := range ids {
			if code := f.inspect(t, id).State.ExitCode; code != 0 {
				t.Errorf("%s exit code %d, want 0 (stopped by SIGTERM, not killed)", names[i], code)
			}
		}
	})
	t.Run("stop again", func(t *testing.T) {
		// Stopping a stopped container is no error, as in docker.
		check(t, s.exec(t, "stop "+line), false)
	})
	t.Run("start", func(t *testing.T) {
		check(t, s.exec(t, "start "+line), true)
	})
	t.Run("restart", func(t *testing.T) {
		before := make([]string, len(ids))
		for i, id := range ids {
			before[i] = f.inspect(t, id).State.StartedAt
			if before[i] == started[i] {
				t.Errorf("%s: StartedAt unchanged by start", names[i])
			}
		}
		check(t, s.exec(t, "restart "+line), true)
		for i, id := range ids {
			if f.inspect(t, id).State.StartedAt == before[i] {
				t.Errorf("%s: StartedAt unchanged by restart", names[i])
			}
		}
	})
	t.Run("rm running", func(t *testing.T) {
		r := s.exec(t, "rm "+line)
		if r.out != "" {
			t.Errorf("rm of running containers printed %q", r.out)
		}
		if !r.failed {
			t.Error("rm of running containers succeeded")
		}
		errs := r.errorLines(t, 4)
		for i, ref := range refs[:3] {
			if i < len(errs) && (!strings.HasPrefix(errs[i], "error: rm: "+ref+": ") || !strings.Contains(errs[i], "cannot remove a running container")) {
				t.Errorf("error line %q, want the ref %q and the engine's message", errs[i], ref)
			}
		}
		for i, id := range ids {
			if !f.exists(t, id) {
				t.Errorf("%s removed without -f", names[i])
			}
		}
	})
	t.Run("rm -f", func(t *testing.T) {
		r := s.exec(t, "rm -f "+line)
		if strings.Join(sortedLines(r.out), "\n") != wantOut {
			t.Errorf("rm -f printed %q, want %q", r.out, wantOut)
		}
		r.oneError(t, "no such container: "+unknown)
		for i, id := range ids {
			if f.exists(t, id) {
				t.Errorf("%s still there after rm -f", names[i])
			}
		}
	})
}

func TestStopAndRestartTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A container that ignores SIGTERM (sleep as PID 1) and whose own stop
	// timeout is 600 s: stop and restart only return in time when -t is
	// passed on, and then it is killed (137).
	stubborn := func(t *testing.T) (string, string) {
		name := testenv.Name("stubborn")
		timeout := 600
		id := f.create(t, name, container.Config{Cmd: []string{"sleep", "600"}, StopTimeout: &timeout}, container.HostConfig{})
		f.start(t, id)
		return name, id
	}
	s := newSession(f.eng, Options{})
	for _, secs := range []string{"0", "1"} {
		t.Run("stop -t "+secs, func(t *testing.T) {
			name, id := stubborn(t)
			r := s.exec(t, "stop -t "+secs+" "+name).ok(t)
			if r.out != name+"\n" {
				t.Errorf("printed %q", r.out)
			}
			st := f.inspect(t, id).State
			if st.Running || st.ExitCode != 137 {
				t.Errorf("running=%v exit=%d, want killed (137)", st.Running, st.ExitCode)
			}
		})
	}
	t.Run("stop --time", func(t *testing.T) {
		name, id := stubborn(t)
		s.exec(t, "stop --time=0 "+id).ok(t)
		if f.inspect(t, id).State.Running {
			t.Errorf("%s still running", name)
		}
	})
	t.Run("restart -t 0", func(t *testing.T) {
		name, id := stubborn(t)
		before := f.inspect(t, id).State.StartedAt
		r := s.exec(t, "restart -t 0 "+name).ok(t)
		if r.out != name+"\n" {
			t.Errorf("printed %q", r.out)
		}
		st := f.inspect(t, id).State
		if !st.Running || st.StartedAt == before {
			t.Errorf("running=%v StartedAt %s (was %s): not restarted", st.Running, st.StartedAt, before)
		}
	})
	t.Run("bad timeout", func(t *testing.T) {
		s.exec(t, "stop -t soon x").oneError(t, "stop:", "soon")
		s.exec(t, "restart -t soon x").oneError(t, "restart:", "soon")
	})
}

func TestAmbiguousPrefix(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Create containers until two IDs share their first hex digit: at most
	// 17 are needed (pigeonhole), a handful in practice.
	byFirst := map[byte][]string{}
	names := map[string]string{}
	var pair []string
	for i := 0; i < 17 && pair == nil; i++ {
		name := testenv.Name("amb")
		id := f.create(t, name, container.Config{Cmd: []string{"true"}}, container.HostConfig{})
		names[id] = name
		byFirst[id[0]] = append(byFirst[id[0]], id)
		if len(byFirst[id[0]]) == 2 {
			pair = byFirst[id[0]]
		}
	}
	prefix := pair[0][:1]
	s := newSession(f.eng, Options{})
	for _, cmd := range []string{"rm", "start", "inspect", "logs"} {
		t.Run(cmd, func(t *testing.T) {
			r := s.exec(t, cmd+" "+prefix)
			want := []string{fmt.Sprintf("ambiguous container %q", prefix)}
			for _, id := range pair {
				want = append(want, fmt.Sprintf("%s (%s)", names[id], id[:12]))
			}
			r.oneError(t, want...)
			for _, id := range pair {
				st := f.inspect(t, id).State
				if st.Status != "created" {
					t.Errorf("%s touched by an ambiguous %s: %s", names[id], cmd, st.Status)
				}
			}
		})
	}
	t.Run("longer prefix resolves", func(t *testing.T) {
		r := s.exec(t, "rm "+pair[0][:12]).ok(t)
		if r.out != pair[0][:12]+"\n" || f.exists(t, pair[0]) {
			t.Errorf("rm of a unique prefix printed %q; exists=%v", r.out, f.exists(t, pair[0]))
		}
	})
}

func TestRmVolumes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := newSession(f.eng, Options{})
	ctx := context.Background()
	anonVolume := func(t *testing.T, name string) string {
		s.exec(t, fmt.Sprintf("run %s --name %s -v /anon %s true", f.runOpts(), name, f.img)).ok(t)
		ins := f.inspect(t, name)
		f.wait(t, ins.ID, container.WaitConditionNotRunning)
		if len(ins.Mounts) != 1 || ins.Mounts[0].Name == "" {
			t.Fatalf("mounts %+v, want one anonymous volume", ins.Mounts)
		}
		vol := ins.Mounts[0].Name
		t.Cleanup(func() { f.c.VolumeRemove(context.Background(), vol, client.VolumeRemoveOptions{Force: true}) })
		return vol
	}
	t.Run("rm -v", func(t *testing.T) {
		name := testenv.Name("rmv")
		vol := anonVolume(t, name)
		s.exec(t, "rm -v "+name).ok(t)
		if _, err := f.c.VolumeInspect(ctx, vol, client.VolumeInspectOptions{}); !manager.IsNotFound(err) {
			t.Errorf("volume %s after rm -v: err=%v, want not found", vol, err)
		}
	})
	t.Run("rm keeps volume", func(t *testing.T) {
		name := testenv.Name("rmkeep")
		vol := anonVolume(t, name)
		s.exec(t, "rm "+name).ok(t)
		if _, err := f.c.VolumeInspect(ctx, vol, client.VolumeInspectOptions{}); err != nil {
			t.Errorf("volume %s gone after rm without -v: %v", vol, err)
		}
	})
}

func TestLogs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := newSession(f.eng, Options{})
	mixed := testenv.Name("logs-mixed")
	f.wait(t, testenv.RunContainer(t, f.c, f.value, mixed, "sh", "-c", "echo out1; echo err1 >&2; echo out2"), container.WaitConditionNotRunning)
	seq := testenv.Name("logs-seq")
	f.wait(t, testenv.RunContainer(t, f.c, f.value, seq, "sh", "-c", "for i in 1 2 3 4 5; do echo $i; done"), container.WaitConditionNotRunning)

	t.Run("streams apart", func(t *testing.T) {
		r := s.exec(t, "logs "+mixed)
		if r.out != "out1\nout2\n" || r.errOut != "err1\n" || r.failed {
			t.Errorf("stdout %q stderr %q failed=%v, want the container's own streams", r.out, r.errOut, r.failed)
		}
	})
	tail := []struct{ flags, want string }{
		{"--tail 1", "5\n"},
		{"--tail 2", "4\n5\n"},
		{"-n 1", "5\n"},
		{"--tail 0", ""},
		{"--tail all", "1\n2\n3\n4\n5\n"},
	}
	for _, tt := range tail {
		t.Run(tt.flags, func(t *testing.T) {
			if r := s.exec(t, "logs "+tt.flags+" "+seq).ok(t); r.out != tt.want {
				t.Errorf("printed %q, want %q", r.out, tt.want)
			}
		})
	}

	// Timestamps, then --since with one of them (inclusive, per the API).
	r := s.exec(t, "logs -t "+seq).ok(t)
	tsRE := regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) (\d)$`)
	var stamps []time.Time
	var raw []string
	for i, l := range lines(r.out) {
		m := tsRE.FindStringSubmatch(l)
		if m == nil || m[2] != strconv.Itoa(i+1) {
			t.Fatalf("logs -t line %q, want RFC3339Nano stamp then %d", l, i+1)
		}
		ts, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			t.Fatal(err)
		}
		stamps, raw = append(stamps, ts), append(raw, m[1])
	}
	if len(stamps) != 5 {
		t.Fatalf("logs -t printed %d lines, want 5", len(stamps))
	}
	t.Run("since", func(t *testing.T) {
		var want strings.Builder
		for i, ts := range stamps {
			if !ts.Before(stamps[2]) {
				fmt.Fprintf(&want, "%d\n", i+1)
			}
		}
		if r := s.exec(t, "logs --since "+raw[2]+" "+seq).ok(t); r.out != want.String() {
			t.Errorf("--since %s printed %q, want %q", raw[2], r.out, want.String())
		}
		if r := s.exec(t, "logs --since 2099-01-01T00:00:00Z "+seq).ok(t); r.out != "" {
			t.Errorf("--since the future printed %q", r.out)
		}
		if r := s.exec(t, "logs --since 1h "+seq).ok(t); r.out != "1\n2\n3\n4\n5\n" {
			t.Errorf("--since 1h printed %q", r.out)
		}
	})
	t.Run("tty", func(t *testing.T) {
		name := testenv.Name("logs-tty")
		r := s.exec(t, fmt.Sprintf("run %s --name %s -t %s sh -c 'echo hi; echo there >&2'", f.runOpts(), name, f.img)).ok(t)
		f.wait(t, strings.TrimSpace(r.out), container.WaitConditionNotRunning)
		r = s.exec(t, "logs "+name).ok(t)
		if r.out != "hi\r\nthere\r\n" {
			t.Errorf("tty logs %q, want both streams merged with CRLF", r.out)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		s.exec(t, "logs").oneError(t, "logs: requires at least 1 argument")
		s.exec(t, "logs "+seq+" "+mixed).oneError(t, "logs: takes at most 1 argument")
		s.exec(t, "logs --since yesterday "+seq).oneError(t, "yesterday")
		s.exec(t, "logs dmt-nosuch-000000").oneError(t, "no such container: dmt-nosuch-000000")
	})
}

func TestLogsFollow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	follower := func(t *testing.T) (string, string) {
		name := testenv.Name("follow")
		id := testenv.RunContainer(t, f.c, f.value, name, "sh", "-c", "trap 'exit 0' TERM; echo ready; sleep 600 & wait")
		return name, id
	}
	// follow runs `logs -f name` in the background and returns once its first
	// line has been written, with the channel its result arrives on.
	follow := func(t *testing.T, ctx context.Context, name string) (*syncBuffer, <-chan error) {
		out := newSyncBuffer()
		s := New(f.eng, Options{Out: out, Err: io.Discard})
		done := make(chan error, 1)
		go func() { done <- s.Execute(ctx, "logs -f "+name) }()
		select {
		case <-out.first:
		case err := <-done:
			t.Fatalf("logs -f returned before writing anything: %v", err)
		case <-time.After(guard):
			t.Fatal("logs -f wrote nothing")
		}
		return out, done
	}
	wait := func(t *testing.T, done <-chan error) error {
		select {
		case err := <-done:
			return err
		case <-time.After(guard):
			t.Fatal("logs -f did not return")
		}
		return nil
	}

	t.Run("returns when the container exits", func(t *testing.T) {
		name, id := follower(t)
		out, done := follow(t, context.Background(), name)
		if _, err := f.c.ContainerStop(context.Background(), id, client.ContainerStopOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := wait(t, done); err != nil {
			t.Errorf("logs -f = %v after the container exited, want nil", err)
		}
		if out.String() != "ready\n" {
			t.Errorf("printed %q", out.String())
		}
	})

	t.Run("returns when cancelled", func(t *testing.T) {
		name, id := follower(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out, done := follow(t, ctx, name)
		cancel()
		if err := wait(t, done); err != nil {
			t.Errorf("logs -f = %v after cancel, want nil (Ctrl-C is no failure)", err)
		}
		if out.String() != "ready\n" {
			t.Errorf("printed %q", out.String())
		}
		if !f.inspect(t, id).State.Running {
			t.Error("cancelling the follow stopped the container")
		}
	})

	t.Run("exited container returns at once", func(t *testing.T) {
		name := testenv.Name("follow-done")
		f.wait(t, testenv.RunContainer(t, f.c, f.value, name, "echo", "bye"), container.WaitConditionNotRunning)
		s := newSession(f.eng, Options{})
		if r := s.exec(t, "logs -f "+name).ok(t); r.out != "bye\n" {
			t.Errorf("printed %q", r.out)
		}
	})
}

func TestInspect(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	aName, bName := testenv.Name("insp-a"), testenv.Name("insp-b")
	a := f.sleeper(t, aName)
	b := f.create(t, bName, container.Config{Cmd: []string{"true"}}, container.HostConfig{})
	s := newSession(f.eng, Options{})
	decode := func(t *testing.T, out string) []container.InspectResponse {
		t.Helper()
		var docs []container.InspectResponse
		if err := json.Unmarshal([]byte(out), &docs); err != nil {
			t.Fatalf("output is not a JSON array of containers: %v\n%s", err, out)
		}
		return docs
	}

	t.Run("several", func(t *testing.T) {
		r := s.exec(t, "inspect "+aName+" "+b[:12]).ok(t)
		if !strings.HasPrefix(r.out, "[\n") || !strings.HasSuffix(r.out, "]\n") {
			t.Errorf("not docker's indented array: %.40q ... %q", r.out, r.out[max(0, len(r.out)-10):])
		}
		docs := decode(t, r.out)
		if len(docs) != 2 || docs[0].ID != a || docs[1].ID != b {
			t.Fatalf("got %d documents, want %s then %s", len(docs), aName, bName)
		}
		if docs[0].Name != "/"+aName || !docs[0].State.Running || docs[1].State.Status != "created" {
			t.Errorf("documents do not describe the containers: %s %+v / %+v", docs[0].Name, docs[0].State, docs[1].State)
		}
	})
	t.Run("unknown among them", func(t *testing.T) {
		r := s.exec(t, "inspect "+aName+" dmt-nosuch-111111 "+b)
		r.oneError(t, "no such object: dmt-nosuch-111111") // nor image nor volume, as docker says
		if docs := decode(t, r.out); len(docs) != 2 {
			t.Errorf("%d documents, want the 2 known containers", len(docs))
		}
	})
	t.Run("only unknown", func(t *testing.T) {
		r := s.exec(t, "inspect dmt-nosuch-222222")
		r.oneError(t, "no such object: dmt-nosuch-222222")
		if r.out != "[]\n" {
			t.Errorf("stdout %q, want docker's []", r.out)
		}
	})
	t.Run("no argument", func(t *testing.T) {
		s.exec(t, "inspect").oneError(t, "inspect: requires at least 1 argument")
	})
}

// offlineEngine is a Manager for an address nothing listens on: commands
// that never reach the engine work with it on any machine.
func offlineEngine(t *testing.T) *manager.Manager {
	t.Helper()
	mgr, err := manager.New("unix://" + filepath.Join(t.TempDir(), "nobody.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgr.Close() })
	return mgr
}

func TestHelp(t *testing.T) {
	t.Parallel()
	s := newSession(offlineEngine(t), Options{})

	t.Run("list", func(t *testing.T) {
		r := s.exec(t, "help").ok(t)
		for _, c := range commands {
			if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(c.Name) + `\b.*` + regexp.QuoteMeta(c.Summary) + `$`).MatchString(r.out) {
				t.Errorf("help does not list %s with its summary:\n%s", c.Name, r.out)
			}
		}
		if !strings.Contains(r.out, "exit, quit") {
			t.Errorf("help does not show the quit alias:\n%s", r.out)
		}
	})
	var all []*Command // subcommands too: "help enforce on"
	for _, c := range commands {
		all = append(append(all, c), c.Subcommands...)
	}
	for _, c := range all {
		t.Run("help "+c.Name, func(t *testing.T) {
			r := s.exec(t, "help "+c.Name).ok(t)
			if !strings.HasPrefix(r.out, "Usage:  "+c.Usage+"\n") {
				t.Errorf("help %s starts %q", c.Name, r.out)
			}
			listed := strings.Contains(r.out, "--help") // a command's flags, or its subcommands
			if len(c.Subcommands) > 0 {
				listed = true
				for _, sc := range c.Subcommands {
					listed = listed && strings.Contains(r.out, "  "+sc.word()+" ")
				}
			}
			if !strings.Contains(r.out, c.Summary) || !listed {
				t.Errorf("help %s lacks its summary, flags or subcommands:\n%s", c.Name, r.out)
			}
			if r2 := s.exec(t, c.Name+" --help").ok(t); r2.out != r.out {
				t.Errorf("%s --help printed\n%s\nwant what help %s prints:\n%s", c.Name, r2.out, c.Name, r.out)
			}
		})
	}
	t.Run("flags listed", func(t *testing.T) {
		want := map[string][]string{
			"ps":      {"-a, --all", "-q, --quiet", "--no-trunc", "-f, --filter", "--format"},
			"images":  {"-a, --all", "-q, --quiet", "--format"},
			"run":     {"-d, --detach", "--name", "-e, --env", "--env-file", "-p, --publish", "-v, --volume", "--mount", "-l, --label", "--restart", "--network", "--network-alias", "-w, --workdir", "-u, --user", "-h, --hostname", "--entrypoint", "--rm", "-t, --tty"},
			"stop":    {"-t, --time"},
			"restart": {"-t, --time"},
			"rm":      {"-f, --force", "-v, --volumes"},
			"logs":    {"-f, --follow", "--tail", "--since", "-t, --timestamps"},
			"history": {"-n"},
		}
		for cmd, flags := range want {
			r := s.exec(t, "help "+cmd).ok(t)
			for _, fl := range flags {
				if !strings.Contains(r.out, fl) {
					t.Errorf("help %s does not list %s", cmd, fl)
				}
			}
		}
	})
	t.Run("alias", func(t *testing.T) {
		if r := s.exec(t, "help quit").ok(t); !strings.HasPrefix(r.out, "Usage:  exit") {
			t.Errorf("help quit printed %q", r.out)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		s.exec(t, "help nosuch").oneError(t, `help: unknown command "nosuch"`)
		s.exec(t, "help ps images").oneError(t, `help: unknown command "ps images"`)
		s.exec(t, "help enforce on x").oneError(t, "help: takes at most 2 arguments")
	})
}

func TestHistory(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state", "history")
	h, err := OpenHistory(path, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"ps -a", "stop web", "stop web", "images", "logs -f db"} {
		if err := h.Add(l); err != nil {
			t.Fatal(err)
		}
	}
	s := newSession(offlineEngine(t), Options{History: h})
	tests := []struct {
		line, want string
	}{
		{"history", "    1  ps -a\n    2  stop web\n    3  images\n    4  logs -f db\n"},
		{"history -n 2", "    3  images\n    4  logs -f db\n"},
		{"history --lines=1", "    4  logs -f db\n"},
		{"history -n 10", "    1  ps -a\n    2  stop web\n    3  images\n    4  logs -f db\n"},
		{"history -n 0", "    1  ps -a\n    2  stop web\n    3  images\n    4  logs -f db\n"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			if r := s.exec(t, tt.line).ok(t); r.out != tt.want {
				t.Errorf("printed %q, want %q", r.out, tt.want)
			}
		})
	}
	t.Run("kept across sessions", func(t *testing.T) {
		h2, err := OpenHistory(path, 100)
		if err != nil {
			t.Fatal(err)
		}
		s2 := newSession(offlineEngine(t), Options{History: h2})
		if r := s2.exec(t, "history -n 1").ok(t); r.out != "    4  logs -f db\n" {
			t.Errorf("reopened history printed %q", r.out)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		s.exec(t, "history -n many").oneError(t, "history:", "many")
		s.exec(t, "history web").oneError(t, "history: takes no arguments")
	})
	t.Run("not kept", func(t *testing.T) {
		s := newSession(offlineEngine(t), Options{})
		s.exec(t, "history").oneError(t, "history")
	})
}

func TestExit(t *testing.T) {
	t.Parallel()
	for _, word := range []string{"exit", "quit"} {
		t.Run(word, func(t *testing.T) {
			s := newSession(offlineEngine(t), Options{})
			r := s.exec(t, word+"; help")
			if r.failed || r.out != "" || r.errOut != "" {
				t.Errorf("%q: failed=%v out=%q err=%q, want the line to stop silently", r.line, r.failed, r.out, r.errOut)
			}
			if !s.sh.Exited() {
				t.Errorf("Exited() = false after %s", word)
			}
		})
	}
	t.Run("status", func(t *testing.T) {
		s := newSession(offlineEngine(t), Options{})
		s.exec(t, "exit 3; help").ok(t)
		if n, ok := s.sh.ExitStatus(); !s.sh.Exited() || !ok || n != 3 {
			t.Errorf("after exit 3: Exited %v, ExitStatus %d %v", s.sh.Exited(), n, ok)
		}
	})
	for _, bad := range []string{"exit x", "exit 256", "exit -1", "exit 1 2"} {
		t.Run(bad, func(t *testing.T) {
			s := newSession(offlineEngine(t), Options{})
			s.exec(t, bad).oneError(t, "exit: ")
			if s.sh.Exited() {
				t.Error("a failed exit left the shell")
			}
		})
	}
}

// TestBadInput checks the list of bad input: each is one line on
// stderr starting with "error: ", and the rest of the line still runs.
func TestBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	name := testenv.Name("bad")
	id := f.sleeper(t, name)
	s := newSession(f.eng, Options{})
	after := "; ps -q" + f.mine()
	tests := []struct {
		name    string
		line    string
		wants   []string
		noAfter bool // the whole line is refused, so nothing after runs
	}{
		{name: "unknown command", line: "sotp " + name + after, wants: []string{`unknown command "sotp"`, `did you mean "stop"?`}},
		{name: "unknown command far from all", line: "xyzzyplugh" + after, wants: []string{`unknown command "xyzzyplugh"`, "help"}},
		{name: "unknown flag", line: "stop --bogus " + name + after, wants: []string{"stop:", "unknown flag: --bogus", "help stop"}},
		{name: "unknown shorthand", line: "ps -z" + after, wants: []string{"ps:", "-z"}},
		{name: "missing argument", line: "stop" + after, wants: []string{"stop: requires at least 1 argument", "stop [OPTIONS] CONTAINER..."}},
		{name: "missing image", line: "run" + after, wants: []string{"run: requires at least 1 argument"}},
		{name: "unbalanced quote", line: "stop '" + name + after, wants: []string{"cannot parse line", "quote"}, noAfter: true},
		{name: "unbalanced double quote", line: `ps -f "name=x` + after, wants: []string{"cannot parse line", "quote"}, noAfter: true},
		{name: "pipe", line: "ps | wc -l", wants: []string{"cannot parse line"}, noAfter: true},
		{name: "unknown container", line: "stop dmt-nosuch-333333" + after, wants: []string{"no such container: dmt-nosuch-333333"}},
		{name: "image not found", line: "run " + f.runOpts() + " 127.0.0.1:1/dmt/nosuch:v1 true" + after, wants: []string{"127.0.0.1:1/dmt/nosuch:v1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.exec(t, tt.line)
			r.oneError(t, tt.wants...)
			want := id[:12] + "\n"
			if tt.noAfter {
				want = ""
			}
			if r.out != want {
				t.Errorf("stdout %q, want %q", r.out, want)
			}
			// The shell goes on: the next line works.
			if r := s.exec(t, "ps -q"+f.mine()).ok(t); r.out != id[:12]+"\n" {
				t.Errorf("next line printed %q", r.out)
			}
			if !f.inspect(t, id).State.Running {
				t.Errorf("%s no longer running after %q", name, tt.line)
			}
		})
	}
	if got := f.ids(t); len(got) != 1 {
		t.Errorf("bad input left %d containers, want only %s", len(got), name)
	}
}

// TestEngineUnreachable cuts the engine away behind a proxy and brings it
// back: the same Shell says which address it tried, then works again.
func TestEngineUnreachable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.sleeper(t, testenv.Name("proxied"))
	proxy := testenv.NewProxy(t)
	mgr, err := manager.New(proxy.Host())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgr.Close() })
	s := newSession(mgr, Options{})

	down := func(t *testing.T) {
		t.Helper()
		for _, line := range []string{"ps" + f.mine(), "images", "stop " + id, "logs " + id, "inspect " + id, "run " + f.runOpts() + " " + f.img + " true"} {
			r := s.exec(t, line)
			r.oneError(t, proxy.Host())
			if r.out != "" {
				t.Errorf("%q printed %q while the engine is away", line, r.out)
			}
		}
	}
	up := func(t *testing.T) {
		t.Helper()
		r := s.exec(t, "ps"+f.mine()).ok(t)
		if tb := parseTable(t, r.out); len(tb.rows) != 1 || tb.rows[0][0] != id[:12] {
			t.Errorf("ps once the engine is back:\n%s", r.out)
		}
	}
	t.Run("down at start", down)
	proxy.Start()
	t.Run("back", up)
	proxy.Stop()
	t.Run("gone later", down)
	proxy.Start()
	t.Run("back again", up)
	if !f.inspect(t, id).State.Running {
		t.Error("container stopped while the engine was away")
	}
}

// TestConcurrentSessions runs separate Shells on one Manager at once, as
// the interactive shell and background work will.
func TestConcurrentSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.sleeper(t, testenv.Name("conc"))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			out := newSyncBuffer()
			s := New(f.eng, Options{Out: out, Err: io.Discard})
			for range 5 {
				if err := s.Execute(context.Background(), "ps -q"+f.mine()); err != nil {
					errs <- err
					return
				}
			}
			if want := strings.Repeat(id[:12]+"\n", 5); out.String() != want {
				errs <- errors.New("printed " + strconv.Quote(out.String()))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
