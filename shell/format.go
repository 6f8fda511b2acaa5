package shell

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/template"
)

// This file is --format: Go templates with the docker CLI's functions and
// its two special forms, "table TEMPLATE" and "json", so that a format
// written for docker gives the same output here. The row types that
// templates are executed on (containerContext, imageContext) have one
// method per field, as docker/cli's formatter does; json output is made of
// the same methods.

// templateFuncs are the functions docker offers in every template, with
// the same names and behaviour (docker/cli's templates package, 28.x).
// Go's builtins (println, printf, index, len, eq, ...) come on top.
var templateFuncs = template.FuncMap{
	"json":  templateJSON,
	"split": strings.Split,
	"join":  strings.Join,
	//lint:ignore SA1019 docker's title is strings.Title, word rules and all
	"title":    strings.Title,
	"lower":    strings.ToLower,
	"upper":    strings.ToUpper,
	"pad":      padWithSpace,
	"truncate": truncateWithLength,
}

// headerFuncs replace templateFuncs when a table's header is rendered:
// the header cells are the column names, which these leave intact
// ({{upper .Names}} still heads its column NAMES). pad is not replaced,
// so padded columns stay aligned with their header.
var headerFuncs = template.FuncMap{
	"json":     func(v string) string { return v },
	"split":    func(v string, _ string) string { return v },
	"join":     func(v string, _ string) string { return v },
	"title":    func(v string) string { return v },
	"lower":    func(v string) string { return v },
	"upper":    func(v string) string { return v },
	"truncate": func(v string, _ int) string { return v },
}

// templateJSON is docker's json function: compact, no HTML escaping added,
// no trailing newline. A value that cannot be encoded fails the template.
func templateJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSpace(buf.String()), nil
}

// padWithSpace surrounds a non-empty source with spaces.
func padWithSpace(source string, prefix, suffix int) string {
	if source == "" {
		return source
	}
	return strings.Repeat(" ", prefix) + source + strings.Repeat(" ", suffix)
}

// truncateWithLength cuts source to length bytes, as docker does (bytes,
// not characters).
func truncateWithLength(source string, length int) string {
	if len(source) < length {
		return source
	}
	return source[:length]
}

// parseTemplate parses text with docker's functions, unnamed as docker's
// are, so that error messages read alike ("template: :1: ...").
func parseTemplate(text string) (*template.Template, error) {
	return template.New("").Funcs(templateFuncs).Parse(text)
}

// The special values of --format for the listing commands.
const (
	formatTable = "table"
	formatJSON  = "json"
)

// listFormat is a parsed --format of a listing command (ps, images).
type listFormat struct {
	table bool               // "table ...": a header line, cells aligned
	rows  *template.Template // run on each row
	head  *template.Template // the same text with headerFuncs, run on the column names
}

// parseListFormat reads a custom format the way docker's formatter does:
// "json" is one JSON object per row; "table ..." renders the rest as an
// aligned table; spaces around the template are dropped, and the two
// characters \t and \n typed in it stand for a tab and a newline (shells
// keep them as typed inside quotes).
func parseListFormat(format string) (*listFormat, error) {
	f := &listFormat{}
	text := format
	switch {
	case strings.HasPrefix(format, formatTable):
		f.table = true
		text = format[len(formatTable):]
	case format == formatJSON:
		text = "{{json .}}"
	}
	text = strings.Trim(text, " ")
	text = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(text)
	rows, err := parseTemplate(text)
	if err != nil {
		return nil, err
	}
	f.rows = rows
	if f.table {
		head, err := rows.Clone()
		if err != nil {
			return nil, err
		}
		f.head = head.Funcs(headerFuncs)
	}
	return f, nil
}

// execError is a template that parsed but failed on a row.
type execError struct{ err error }

func (e *execError) Error() string { return e.err.Error() }
func (e *execError) Unwrap() error { return e.err }

// render executes the format on every row and writes the result to w:
// one line per row, or a table whose header is the format executed on
// header (the column names) through writeTable, each line's cells split at
// tabs. Nothing is written when a row fails (an *execError), as in docker.
func (f *listFormat) render(w io.Writer, header headerContext, rows []any) error {
	var buf bytes.Buffer
	for _, r := range rows {
		if err := f.rows.Execute(&buf, r); err != nil {
			return &execError{err: err}
		}
		buf.WriteByte('\n')
	}
	if !f.table {
		_, err := w.Write(buf.Bytes())
		return err
	}
	var head bytes.Buffer
	// docker ignores a header that fails to render, keeping what it wrote
	// up to the failure: so does this.
	_ = f.head.Execute(&head, header)
	head.WriteByte('\n')
	head.Write(buf.Bytes())
	return writeCells(w, head.String())
}

// writeCells renders text, lines of tab-separated cells whose first line
// is the header, as one of our tables.
func writeCells(w io.Writer, text string) error {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	width := 0
	cells := make([][]string, len(lines))
	for i, l := range lines {
		cells[i] = strings.Split(l, "\t")
		width = max(width, len(cells[i]))
	}
	for i := range cells {
		for len(cells[i]) < width {
			cells[i] = append(cells[i], "")
		}
	}
	return writeTable(w, cells[0], cells[1:])
}

// headerContext names the columns of a table: a template's {{.Names}}
// heads its column with header["Names"] ("NAMES"); a field with no name
// renders as docker's do, "<no value>".
type headerContext map[string]string

// Label heads a {{.Label "com.example.key"}} column with the key's last
// dot-separated part, dashes and underscores turned into spaces, as
// docker does.
func (headerContext) Label(name string) string {
	parts := strings.Split(name, ".")
	return strings.NewReplacer("-", " ", "_", " ").Replace(parts[len(parts)-1])
}

// templateError words a --format failure as the docker CLI does for the
// command: prefix is docker's ("failed to parse template", "template
// parsing error"), err the template package's own message.
func templateError(prefix string, err error) error {
	return fmt.Errorf("%s: %w", prefix, err)
}
