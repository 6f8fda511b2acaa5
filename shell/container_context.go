package shell

import (
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/dockman/dockman/manager"
)

// containerContext is one container as ps templates see it, with docker's
// field names (docker/cli formatter.ContainerContext): each exported
// method with no argument is a field ({{.Names}}), and together they are
// the keys of --format json. Each method says what docker prints.
type containerContext struct {
	c     container.Summary
	trunc bool      // not --no-trunc
	now   time.Time // for RunningFor
	// sizeUsed, when set, records that a template read .Size: ps then asks
	// the engine for sizes, which it does not compute by default.
	sizeUsed *bool
}

// containerHeader names the columns of a ps table, as docker does.
var containerHeader = headerContext{
	"ID":           "CONTAINER ID",
	"Names":        "NAMES",
	"Image":        "IMAGE",
	"Command":      "COMMAND",
	"CreatedAt":    "CREATED AT",
	"RunningFor":   "CREATED",
	"Ports":        "PORTS",
	"State":        "STATE",
	"Status":       "STATUS",
	"Size":         "SIZE",
	"Labels":       "LABELS",
	"Mounts":       "MOUNTS",
	"LocalVolumes": "LOCAL VOLUMES",
	"Networks":     "NETWORKS",
	"Platform":     "PLATFORM",
}

// MarshalJSON is one line of ps --format json: every field, keys sorted,
// as docker prints it.
func (c *containerContext) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"Command":      c.Command(),
		"CreatedAt":    c.CreatedAt(),
		"ID":           c.ID(),
		"Image":        c.Image(),
		"Labels":       c.Labels(),
		"LocalVolumes": c.LocalVolumes(),
		"Mounts":       c.Mounts(),
		"Names":        c.Names(),
		"Networks":     c.Networks(),
		"Platform":     c.Platform(),
		"Ports":        c.Ports(),
		"RunningFor":   c.RunningFor(),
		"Size":         c.Size(),
		"State":        c.State(),
		"Status":       c.Status(),
	})
}

// ID is the container's ID, 12 characters unless --no-trunc.
func (c *containerContext) ID() string {
	if c.trunc {
		return manager.ShortID(c.c.ID)
	}
	return c.c.ID
}

// Names are the container's names without their leading slash; truncated
// output keeps only its own name, not the aliases of legacy links
// ("web/db").
func (c *containerContext) Names() string {
	names := make([]string, len(c.c.Names))
	for i, n := range c.c.Names {
		names[i] = strings.TrimPrefix(n, "/")
	}
	if c.trunc {
		for _, n := range names {
			if !strings.Contains(n, "/") {
				names = []string{n}
				break
			}
		}
	}
	return strings.Join(names, ",")
}

// Image is the image as the container was created from it; truncated, an
// image ID is shortened and a reference loses its digest.
func (c *containerContext) Image() string {
	img := c.c.Image
	if img == "" {
		return "<no image>"
	}
	if !c.trunc {
		return img
	}
	if short := manager.ShortID(c.c.ImageID); short != "" && short == manager.ShortID(img) {
		return short
	}
	ref, err := reference.ParseNormalizedNamed(img)
	if err != nil {
		return img
	}
	if tagged, ok := ref.(reference.NamedTagged); ok {
		if t, err := reference.WithTag(reference.TrimNamed(tagged), tagged.Tag()); err == nil {
			return reference.FamiliarString(t)
		}
		return img
	}
	return reference.FamiliarString(reference.TrimNamed(ref))
}

// Command is the container's command line, quoted, cut at 20 columns
// unless --no-trunc.
func (c *containerContext) Command() string {
	cmd := c.c.Command
	if c.trunc {
		cmd = ellipsis(cmd, 20)
	}
	return strconv.Quote(cmd)
}

// CreatedAt is the creation time in Go's default layout, local time.
func (c *containerContext) CreatedAt() string {
	return time.Unix(c.c.Created, 0).String()
}

// RunningFor is the time since creation: "5 minutes ago".
func (c *containerContext) RunningFor() string {
	return units.HumanDuration(c.now.UTC().Sub(time.Unix(c.c.Created, 0))) + " ago"
}

// Ports are the exposed and published ports, ranges collapsed.
func (c *containerContext) Ports() string { return displayablePorts(c.c.Ports) }

// State is the state word: running, exited, ...
func (c *containerContext) State() string { return string(c.c.State) }

// Status is the status text: "Up 5 minutes", "Exited (0) 2 hours ago".
func (c *containerContext) Status() string { return c.c.Status }

// Size is the writable layer's size, with the whole filesystem's in
// parentheses when the engine computed it: "2B (virtual 1.98MB)". Without
// sizes asked for, both are 0: "0B".
func (c *containerContext) Size() string {
	if c.sizeUsed != nil {
		*c.sizeUsed = true
	}
	rw := units.HumanSizeWithPrecision(float64(c.c.SizeRw), 3)
	if c.c.SizeRootFs > 0 {
		return fmt.Sprintf("%s (virtual %s)", rw, units.HumanSizeWithPrecision(float64(c.c.SizeRootFs), 3))
	}
	return rw
}

// Labels are the container's labels as k=v, sorted, comma-separated.
func (c *containerContext) Labels() string {
	labels := make([]string, 0, len(c.c.Labels))
	for k, v := range c.c.Labels {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	return strings.Join(labels, ",")
}

// Label is one label's value, "" when the container does not have it.
func (c *containerContext) Label(name string) string { return c.c.Labels[name] }

// Mounts names each mount by volume name, else by source, cut at 15
// columns unless --no-trunc.
func (c *containerContext) Mounts() string {
	mounts := make([]string, 0, len(c.c.Mounts))
	for _, m := range c.c.Mounts {
		name := m.Name
		if name == "" {
			name = m.Source
		}
		if c.trunc {
			name = ellipsis(name, 15)
		}
		mounts = append(mounts, name)
	}
	return strings.Join(mounts, ",")
}

// LocalVolumes counts the mounts of the local volume driver.
func (c *containerContext) LocalVolumes() string {
	n := 0
	for _, m := range c.c.Mounts {
		if m.Driver == "local" {
			n++
		}
	}
	return strconv.Itoa(n)
}

// Networks are the names of the networks the container is attached to,
// sorted (docker lists them in map order, which varies from run to run).
func (c *containerContext) Networks() string {
	if c.c.NetworkSettings == nil {
		return ""
	}
	names := make([]string, 0, len(c.c.NetworkSettings.Networks))
	for n := range c.c.NetworkSettings.Networks {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// Platform is the platform of the container's image, nil (json null)
// when the engine does not say (engines before API 1.48 never do).
func (c *containerContext) Platform() *platform {
	d := c.c.ImageManifestDescriptor
	if d == nil || d.Platform == nil {
		return nil
	}
	return &platform{*d.Platform}
}

// platform prints as os[(version)]/arch[/variant], as docker's does, and
// encodes as the OCI platform object in json.
type platform struct{ ocispec.Platform }

func (p platform) String() string {
	if p.OS == "" {
		return "unknown"
	}
	os := p.OS
	if p.OSVersion != "" {
		os += "(" + p.OSVersion + ")"
	}
	return path.Join(os, p.Architecture, p.Variant)
}
