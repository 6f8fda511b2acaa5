package shell

import (
	"reflect"
	"testing"

	prompt "github.com/c-bata/go-prompt"
	"github.com/moby/moby/api/types/container"
)

// fakeSource is a CompletionSource made of fixed answers.
type fakeSource struct {
	containers []container.Summary
	tags       []string
}

var _ CompletionSource = (*fakeSource)(nil)

func (f *fakeSource) KnownContainers() []container.Summary { return f.containers }

func (f *fakeSource) ImageTags() []string { return f.tags }

// testCompleter is a completer over what an inventory would hold: web and
// api running, db exited, and three image tags.
func testCompleter(testing.TB) *Completer {
	return NewCompleter(&fakeSource{
		containers: []container.Summary{
			{ID: "aaaa1111" + pad, Names: []string{"/web"}, Image: "nginx", State: container.StateRunning},
			{ID: "bbbb2222" + pad, Names: []string{"/db"}, Image: "postgres", State: container.StateExited},
			{ID: "cccc3333" + pad, Names: []string{"/api"}, Image: "api:1", State: container.StateRunning},
		},
		tags: []string{"api:1", "api:2", "nginx:latest"},
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
	c := testCompleter(t)
	tests := []struct {
		name   string
		before string
		want   []string
	}{
		{name: "command prefix", before: "st", want: []string{"start", "stop"}},
		{name: "unknown command", before: "frob ", want: []string{}},
		{name: "stop offers running", before: "stop ", want: []string{"api", "web", "cccc33330000", "aaaa11110000"}},
		{name: "stop filters by prefix", before: "stop w", want: []string{"web"}},
		{name: "start offers stopped", before: "start ", want: []string{"db", "bbbb22220000"}},
		{name: "rm offers all", before: "rm ", want: []string{"api", "db", "web", "cccc33330000", "bbbb22220000", "aaaa11110000"}},
		{name: "several args", before: "rm web d", want: []string{"db"}},
		{name: "id prefix", before: "stop cc", want: []string{"cccc33330000"}},
		{name: "logs takes one", before: "logs web ", want: []string{}},
		{name: "flag after flag value", before: "stop -t 5 a", want: []string{"api", "aaaa11110000"}},
		{name: "run images", before: "run ng", want: []string{"nginx", "nginx:latest"}},
		{name: "run image after flags", before: "run --name x -e A=1 -d a", want: []string{"api:1", "api:2"}},
		{name: "run command words not completed", before: "run nginx ", want: []string{}},
		{name: "long flags", before: "ps --f", want: []string{"--filter", "--format"}},
		{name: "short flags", before: "rm -", want: []string{"--force", "--help", "--volumes", "-f", "-v"}},
		{name: "format values", before: "ps --format ", want: []string{"table", "json"}},
		{name: "format values inline", before: "ps --format=j", want: []string{"--format=json"}},
		{name: "restart values", before: "run --restart u", want: []string{"unless-stopped"}},
		{name: "ps filter keys", before: "ps -f st", want: []string{"status="}},
		{name: "help commands", before: "help ima", want: []string{"images"}},
		{name: "after semicolon", before: "ps; sto", want: []string{"stop"}},
		{name: "quoted", before: `stop "we`, want: []string{"web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := texts(c.Complete(tt.before))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Complete(%q) = %q, want %q", tt.before, got, tt.want)
			}
		})
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
