package shell

import (
	"fmt"
	"reflect"
	"testing"

	prompt "github.com/c-bata/go-prompt"
	"github.com/moby/moby/api/types/container"
)

// fakeSource is a CompletionSource made of fixed answers.
type fakeSource struct {
	containers []container.Summary
	tags       []string
	networks   []string
	volumes    []string
}

var _ CompletionSource = (*fakeSource)(nil)

func (f *fakeSource) KnownContainers() []container.Summary { return f.containers }

func (f *fakeSource) ImageTags() []string { return f.tags }

func (f *fakeSource) Networks() []string { return f.networks }

func (f *fakeSource) Volumes() []string { return f.volumes }

// testCompleter is a completer over what an inventory would hold: web and
// api and nu-db-1 running, db exited, three image tags, two networks
// and two volumes.
func testCompleter(testing.TB) *Completer {
	return NewCompleter(&fakeSource{
		containers: []container.Summary{
			{ID: "aaaa1111" + pad, Names: []string{"/web"}, Image: "nginx", State: container.StateRunning, Labels: map[string]string{"tier": "front", "app": "shop"}},
			{ID: "bbbb2222" + pad, Names: []string{"/db"}, Image: "postgres", State: container.StateExited, Labels: map[string]string{"app": "shop"}},
			{ID: "cccc3333" + pad, Names: []string{"/api"}, Image: "api:1", State: container.StateRunning},
			{ID: "dddd4444" + pad, Names: []string{"/nu-db-1"}, Image: "postgres", State: container.StateRunning},
		},
		tags:     []string{"api:1", "api:2", "nginx:latest"},
		networks: []string{"backend", "bridge", "host"}, // sorted, as the inventory gives them
		volumes:  []string{"cache", "pgdata"},
	})
}

const pad = "00000000000000000000000000000000000000000000000000000000"

func texts(s []prompt.Suggest) []string {
	out := []string{}
	for _, x := range s {
		out = append(out, x.Text)
	}
	return out
}

