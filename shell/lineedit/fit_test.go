package lineedit

import (
	"reflect"
	"testing"

	prompt "github.com/c-bata/go-prompt"
)

func TestFit(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		start int
		texts []string
		want  []string
	}{
		{name: "word after a blank", line: "stop we", start: 5, texts: []string{"web"}, want: []string{"web"}},
		{name: "quoted word", line: "logs 'nu-d", start: 5, texts: []string{"'nu-db-1'"}, want: []string{"'nu-db-1'"}},
		{name: "word after a semicolon", line: "ps;sto", start: 3, texts: []string{"stop"}, want: []string{"ps;stop"}},
		{name: "new word after a semicolon", line: "ps;", start: 3, texts: []string{"ps"}, want: []string{"ps;ps"}},
		{name: "blank inside quotes", line: `stop "my co`, start: 5, texts: []string{`"my container"`, `"other"`}, want: []string{`container"`}},
		{name: "escaped blank", line: `stop my\ co`, start: 5, texts: []string{`my\ container`}, want: []string{`container`}},
		{name: "nothing typed", line: "stop ", start: 5, texts: []string{"web"}, want: []string{"web"}},
		{name: "start out of range", line: "stop", start: 9, texts: []string{"web"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []prompt.Suggest
			for _, s := range tt.texts {
				in = append(in, prompt.Suggest{Text: s})
			}
			got := fit(tt.line, tt.start, in, wordBeforeCursor(tt.line))
			var texts []string
			for _, s := range got {
				texts = append(texts, s.Text)
			}
			if !reflect.DeepEqual(texts, tt.want) {
				t.Errorf("fit(%q, %d, %q) = %q, want %q", tt.line, tt.start, tt.texts, texts, tt.want)
			}
		})
	}
}

// wordBeforeCursor is what go-prompt replaces on Tab with the cursor at the
// end of line.
func wordBeforeCursor(line string) string {
	b := prompt.NewBuffer()
	b.InsertText(line, false, true)
	return b.Document().GetWordBeforeCursorUntilSeparator("")
}
