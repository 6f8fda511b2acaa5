package shell

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/image"

	"github.com/dockman/dockman/manager"
)

// imageContext is one line of images as templates see it, with docker's
// field names (docker/cli formatter's imageContext): an image appears once
// per repository and tag.
type imageContext struct {
	i                 image.Summary
	repo, tag, digest string
	trunc             bool
	now               time.Time
}

// imageHeader names the columns of an images table, as docker does.
var imageHeader = headerContext{
	"ID":           "IMAGE ID",
	"Repository":   "REPOSITORY",
	"Tag":          "TAG",
	"Digest":       "DIGEST",
	"CreatedSince": "CREATED",
	"CreatedAt":    "CREATED AT",
	"Size":         "SIZE",
	"Containers":   "CONTAINERS",
	"VirtualSize":  "SIZE",
	"SharedSize":   "SHARED SIZE",
	"UniqueSize":   "UNIQUE SIZE",
}

// MarshalJSON is one line of images --format json: every field, keys
// sorted, as docker prints it.
func (c *imageContext) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"Containers":   c.Containers(),
		"CreatedAt":    c.CreatedAt(),
		"CreatedSince": c.CreatedSince(),
		"Digest":       c.Digest(),
		"ID":           c.ID(),
		"Repository":   c.Repository(),
		"SharedSize":   c.SharedSize(),
		"Size":         c.Size(),
		"Tag":          c.Tag(),
		"UniqueSize":   c.UniqueSize(),
		"VirtualSize":  c.VirtualSize(),
	})
}

// ID is the image ID, 12 hex digits unless --no-trunc ("sha256:..." then).
func (c *imageContext) ID() string {
	if c.trunc {
		return manager.ShortID(c.i.ID)
	}
	return c.i.ID
}

// Repository is the line's repository, "<none>" for an untagged image.
func (c *imageContext) Repository() string { return c.repo }

// Tag is the line's tag, "<none>" for an untagged image.
func (c *imageContext) Tag() string { return c.tag }

// Digest is the line's repository digest: "<none>" when it has none, ""
// on a digest-only line when digests are not shown.
func (c *imageContext) Digest() string { return c.digest }

// CreatedSince is the image's age: "2 hours ago".
func (c *imageContext) CreatedSince() string {
	return units.HumanDuration(c.now.UTC().Sub(time.Unix(c.i.Created, 0))) + " ago"
}

// CreatedAt is the creation time in Go's default layout, local time.
func (c *imageContext) CreatedAt() string { return time.Unix(c.i.Created, 0).String() }

// Size is the image's size to 3 significant digits: "1.98MB".
func (c *imageContext) Size() string { return units.HumanSizeWithPrecision(float64(c.i.Size), 3) }

// Containers counts the containers using the image, "N/A" when the engine
// did not count them (it does not in a plain list).
func (c *imageContext) Containers() string {
	if c.i.Containers == -1 {
		return "N/A"
	}
	return strconv.FormatInt(c.i.Containers, 10)
}

// VirtualSize is docker's deprecated name for Size, printed to 4
// significant digits ("1.983MB") as docker still does.
func (c *imageContext) VirtualSize() string { return units.HumanSize(float64(c.i.Size)) }

// SharedSize is the size shared with other images, "N/A" when not computed.
func (c *imageContext) SharedSize() string {
	if c.i.SharedSize == -1 {
		return "N/A"
	}
	return units.HumanSize(float64(c.i.SharedSize))
}

// UniqueSize is the size only this image takes, "N/A" when not computed.
func (c *imageContext) UniqueSize() string {
	if c.i.Size == -1 || c.i.SharedSize == -1 {
		return "N/A"
	}
	return units.HumanSize(float64(c.i.Size - c.i.SharedSize))
}

// imageLines expands images into the lines docker lists, as its formatter
// does: a dangling image once as <none>:<none>; else one line per
// repository and tag (one per digest too when digests are wanted), then a
// line for each repository known only by digest.
func imageLines(list []image.Summary, trunc, wantDigests, showDigests bool, now time.Time) []*imageContext {
	var out []*imageContext
	for _, img := range list {
		add := func(repo, tag, digest string) {
			out = append(out, &imageContext{i: img, repo: repo, tag: tag, digest: digest, trunc: trunc, now: now})
		}
		if isDangling(img) {
			add("<none>", "<none>", "<none>")
			continue
		}
		// docker goes through repositories in map order; this keeps the
		// order the engine gave them in.
		var repos []string
		tags, digests := map[string][]string{}, map[string][]string{}
		for _, rt := range img.RepoTags {
			ref, err := reference.ParseNormalizedNamed(rt)
			if err != nil {
				continue
			}
			if t, ok := ref.(reference.NamedTagged); ok {
				name := reference.FamiliarName(ref)
				if _, seen := tags[name]; !seen {
					repos = append(repos, name)
				}
				tags[name] = append(tags[name], t.Tag())
			}
		}
		var digestRepos []string
		for _, rd := range img.RepoDigests {
			ref, err := reference.ParseNormalizedNamed(rd)
			if err != nil {
				continue
			}
			if c, ok := ref.(reference.Canonical); ok {
				name := reference.FamiliarName(ref)
				if _, seen := digests[name]; !seen {
					digestRepos = append(digestRepos, name)
				}
				digests[name] = append(digests[name], c.Digest().String())
			}
		}
		for _, repo := range repos {
			ds := digests[repo]
			delete(digests, repo) // no line of their own
			if !wantDigests {
				ds = nil
			}
			for _, tag := range tags[repo] {
				if len(ds) == 0 {
					add(repo, tag, "<none>")
					continue
				}
				for _, d := range ds {
					add(repo, tag, d)
				}
			}
		}
		for _, repo := range digestRepos {
			ds, ok := digests[repo]
			if !ok {
				continue
			}
			if !showDigests {
				add(repo, "<none>", "")
				continue
			}
			for _, d := range ds {
				add(repo, "<none>", d)
			}
		}
	}
	return out
}

// isDangling is an image with neither tag nor digest.
func isDangling(img image.Summary) bool {
	if len(img.RepoTags) == 0 && len(img.RepoDigests) == 0 {
		return true
	}
	return len(img.RepoTags) == 1 && img.RepoTags[0] == "<none>:<none>" && len(img.RepoDigests) == 1 && img.RepoDigests[0] == "<none>@<none>"
}
