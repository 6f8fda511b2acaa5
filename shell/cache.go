package shell

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"

	"github.com/dockman/dockman/manager"
)

// Cache serves completion: container names from the Manager's inventory,
// image names from its own list, refreshed when image events say they
// changed. Docker events keep both fresh, so pressing Tab reads memory and
// never waits on the engine.
type Cache struct {
	src CacheSource

	mu         sync.RWMutex
	imageNames []string

	refresh chan struct{}
	cancel  context.CancelFunc
	done    chan struct{}
}

// cachedContainer is what completion needs to know of a container.
type cachedContainer struct {
	ID, Name, Image string
	State           container.ContainerState
}

// CacheSource is what the Cache reads; *manager.Manager provides it.
type CacheSource interface {
	// Cached returns containers from memory only, false when it has none.
	Cached(opts manager.ListOptions) ([]manager.Container, bool)
	Images(ctx context.Context, all bool) ([]image.Summary, error)
}

var _ CacheSource = (*manager.Manager)(nil)

// NewCache returns a cache reading containers from src's memory and
// listing images from src when image events say they changed. Feed it
// events with Handle and run its refresher with Start.
func NewCache(src CacheSource) *Cache {
	return &Cache{src: src, refresh: make(chan struct{}, 1)}
}

// Start runs the image refresher, which lists images after each resync or
// image event (coalesced, so a burst of events costs one list call).
func (c *Cache) Start(ctx context.Context) {
	ctx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-c.refresh:
				list, err := c.src.Images(ctx, false)
				if err != nil {
					continue // the resync after the engine returns retries
				}
				c.setImages(list)
			}
		}
	}()
}

// Stop ends the refresher and waits for it.
func (c *Cache) Stop() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
}

// Handle is a manager.Handler: image events and resyncs schedule an image
// list. It never blocks.
func (c *Cache) Handle(ev manager.Event) {
	if ev.Resync || ev.Type == events.ImageEventType {
		select {
		case c.refresh <- struct{}{}:
		default:
		}
	}
}

func (c *Cache) setImages(list []image.Summary) {
	var names []string
	for _, img := range list {
		for _, t := range img.RepoTags {
			if t != "<none>:<none>" {
				names = append(names, t)
				names = append(names, strings.TrimSuffix(t, ":latest"))
			}
		}
	}
	sort.Strings(names)
	names = dedupe(names)
	c.mu.Lock()
	c.imageNames = names
	c.mu.Unlock()
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

// Images returns the cached image names ("repo:tag", and "repo" for latest).
func (c *Cache) Images() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]string(nil), c.imageNames...)
}