func TestComplete(t *testing.T) {
	t.Setenv("DM_TEST_PREFIX", "nu")
	c := testCompleter(t)
	tests := []struct {
		name      string
		before    string
		want      []string
		wantStart int // -1: at the end of the line
	}{
		{name: "command prefix", before: "st", want: []string{"start", "stop"}, wantStart: 0},
		{name: "unknown command", before: "frob ", want: []string{}, wantStart: -1},
		{name: "stop offers running", before: "stop ", want: []string{"api", "nu-db-1", "web", "cccc33330000", "dddd44440000", "aaaa11110000"}, wantStart: -1},
		{name: "stop filters by prefix", before: "stop w", want: []string{"web"}, wantStart: 5},
		{name: "start offers stopped", before: "start ", want: []string{"db", "bbbb22220000"}, wantStart: -1},
		{name: "rm offers all", before: "rm a", want: []string{"api", "aaaa11110000"}, wantStart: 3},
		{name: "several args", before: "rm web d", want: []string{"db", "dddd44440000"}, wantStart: 7},
		{name: "id prefix", before: "stop cc", want: []string{"cccc33330000"}, wantStart: 5},
		{name: "logs takes one", before: "logs web ", want: []string{}, wantStart: -1},
		{name: "flag after flag value", before: "stop -t 5 a", want: []string{"api", "aaaa11110000"}, wantStart: 10},
		{name: "run images", before: "run ng", want: []string{"nginx", "nginx:latest"}, wantStart: 4},
		{name: "run image after flags", before: "run --name x -e A=1 -d a", want: []string{"api:1", "api:2"}, wantStart: 23},
		{name: "run command words not completed", before: "run nginx ", want: []string{}, wantStart: -1},
		{name: "long flags", before: "ps --f", want: []string{"--filter", "--format"}, wantStart: 3},
		{name: "short flags", before: "rm -", want: []string{"--force", "--help", "--volumes", "-f", "-v"}, wantStart: 3},
		{name: "hidden flags not offered", before: "stop --tim", want: []string{"--timeout"}, wantStart: 5},
		{name: "help commands", before: "help ima", want: []string{"images"}, wantStart: 5},

		// The parser's words: quotes, escapes, $VAR and `;`.
		{name: "after semicolon", before: "ps; sto", want: []string{"stop"}, wantStart: 4},
		{name: "after semicolon, no blank", before: "ps;sto", want: []string{"stop"}, wantStart: 3},
		{name: "right after semicolon", before: "ps;", want: texts(commandSuggestions()), wantStart: -1},
		{name: "semicolon in quotes is no separator", before: `run -e "A=1;B" acc`, want: []string{}, wantStart: 15},
		{name: "semicolon in quotes, image", before: `run -e "A=1;B" a`, want: []string{"api:1", "api:2"}, wantStart: 15},
		{name: "single-quoted word keeps its quote", before: `logs 'nu-d`, want: []string{`'nu-db-1'`}, wantStart: 5},
		{name: "double-quoted word keeps its quote", before: `stop "we`, want: []string{`"web"`}, wantStart: 5},
		{name: "closed quotes", before: `stop 'w'e`, want: []string{`'w'eb`}, wantStart: 5},
		{name: "escaped blank", before: `run -e A\ B a`, want: []string{"api:1", "api:2"}, wantStart: 12},
		{name: "variable", before: `logs $DM_TEST_PREFIX-d`, want: []string{`$DM_TEST_PREFIX-db-1`}, wantStart: 5},
		{name: "lone backslash dropped", before: `logs nu\`, want: []string{`nu-db-1`}, wantStart: 5},
		{name: "comment", before: "ps # sto", want: []string{}, wantStart: -1},
		{name: "pipe refused", before: "ps | sto", want: []string{}, wantStart: -1},
		{name: "redirection refused", before: "ps > sto", want: []string{}, wantStart: -1},
		{name: "command substitution refused", before: "stop $(ps", want: []string{}, wantStart: -1},

		// Flag values, from the command table's annotations.
		{name: "format values", before: "ps --format ", want: []string{"table", "json"}, wantStart: -1},
		{name: "format values inline", before: "ps --format=j", want: []string{"--format=json"}, wantStart: 3},
		{name: "images format", before: "images --format t", want: []string{"table"}, wantStart: 16},
		{name: "restart values", before: "run --restart u", want: []string{"unless-stopped"}, wantStart: 14},
		{name: "ps filter keys", before: "ps -f ", want: []string{"ancestor=", "before=", "expose=", "exited=", "health=", "id=", "is-task=", "label=", "name=", "network=", "publish=", "since=", "status=", "volume="}, wantStart: -1},
		{name: "ps filter key prefix", before: "ps -f st", want: []string{"status="}, wantStart: 6},
		{name: "ps status", before: "ps -f status=", want: []string{"status=created", "status=restarting", "status=running", "status=removing", "status=paused", "status=exited", "status=dead"}, wantStart: 6},
		{name: "ps status prefix", before: "ps -f status=r", want: []string{"status=restarting", "status=running", "status=removing"}, wantStart: 6},
		{name: "ps status quoted", before: "ps -f 'status=p", want: []string{"'status=paused'"}, wantStart: 6},
		{name: "ps name", before: "ps -a --filter name=", want: []string{"name=api", "name=db", "name=nu-db-1", "name=web"}, wantStart: 15},
		{name: "ps ancestor", before: "ps -f ancestor=ng", want: []string{"ancestor=nginx", "ancestor=nginx:latest"}, wantStart: 6},
		{name: "ps label keys", before: "ps -f label=", want: []string{"label=app", "label=tier"}, wantStart: 6},
		{name: "ps network", before: "ps -f network=b", want: []string{"network=backend", "network=bridge"}, wantStart: 6},
		{name: "ps key without values", before: "ps -f expose=", want: []string{}, wantStart: 6},
		{name: "run network", before: "run --network ", want: []string{"backend", "bridge", "host"}, wantStart: -1},
		{name: "run volume", before: "run -v ", want: []string{"cache:", "pgdata:"}, wantStart: -1},
		{name: "run volume prefix", before: "run -d -v p", want: []string{"pgdata:"}, wantStart: 10},
		{name: "run label keys", before: "run -l ", want: []string{"app=", "tier="}, wantStart: -1},
		{name: "stop signal", before: "stop -s SIGK", want: []string{"SIGKILL"}, wantStart: 8},
		{name: "logs tail", before: "logs --tail ", want: []string{"all"}, wantStart: -1},
		{name: "flag without values", before: "run --name ", want: []string{}, wantStart: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Complete(tt.before)
			if !reflect.DeepEqual(texts(got.Suggestions), tt.want) {
				t.Errorf("Complete(%q) = %q, want %q", tt.before, texts(got.Suggestions), tt.want)
			}
			wantStart := tt.wantStart
			if wantStart < 0 {
				wantStart = len(tt.before)
			}
			if got.Start != wantStart {
				t.Errorf("Complete(%q).Start = %d, want %d", tt.before, got.Start, wantStart)
			}
		})
	}
}

// TestCompleteAsExecuted checks that Tab and Enter read a line alike: the
// line with the word replaced by the first suggestion splits into the
// words the completion meant.
func TestCompleteAsExecuted(t *testing.T) {
	c := testCompleter(t)
	tests := []struct {
		before string
		want   []string // the last command once completed
	}{
		{`logs 'nu-d`, []string{"logs", "nu-db-1"}},
		{`stop "we`, []string{"stop", "web"}},
		{`ps -f 'status=p`, []string{"ps", "-f", "status=paused"}},
		{`run -e "A=1;B" a`, []string{"run", "-e", "A=1;B", "api:1"}},
		{`ps;sto`, []string{"stop"}},
		{`logs nu\`, []string{"logs", "nu-db-1"}},
		{`stop 'w'e`, []string{"stop", "web"}},
		{`run -v pg`, []string{"run", "-v", "pgdata:"}},
	}
	for _, tt := range tests {
		got := c.Complete(tt.before)
		if len(got.Suggestions) == 0 {
			t.Errorf("Complete(%q) offers nothing", tt.before)
			continue
		}
		line := tt.before[:got.Start] + got.Suggestions[0].Text
		cmds, err := Split(line)
		if err != nil {
			t.Errorf("%q completed to %q: %v", tt.before, line, err)
			continue
		}
		if last := cmds[len(cmds)-1]; !reflect.DeepEqual(last, tt.want) {
			t.Errorf("%q completed to %q, which runs %q, want %q", tt.before, line, last, tt.want)
		}
	}
}

func TestScanArgs(t *testing.T) {
	fs, _ := runCommand.flagSet()
	tests := []struct {
		words       []string
		wantPos     int
		wantPending string
	}{
		{nil, 0, ""},
		{[]string{"--name"}, 0, "name"},
		{[]string{"--name", "x"}, 0, ""},
		{[]string{"--name=x", "img"}, 1, ""},
		{[]string{"-d", "img"}, 1, ""},
		{[]string{"-e"}, 0, "env"},
		{[]string{"-dt", "img"}, 1, ""},
		{[]string{"-de"}, 0, "env"},
		{[]string{"-eA=1", "img"}, 1, ""},
		{[]string{"img", "sh", "-c"}, 3, ""},
		{[]string{"--", "img"}, 1, ""},
	}
	for _, tt := range tests {
		pos, pending := scanArgs(fs, true, tt.words)
		name := ""
		if pending != nil {
			name = pending.Name
		}
		if pos != tt.wantPos || name != tt.wantPending {
			t.Errorf("scanArgs(%q) = %d, %q; want %d, %q", tt.words, pos, name, tt.wantPos, tt.wantPending)
		}
	}
}

// Subcommands are completed as words of their own, then their arguments
// and flags as any command's.
func TestCompleteSubcommands(t *testing.T) {
	c := testCompleter(t)
	c.snapshotNames = func() []string { return []string{"api", "web"} }
	for _, tc := range []struct{ line, want string }{
		{"enforce ", "[on off plan status]"},
		{"enforce o", "[on off]"},
		{"snapshot ", "[ls take add rm]"},
		{"snapshot rm ", "[api web]"},
		{"snapshot rm w", "[web]"},
		{"snapshot add d", "[db dddd44440000]"},
		{"enforce on --d", "[--dry-run]"},
		{"enforce bogus ", "[]"},
	} {
		if got := fmt.Sprint(texts(c.Complete(tc.line).Suggestions)); got != tc.want {
			t.Errorf("%q: got %s, want %s", tc.line, got, tc.want)
		}
	}
}
