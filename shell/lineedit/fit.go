package lineedit

import (
	"strings"

	prompt "github.com/c-bata/go-prompt"
)

// fit turns suggestions that replace line[start:] into what go-prompt
// needs. go-prompt does not ask where the word being completed begins: on
// Tab it replaces the text back to the last blank (its default word
// separator), and shows the suggestion over that much of the line. The
// shell's word can begin after that blank (`ps;sto`: the word is `sto`) or
// before it (`stop "my co`, `stop my\ co`: the blank is inside the word).
// So each text is cut or lengthened to start where go-prompt will cut,
// and go-prompt's replacement then leaves the line as the shell meant it;
// wordBefore is the text go-prompt will replace
// (Document.GetWordBeforeCursorUntilSeparator with no separator).
//
// A suggestion whose text does not begin with what was typed of its word
// up to go-prompt's cut cannot be expressed that way and is left out; the
// shell's suggestions always do (they hold the word as typed).
func fit(line string, start int, in []prompt.Suggest, wordBefore string) []prompt.Suggest {
	cut := len(line) - len(wordBefore)
	if start < 0 || start > len(line) || cut < 0 {
		return nil
	}
	out := make([]prompt.Suggest, 0, len(in))
	for _, s := range in {
		switch {
		case start == cut:
		case start < cut:
			typed := line[start:cut]
			if !strings.HasPrefix(s.Text, typed) {
				continue
			}
			s.Text = s.Text[len(typed):]
		default:
			s.Text = line[cut:start] + s.Text
		}
		out = append(out, s)
	}
	return out
}
