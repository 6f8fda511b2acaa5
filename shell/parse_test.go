package shell

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplit(t *testing.T) {
	t.Setenv("DM_TEST_VAR", "value with spaces")
	tests := []struct {
		name    string
		line    string
		want    [][]string
		wantErr string
	}{
		{name: "empty", line: "", want: nil},
		{name: "blank", line: "   \t ", want: nil},
		{name: "one word", line: "ps", want: [][]string{{"ps"}}},
		{name: "flags", line: "ps -a  -q", want: [][]string{{"ps", "-a", "-q"}}},
		{name: "semicolons", line: "ps -a; stop web ;start db", want: [][]string{{"ps", "-a"}, {"stop", "web"}, {"start", "db"}}},
		{name: "single quotes", line: `run -e 'A=b c' img`, want: [][]string{{"run", "-e", "A=b c", "img"}}},
		{name: "double quotes and escapes", line: `run img sh -c "echo \"hi\""`, want: [][]string{{"run", "img", "sh", "-c", `echo "hi"`}}},
		{name: "backslash space", line: `rm my\ container`, want: [][]string{{"rm", "my container"}}},
		{name: "quoted semicolon", line: `run img sh -c 'a; b'`, want: [][]string{{"run", "img", "sh", "-c", "a; b"}}},
		{name: "comment", line: "ps # all of them", want: [][]string{{"ps"}}},
		{name: "env quoted", line: `run -e "X=$DM_TEST_VAR" img`, want: [][]string{{"run", "-e", "X=value with spaces", "img"}}},
		{name: "empty quoted word kept", line: `run --entrypoint "" img`, want: [][]string{{"run", "--entrypoint", "", "img"}}},
		{name: "glob not expanded", line: "ps -f name=web*", want: [][]string{{"ps", "-f", "name=web*"}}},
		{name: "unbalanced single", line: "ps 'x", wantErr: "without closing quote"},
		{name: "unbalanced double", line: `ps "x`, wantErr: "without closing quote"},
		{name: "pipe", line: "ps | grep x", wantErr: "only simple commands"},
		{name: "and", line: "ps && images", wantErr: "only simple commands"},
		{name: "redirect", line: "ps > out", wantErr: "redirections"},
		{name: "background", line: "ps &", wantErr: "'&'"},
		{name: "assignment", line: "A=1 ps", wantErr: "assignments"},
		{name: "command substitution", line: "rm $(ps -q)", wantErr: "command substitution"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Split(tt.line)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Split(%q) error = %v, want it to contain %q", tt.line, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Split(%q): %v", tt.line, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Split(%q) = %q, want %q", tt.line, got, tt.want)
			}
		})
	}
}

// FuzzComplete checks that no typed line can crash the shell, and that
// completion reads lines as execution does: Split returns (possibly an
// error) for any input; Complete is called on every prefix of the line, as
// it is typed, and so mostly on half-typed lines Split refuses; and where
// it offers something, the word it replaces begins within the line and
// taking a suggestion leaves a line that parses. Run it long with
// `make fuzz`.
func FuzzComplete(f *testing.F) {
	for _, seed := range []string{
		"", "ps", "ps -a; stop web", `run -e 'A=b c' img sh -c "echo \"hi\""`,
		"ps 'x", `ps "x`, "ps | grep", "ps && ls", "a=b ps", "ps > x", "rm $(ps -q)",
		"echo ${x", "for i in 1; do ps; done", "ps &", "ps # c", `rm a\ b`, "run --entrypoint '' img",
		"ps -f name=web*", "stop -t 5 web db", "((1+2))", "[[ -n x ]]", "f() { ps; }", "ps\nimages",
		"$'\\x00'", "${x:-y}", "~", "ps;;", "\\", "\"\\", "run -p [::1]:80:80 img",
		`run -e "A=1;B" acc`, `logs 'nu-db`, "ps -f status=r", "run -v pg", "ps --format=j", "stop \"a b\" 'c",
	} {
		f.Add(seed)
	}
	completer := testCompleter(f)
	f.Fuzz(func(t *testing.T, line string) {
		cmds, err := Split(line)
		if err != nil && err.Error() == "" {
			t.Fatalf("Split(%q): empty error message", line)
		}
		for _, words := range cmds {
			if len(words) == 0 {
				t.Fatalf("Split(%q) returned an empty command", line)
			}
		}
		// A typed line is short; completing every prefix of a long one
		// would spend the run on one input.
		typed := line[:min(len(line), 256)]
		for i := 0; i <= len(typed); i++ {
			before := typed[:i]
			got := completer.Complete(before)
			if got.Start < 0 || got.Start > i {
				t.Fatalf("Complete(%q).Start = %d, outside the line", before, got.Start)
			}
			// Where the line up to the word parses, taking a suggestion
			// must leave a line that parses: the text holds the word
			// whole, its quotes closed.
			if len(got.Suggestions) == 0 {
				continue
			}
			if _, err := Split(before[:got.Start]); err != nil {
				continue
			}
			for _, s := range got.Suggestions {
				if _, err := Split(before[:got.Start] + s.Text); err != nil {
					t.Fatalf("Complete(%q) offers %q, and the line it makes does not parse: %v", before, s.Text, err)
				}
			}
		}
	})
}
