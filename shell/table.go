package shell

import (
	"bytes"
	"io"
	"regexp"
	"strings"

	"github.com/mattn/go-runewidth"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
)

// writeTable renders rows under header in docker's borderless style: columns
// left-aligned, separated by three spaces, headers as typed (not upper-cased
// or re-formatted by the library).
func writeTable(w io.Writer, header []string, rows [][]string) error {
	header = padHeader(header, rows)
	var buf bytes.Buffer
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders:  tw.BorderNone,
			Symbols:  tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{Separators: tw.SeparatorsNone, Lines: tw.LinesNone},
		})),
		tablewriter.WithConfig(tablewriter.Config{
			Header: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoFormat: tw.Off, AutoWrap: tw.WrapNone},
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: "   "}},
			},
			Row: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone},
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: "   "}},
			},
		}),
		tablewriter.WithTrimSpace(tw.Off),
	)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	// Drop the padding left after the last column, which docker does not print.
	var out bytes.Buffer
	for _, line := range bytes.SplitAfter(buf.Bytes(), []byte("\n")) {
		if trimmed := bytes.TrimRight(line, " \n"); len(trimmed) > 0 {
			out.Write(trimmed)
			out.WriteByte('\n')
		}
	}
	_, err := w.Write(out.Bytes())
	return err
}

// minColumn is docker's minimum column width without the padding: its
// tabwriter has a minimum cell width of 10 including 3 spaces of padding.
const minColumn = 7

// padHeader widens header cells so that every column but the last is at
// least minColumn wide, as in docker's tables.
func padHeader(header []string, rows [][]string) []string {
	out := append([]string(nil), header...)
	for col := 0; col < len(out)-1; col++ {
		width := displayWidth(out[col])
		for _, r := range rows {
			if col < len(r) {
				width = max(width, displayWidth(r[col]))
			}
		}
		if width < minColumn {
			out[col] += strings.Repeat(" ", minColumn-displayWidth(out[col]))
		}
	}
	return out
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// displayWidth is the number of terminal cells s takes, colour codes aside.
func displayWidth(s string) int {
	return runewidth.StringWidth(ansiEscape.ReplaceAllString(s, ""))
}
