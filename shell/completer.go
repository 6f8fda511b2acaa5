package shell

import (
	"slices"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/dockman/dockman/logtail"
	"github.com/dockman/dockman/manager"
)

// Completer offers completions for a partly typed line: commands, flags,
// flag values, container names, image tags, networks, volumes and label
// keys. Names come from memory that Docker events keep fresh (the
// inventory), so pressing Tab never waits on the engine, and the completer
// itself has nothing to keep up to date.
type Completer struct {
	src CompletionSource
	// logFiles is the Shell's Options.LogFiles (nil: none), set by New:
	// the log files of removed containers are offered to tail.
	logFiles func() ([]logtail.FileStatus, error)
	// snapshotNames, set by New from Options.Enforce, lists the names in
	// the enforcement snapshot, from memory (snapshot rm).
	snapshotNames func() []string
}

// CompletionSource is what the Completer reads names from. It must answer
// from memory only; *inventory.Inventory provides it.
type CompletionSource interface {
	// KnownContainers returns every container known, nil when none is.
	KnownContainers() []container.Summary
	// ImageTags returns every "repo:tag" known.
	ImageTags() []string
	// Networks and Volumes return the names of every network and volume
	// known, sorted and unique (Tab shows them as they come).
	Networks() []string
	Volumes() []string
}

// NewCompleter returns a Completer reading names from src.
func NewCompleter(src CompletionSource) *Completer { return &Completer{src: src} }

// knownContainer is what completion needs to know of a container.
type knownContainer struct {
	ID, Name, Image string
	State           container.ContainerState
}

// containers returns the known containers that keep accepts, by name.
func (c *Completer) containers(keep func(container.ContainerState) bool) []knownContainer {
	list := c.src.KnownContainers()
	out := make([]knownContainer, 0, len(list))
	for _, cc := range list {
		if keep == nil || keep(cc.State) {
			out = append(out, knownContainer{ID: cc.ID, Name: manager.Name(cc), Image: cc.Image, State: cc.State})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Images returns the image names to offer: every "repo:tag", and "repo"
// alone for the latest tag.
func (c *Completer) Images() []string {
	var names []string
	for _, t := range c.src.ImageTags() {
		names = append(names, t, strings.TrimSuffix(t, ":latest"))
	}
	sort.Strings(names)
	return slices.Compact(names)
}
