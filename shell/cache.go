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

// Cache holds the container and image names that completion offers. Docker
// events keep it fresh (Handle is a manager.Handler), so pressing Tab reads
// memory and never waits on the engine.
type Cache struct {
	images func(ctx context.Context, all bool) ([]image.Summary, error)

	mu         sync.RWMutex
	containers map[string]cachedContainer // by full ID
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

// NewCache returns an empty cache that lists images with images when image
// events say they changed.
func NewCache(images func(ctx context.Context, all bool) ([]image.Summary, error)) *Cache {
	return &Cache{
		images:     images,
		containers: map[string]cachedContainer{},
		refresh:    make(chan struct{}, 1),
	}
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
				list, err := c.images(ctx, false)
				if err != nil {
					continue // the next resync after reconnecting retries
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

// Handle applies one watcher event. It never blocks.
func (c *Cache) Handle(ev manager.Event) {
	if ev.Resync {
		fresh := make(map[string]cachedContainer, len(ev.Containers))
		for _, s := range ev.Containers {
			fresh[s.ID] = cachedContainer{ID: s.ID, Name: manager.Name(s), Image: s.Image, State: s.State}
		}
		c.mu.Lock()
		c.containers = fresh
		c.mu.Unlock()
		c.wantImages()
		return
	}
	if ev.Type == events.ImageEventType {
		c.wantImages()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cc, known := c.containers[ev.ID]
	if !known {
		cc = cachedContainer{ID: ev.ID, State: container.StateCreated}
	}
	if ev.Name != "" {
		cc.Name = ev.Name
	}
	switch ev.Action {
	case events.ActionDestroy:
		delete(c.containers, ev.ID)
		return
	case events.ActionStart, events.ActionUnPause, events.ActionRestart:
		cc.State = container.StateRunning
	case events.ActionDie, events.ActionStop, events.ActionKill:
		if ev.Action == events.ActionDie || cc.State != container.StateRunning {
			cc.State = container.StateExited
		}
	case events.ActionPause:
		cc.State = container.StatePaused
	}
	c.containers[ev.ID] = cc
}

func (c *Cache) wantImages() {
	select {
	case c.refresh <- struct{}{}:
	default:
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

// Containers returns the cached containers that keep accepts, by name.
func (c *Cache) Containers(keep func(container.ContainerState) bool) []cachedContainer {
	c.mu.RLock()
	out := make([]cachedContainer, 0, len(c.containers))
	for _, cc := range c.containers {
		if keep == nil || keep(cc.State) {
			out = append(out, cc)
		}
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Images returns the cached image names ("repo:tag", and "repo" for latest).
func (c *Cache) Images() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]string(nil), c.imageNames...)
}
