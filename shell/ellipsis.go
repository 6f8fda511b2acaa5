package shell

import (
	"unicode/utf8"

	"golang.org/x/text/width"
)

// charWidth is the number of terminal columns a character takes as docker
// counts them: two for East Asian wide and fullwidth characters, one for
// every other.
func charWidth(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// ellipsis cuts s to fit in maxWidth terminal columns, ending in "…" when
// cut, as docker/cli's formatter.Ellipsis does: the COMMAND column is 20
// columns wide, not 20 characters, so a command in CJK characters is cut
// at 9 of them plus the ellipsis.
func ellipsis(s string, maxWidth int) string {
	if maxWidth <= 0 || s == "" {
		return ""
	}
	rs := []rune(s)
	if maxWidth == 1 {
		return string(rs[0])
	}
	if len(s) == utf8.RuneCountInString(s) { // ASCII: a column per byte
		if len(s) <= maxWidth {
			return s
		}
		return s[:maxWidth-1] + "…"
	}
	total := 0
	for _, r := range rs {
		total += charWidth(r)
	}
	if total <= maxWidth {
		return s
	}
	// Keep the longest head that leaves a column for the ellipsis.
	used := 0
	for i, r := range rs {
		if used+charWidth(r) > maxWidth-1 {
			return string(rs[:i]) + "…"
		}
		used += charWidth(r)
	}
	return s
}
