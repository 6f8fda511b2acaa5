package shell

import (
	"bytes"
	"fmt"
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
// or re-formatted by the library). As in docker's tabwriter, the last
// column is not a column: each line's last cell follows the others as it
// is, so a line whose last cell is empty keeps the padding before it and
// one whose last cell ends in spaces keeps them.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	last := len(header) - 1
	if last < 0 {
		return nil
	}
	lastCells := make([]string, 0, len(rows)+1)
	lastCells = append(lastCells, header[last])
	// The aligned part, with an empty column in place of the last one: its
	// padding is all it adds to each line, and is cut below.
	head := append(append([]string(nil), header[:last]...), "")
	body := make([][]string, len(rows))
	for i, r := range rows {
		cell := ""
		if last < len(r) {
			cell = r[last]
		}
		lastCells = append(lastCells, cell)
		body[i] = make([]string, last+1) // short rows end in empty cells
		copy(body[i], r[:min(last, len(r))])
	}
	var aligned []string
	if last > 0 {
		var err error
		if aligned, err = alignColumns(padHeader(head, body), body); err != nil {
			return err
		}
	} else {
		aligned = make([]string, len(lastCells))
	}
	if len(aligned) != len(lastCells) {
		return fmt.Errorf("table: %d lines rendered for %d", len(aligned), len(lastCells))
	}
	var out bytes.Buffer
	for i, prefix := range aligned {
		out.WriteString(prefix)
		out.WriteString(lastCells[i])
		out.WriteByte('\n')
	}
	_, err := w.Write(out.Bytes())
	return err
}

// cellGap is the padding after each aligned cell, as docker's tabwriter
// puts between columns.
const cellGap = "   "

// alignColumns renders the header and rows through tablewriter and returns
// each line up to where the (empty) last column starts.
func alignColumns(header []string, rows [][]string) ([]string, error) {
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
				Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: cellGap}},
			},
			Row: tw.CellConfig{
				Formatting: tw.CellFormatting{AutoWrap: tw.WrapNone},
				Alignment:  tw.CellAlignment{Global: tw.AlignLeft},
				Padding:    tw.CellPadding{Global: tw.Padding{Left: "", Right: cellGap}},
			},
		}),
		tablewriter.WithTrimSpace(tw.Off),
	)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return nil, err
	}
	if err := t.Render(); err != nil {
		return nil, err
	}
	text := strings.TrimSuffix(buf.String(), "\n")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, cellGap) // the empty column's padding
	}
	return lines, nil
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
