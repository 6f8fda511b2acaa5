package inventory

import (
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
)

// imageIndex says which image ID each image reference names now, so that
// the IMAGE column shows an ID, as docker's does, once a container's tag
// has moved on; and which tags exist, for completion.
type imageIndex struct {
	// refs maps each reference ("repo:tag", "repo@digest", in normalized
	// form) to the image ID it names.
	refs map[string]string
	// tags is every "repo:tag", sorted.
	tags []string
	// loaded is set once the engine's images have been listed.
	loaded bool
}

// newImageIndex indexes the engine's image list.
func newImageIndex(images []image.Summary) imageIndex {
	x := imageIndex{refs: map[string]string{}, loaded: true}
	for _, img := range images {
		for _, t := range img.RepoTags {
			if t != "<none>:<none>" {
				x.tags = append(x.tags, t)
			}
		}
		for _, r := range append(append([]string(nil), img.RepoTags...), img.RepoDigests...) {
			if n, ok := normalizeRef(r); ok {
				x.refs[n] = img.ID
			}
		}
	}
	sort.Strings(x.tags)
	return x
}

// column is what docker's list shows as a container's IMAGE: the
// reference it was created from while that still names its image, else the
// image's ID.
func (x imageIndex) column(c Container) string {
	ref := c.Image
	if !c.Detailed || ref == "" || ref == c.ImageID {
		return ref
	}
	if strings.HasPrefix(strings.TrimPrefix(c.ImageID, "sha256:"), strings.TrimPrefix(ref, "sha256:")) {
		return ref // created from an ID (or a prefix of it)
	}
	if !x.loaded || (c.imageRef != "" && x.refs[c.imageRef] == c.ImageID) {
		return ref
	}
	return c.ImageID
}

// normalizeRef spells an image reference the one way the engine keys it:
// "busybox" and "docker.io/library/busybox:latest" are the same.
func normalizeRef(ref string) (string, bool) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", false
	}
	return reference.TagNameOnly(named).String(), true
}
