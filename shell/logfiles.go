package shell

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/docker/go-units"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/logtail"
	"github.com/dockman/dockman/manager"
)

var logfilesCommand = &Command{
	Name:    "logfiles",
	Usage:   "logfiles [OPTIONS]",
	Summary: "List the log files kept for each container",
	Setup: func(fs *pflag.FlagSet) RunFunc {
		var o logfilesOptions
		fs.BoolVarP(&o.quiet, "quiet", "q", false, "Only show the files' paths")
		fs.StringVar(&o.format, "format", "", "Format output: table, table TEMPLATE, json, or a Go template (see 'Formats' in docs/commands.md)")
		offer(fs, "format", formatValues...)
		return func(_ context.Context, s *Shell, _ []string) error {
			return runLogfiles(s, o, time.Now())
		}
	},
}

// logfilesOptions are the flags of logfiles, as typed.
type logfilesOptions struct {
	quiet  bool
	format string
}

// logfilesTable is the default table.
const logfilesTable = "table {{.Name}}\t{{.ID}}\t{{.Size}}\t{{.LastLine}}\t{{.Behind}}\t{{.State}}\t{{.File}}"

// errNoLogDir is what the log commands say when no log keeper runs.
var errNoLogDir = errors.New("no log directory (started with --no-logs?)")

// listLogFiles returns the status of every container's log file, or
// errNoLogDir when the shell was given no way to know them.
func (s *Shell) listLogFiles() ([]logtail.FileStatus, error) {
	if s.logFiles == nil {
		return nil, errNoLogDir
	}
	return s.logFiles()
}

// runLogfiles lists the log files sorted by container name (then ID: a
// removed container's file beside the live one of the same name); now is
// what LAST LINE counts from.
func runLogfiles(s *Shell, o logfilesOptions, now time.Time) error {
	files, err := s.listLogFiles()
	if err != nil {
		return err
	}
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b logtail.FileStatus) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	format := o.format
	switch {
	case (format == "" || format == formatTable) && o.quiet:
		format = "{{.File}}"
	case format == "" || format == formatTable:
		format = logfilesTable
	}
	lf, err := parseListFormat(format)
	if err != nil {
		return templateError("template parsing error", err)
	}
	rows := make([]any, len(files))
	for i, f := range files {
		rows[i] = &logFileContext{f: f, now: now}
	}
	if err := lf.render(s.out, logFileHeader, rows); err != nil {
		return templateError("template parsing error", err)
	}
	return nil
}

// logFileContext is one log file as logfiles templates see it: one method
// per field, as for ps and images.
type logFileContext struct {
	f   logtail.FileStatus
	now time.Time // for LastLine
}

// logFileHeader names the columns of a logfiles table.
var logFileHeader = headerContext{
	"Name":     "CONTAINER",
	"ID":       "CONTAINER ID",
	"Size":     "SIZE",
	"Rotated":  "ROTATED",
	"LastLine": "LAST LINE",
	"Behind":   "BEHIND",
	"State":    "STATE",
	"File":     "FILE",
}

// MarshalJSON is one line of logfiles --format json: every field.
func (c *logFileContext) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"Behind":   c.Behind(),
		"File":     c.File(),
		"ID":       c.ID(),
		"LastLine": c.LastLine(),
		"Name":     c.Name(),
		"Rotated":  c.Rotated(),
		"Size":     c.Size(),
		"State":    c.State(),
	})
}

// Name is the container's name, as in the file's name.
func (c *logFileContext) Name() string { return c.f.Name }

// ID is the container's ID, 12 characters.
func (c *logFileContext) ID() string { return manager.ShortID(c.f.ID) }

// Size is the size of the current file (rotated ones not counted), to 3
// significant digits as docker prints sizes: "1.23kB".
func (c *logFileContext) Size() string { return units.HumanSizeWithPrecision(float64(c.f.Size), 3) }

// Rotated counts the rotated files kept beside the current one.
func (c *logFileContext) Rotated() string { return strconv.Itoa(c.f.Rotated) }

// LastLine is how long ago the engine stamped the newest line written:
// "3 seconds ago", "-" when none is.
func (c *logFileContext) LastLine() string {
	if c.f.Last.IsZero() {
		return "-"
	}
	return units.HumanDuration(c.now.Sub(c.f.Last)) + " ago"
}

// Behind is how long the newest line took from the engine's stamp to the
// file, rounded to what can be read at a glance ("12ms", "1.5s"); "-"
// when unknown.
func (c *logFileContext) Behind() string {
	if c.f.Last.IsZero() || c.f.Behind == 0 {
		return "-"
	}
	return roundDuration(c.f.Behind).String()
}

// roundDuration keeps the figures of d worth reading: 350µs, 1.5ms,
// 12ms, 2.3s, 42s, 2m3s.
func roundDuration(d time.Duration) time.Duration {
	switch abs := max(d, -d); {
	case abs < time.Millisecond:
		return d.Round(time.Microsecond)
	case abs < 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case abs < time.Second:
		return d.Round(time.Millisecond)
	case abs < 10*time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}

// State is what the keeper does with the file, and why for a failure:
// "following", "failing: disk full".
func (c *logFileContext) State() string {
	if c.f.Reason != "" {
		return string(c.f.State) + ": " + c.f.Reason
	}
	return string(c.f.State)
}

// File is the path of the current file.
func (c *logFileContext) File() string { return c.f.Path }
