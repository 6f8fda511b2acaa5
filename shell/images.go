package shell

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/image"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/manager"
)

var imagesCommand = &Command{
	Name:    "images",
	Usage:   "images [OPTIONS]",
	Summary: "List images",
	Setup: func(fs *pflag.FlagSet) RunFunc {
		all := fs.BoolP("all", "a", false, "Show all images (default hides intermediate images)")
		quiet := fs.BoolP("quiet", "q", false, "Only show image IDs")
		format := fs.String("format", "table", "Output format: table or json")
		offer(fs, "format", formatValues...)
		return func(ctx context.Context, s *Shell, args []string) error {
			if err := checkFormat(*format); err != nil {
				return fmt.Errorf("images: %w", err)
			}
			list, err := s.eng.Images(ctx, *all)
			if err != nil {
				return err
			}
			return renderImages(s, imageRows(list, time.Now()), *quiet, *format)
		}
	},
}

// imageRow is one line of `images`: an image appears once per tag, as in
// docker, and once as <none>:<none> when untagged.
type imageRow struct {
	repo, tag string
	img       image.Summary
	now       time.Time
}

func imageRows(list []image.Summary, now time.Time) []imageRow {
	var rows []imageRow
	for _, img := range list {
		if len(img.RepoTags) == 0 {
			repo := "<none>"
			if len(img.RepoDigests) > 0 {
				repo, _, _ = strings.Cut(img.RepoDigests[0], "@")
			}
			rows = append(rows, imageRow{repo: repo, tag: "<none>", img: img, now: now})
			continue
		}
		for _, rt := range img.RepoTags {
			i := strings.LastIndex(rt, ":")
			if i < 0 || strings.Contains(rt[i:], "/") {
				rows = append(rows, imageRow{repo: rt, tag: "<none>", img: img, now: now})
				continue
			}
			rows = append(rows, imageRow{repo: rt[:i], tag: rt[i+1:], img: img, now: now})
		}
	}
	return rows
}

func (r imageRow) ID() string   { return manager.ShortID(r.img.ID) }
func (r imageRow) Size() string { return units.HumanSizeWithPrecision(float64(r.img.Size), 3) }
func (r imageRow) Created() string {
	return units.HumanDuration(r.now.Sub(time.Unix(r.img.Created, 0))) + " ago"
}

func renderImages(s *Shell, rows []imageRow, quiet bool, format string) error {
	switch {
	case quiet:
		seen := map[string]bool{}
		for _, r := range rows {
			if !seen[r.ID()] {
				seen[r.ID()] = true
				fmt.Fprintln(s.out, r.ID())
			}
		}
		return nil
	case format == "json":
		enc := json.NewEncoder(s.out)
		for _, r := range rows {
			if err := enc.Encode(map[string]any{
				"Repository":   r.repo,
				"Tag":          r.tag,
				"ID":           r.ID(),
				"CreatedSince": r.Created(),
				"CreatedAt":    time.Unix(r.img.Created, 0).Format("2006-01-02 15:04:05 -0700 MST"),
				"Size":         r.Size(),
			}); err != nil {
				return err
			}
		}
		return nil
	}
	table := make([][]string, len(rows))
	for i, r := range rows {
		table[i] = []string{r.repo, r.tag, r.ID(), r.Created(), r.Size()}
	}
	return writeTable(s.out, []string{"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"}, table)
}
