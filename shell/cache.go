package shell

import (
	"sort"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/dockman/dockman/manager"
)

// Cache serves completion from what the Manager's inventory holds in
// memory: container names and states, image tags. Docker events keep the
// inventory fresh, so pressing Tab never waits on the engine, and the
// completion itself has nothing to keep up to date.
type Cache struct {
	src CacheSource
}

// CacheSource is what the Cache reads; *manager.Manager provides it.
type CacheSource interface {
	// Cached returns containers from memory only, false when it has none.
	Cached(opts manager.ListOptions) ([]manager.Container, bool)
	// CachedImages returns image tags from memory only.
	CachedImages() []string
}

var _ CacheSource = (*manager.Manager)(nil)

// NewCache returns a cache reading from src.
func NewCache(src CacheSource) *Cache { return &Cache{src: src} }

// cachedContainer is what completion needs to know of a container.
type cachedContainer struct {
	ID, Name, Image string
	State           container.ContainerState
}

// containers returns the known containers that keep accepts, by name.
func (c *Cache) containers(keep func(container.ContainerState) bool) []cachedContainer {
	list, _ := c.src.Cached(manager.ListOptions{All: true})
	out := make([]cachedContainer, 0, len(list))
	for _, cc := range list {
		if keep == nil || keep(cc.State) {
			out = append(out, cachedContainer{ID: cc.ID, Name: manager.Name(cc.Summary), Image: cc.Image, State: cc.State})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Images returns the image names to offer: every "repo:tag", and "repo"
// alone for the latest tag.
func (c *Cache) Images() []string {
	var names []string
	for _, t := range c.src.CachedImages() {
		names = append(names, t, strings.TrimSuffix(t, ":latest"))
	}
	sort.Strings(names)
	return dedupe(names)
}
