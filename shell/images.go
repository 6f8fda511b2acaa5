package shell

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/dockman/dockman/manager"
)

var imagesCommand = &Command{
	Name:    "images",
	Usage:   "images [OPTIONS] [REPOSITORY[:TAG]]",
	Summary: "List images",
	MaxArgs: 1,
	Setup: func(fs *pflag.FlagSet) RunFunc {
		var o imagesOptions
		fs.BoolVarP(&o.all, "all", "a", false, "Show all images (default hides intermediate images)")
		fs.BoolVarP(&o.quiet, "quiet", "q", false, "Only show image IDs")
		fs.BoolVar(&o.noTrunc, "no-trunc", false, "Don't truncate output")
		fs.BoolVar(&o.digests, "digests", false, "Show digests")
		fs.StringArrayVarP(&o.filters, "filter", "f", nil, "Filter output based on conditions provided ("+strings.Join(imageFilterKeys, ", ")+")")
		offer(fs, "filter", imageFilterValues...)
		fs.StringVar(&o.format, "format", "", "Format output: table, table TEMPLATE, json, or a Go template (see 'Formats' in docs/commands.md)")
		offer(fs, "format", formatValues...)
		return func(ctx context.Context, s *Shell, args []string) error {
			return runImages(ctx, s, o, args)
		}
	},
}

// imageFilterKeys are the filters the engine understands for images.
var imageFilterKeys = []string{"before", "dangling", "label", "reference", "since"}

// imagesOptions are the flags of images, as typed.
type imagesOptions struct {
	all, quiet, noTrunc, digests bool
	filters                      []string
	format                       string
}

// Docker's default images tables.
const (
	imagesTable           = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
	imagesTableWithDigest = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
)

// runImages lists images as docker images does; the engine applies the
// filters (and the REPOSITORY[:TAG] argument, a reference filter) and
// reports bad ones in its own words.
func runImages(ctx context.Context, s *Shell, o imagesOptions, args []string) error {
	f, err := parseFilters(o.filters, imageFilterKeys)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		f["reference"] = append(f["reference"], args[0])
	}
	list, err := s.eng.ListImages(ctx, manager.ImageListOptions{All: o.all, Filters: f})
	if err != nil {
		return err
	}
	format := imagesFormat(o.format, o.quiet, o.digests)
	lf, err := parseListFormat(format)
	if err != nil {
		return templateError("template parsing error", err)
	}
	wantDigests := o.digests || strings.Contains(format, "{{.Digest}}")
	lines := imageLines(list, !o.noTrunc, wantDigests, o.digests, time.Now())
	rows := make([]any, len(lines))
	for i, l := range lines {
		rows[i] = l
	}
	if err := lf.render(s.out, imageHeader, rows); err != nil {
		return templateError("template parsing error", err)
	}
	return nil
}

// imagesFormat is the template images renders, chosen as docker chooses
// it: -q lists IDs only with the default table (a custom format wins over
// it), and --digests adds a DIGEST column to the default table and to a
// custom table that has none.
func imagesFormat(format string, quiet, digests bool) string {
	switch format {
	case "", formatTable:
		switch {
		case quiet:
			return "{{.ID}}"
		case digests:
			return imagesTableWithDigest
		}
		return imagesTable
	}
	if strings.HasPrefix(format, formatTable) && digests && !strings.Contains(format, "{{.Digest}}") {
		format += `\t{{.Digest}}`
	}
	return format
}
