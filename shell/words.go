package shell

import (
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// lineAtCursor is how execution would read a line typed up to the cursor:
// the words of the command the cursor is in, and the word being typed.
// Completion reads lines through the same parser as Split, so that quotes,
// escapes, $VAR and `;` mean the same when Tab is pressed as when Enter is.
type lineAtCursor struct {
	// words are the command's words before the one being typed, expanded
	// as Split expands them.
	words []string
	// current is the word being typed; empty when the cursor follows a
	// blank or a `;`.
	current typedWord
}

// typedWord is the word the cursor is in, as typed so far.
type typedWord struct {
	start int    // byte offset in the line where the word begins
	raw   string // the line from start on, without a lone backslash at its end
	value string // what Split would make of the word closed here
	quote byte   // the quote left open at the cursor: '\'', '"' or 0
}

// recoverMax bounds how many missing tokens the parser may make up to read
// a half-typed line: an open quote, a $( or ${ left open, an operator with
// nothing after it. Enough for what a person leaves open while typing.
const recoverMax = 8

// readAtCursor reads line as typed up to the cursor. It reports false
// where Tab has nothing to offer: in a comment, in a part of the language
// that execution refuses (pipes, redirections, assignments...), or on a
// line the parser cannot read even leniently.
func readAtCursor(line string) (lineAtCursor, bool) {
	f, err := newParser(syntax.KeepComments(true), syntax.RecoverErrors(recoverMax)).Parse(strings.NewReader(line), "")
	if err != nil {
		return lineAtCursor{}, false
	}
	end := len(line)
	if endsInComment(f, end) {
		return lineAtCursor{}, false
	}
	cfg := expandConfig() // once per call: it copies the environment
	at := lineAtCursor{current: typedWord{start: end}}
	if len(f.Stmts) == 0 {
		return at, true
	}
	st := f.Stmts[len(f.Stmts)-1]
	if st.Semicolon.IsValid() {
		return at, true // `;` ended the last command: the cursor begins a new one
	}
	call, err := simpleCall(st)
	if err != nil || call == nil {
		return lineAtCursor{}, false
	}
	args := call.Args
	if n := len(args); n > 0 {
		// The last word is the one being typed unless a blank follows it;
		// an open quote makes it run to the end (its end is made up).
		last := args[n-1]
		if last.End().IsRecovered() || int(last.End().Offset()) == end {
			w, ok := readTyped(cfg, line, int(last.Pos().Offset()))
			if !ok {
				return lineAtCursor{}, false
			}
			at.current, args = w, args[:n-1]
		}
	}
	words, err := expand.Fields(cfg, args...)
	if err != nil {
		return lineAtCursor{}, false
	}
	at.words = words
	return at, true
}

// endsInComment reports whether a comment runs to the end of the line.
func endsInComment(f *syntax.File, end int) bool {
	in := false
	syntax.Walk(f, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.Comment); ok && int(c.End().Offset()) >= end {
			in = true
		}
		return !in
	})
	for _, c := range f.Last {
		if int(c.End().Offset()) >= end {
			in = true
		}
	}
	return in
}

// readTyped reads the word that begins at start and runs to the end of
// line. The recovering parser keeps the shape of a word with an open quote
// but not its text, so the word is read again closed: as it is, with a
// single quote, then with a double quote added; the first that parses is
// the word, and tells which quote is open. A lone backslash at the end (an
// escape not finished, or a backslash in single quotes) is left out.
func readTyped(cfg *expand.Config, line string, start int) (typedWord, bool) {
	// A lone backslash at the end: closed as it is, the escape would
	// swallow the closing quote. (The same rule continues a line.)
	raw, _ := continued(line[start:])
	for _, q := range []string{"", "'", `"`} {
		if v, ok := wordValue(cfg, raw+q); ok {
			w := typedWord{start: start, raw: raw, value: v}
			if q != "" {
				w.quote = q[0]
			}
			return w, true
		}
	}
	return typedWord{}, false
}

// wordValue parses s as exactly one argument word (after a command name,
// where `key=value` is a word, not an assignment) and expands it as Split
// would.
func wordValue(cfg *expand.Config, s string) (string, bool) {
	const cmd = ": "
	f, err := newParser().Parse(strings.NewReader(cmd+s), "")
	if err != nil || len(f.Stmts) != 1 {
		return "", false
	}
	call, err := simpleCall(f.Stmts[0])
	if err != nil || call == nil || len(call.Args) != 2 ||
		int(call.Args[1].Pos().Offset()) != len(cmd) || int(call.Args[1].End().Offset()) != len(cmd)+len(s) {
		return "", false
	}
	fields, err := expand.Fields(cfg, call.Args[1])
	if err != nil {
		return "", false
	}
	return strings.Join(fields, " "), true
}

// completeWith returns the text that replaces the typed word so that it
// becomes candidate, which begins with the word's value: what was typed,
// then the rest of candidate quoted the way the typing left off, then the
// quote that is still open, closed. So `logs 'nu-d` becomes `logs 'nu-db'`:
// the text keeps the quote the person typed and replaces all of it.
func (w typedWord) completeWith(candidate string) string {
	rest := candidate[len(w.value):]
	switch w.quote {
	case '\'':
		return w.raw + strings.ReplaceAll(rest, "'", `'\''`) + "'"
	case '"':
		var b strings.Builder
		for _, r := range rest {
			if strings.ContainsRune("\"\\$`", r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		return w.raw + b.String() + `"`
	}
	var b strings.Builder
	for _, r := range rest {
		if !plainRune(r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return w.raw + b.String()
}

// plainRune reports whether r means itself anywhere in an unquoted word.
func plainRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r >= 0x80:
		return true
	}
	return strings.ContainsRune("-_./:=@%+,^", r)
}
