// Package enforce is dockman's enforce mode: snapshot the containers that
// run now, then keep exactly that list alive. This file turns what a
// snapshot saved of a container into the requests that create it again.
package enforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// Saved is what a snapshot keeps of one container: the engine's own
// inspect output of the container and of its image, as the engine wrote
// them, so that nothing the SDK's types leave out is lost and a container
// that was deleted can still be described.
type Saved struct {
	Container json.RawMessage `json:"container"`
	Image     json.RawMessage `json:"image,omitempty"`
}

// Spec is everything needed to create a deleted container again: the
// create request, then the networks to connect before it starts (the
// engine takes one network at create).
type Spec struct {
	Name       string
	Config     container.Config
	Host       container.HostConfig
	Networking network.NetworkingConfig
	// Connect holds the container's further networks, by name.
	Connect map[string]*network.EndpointSettings
	// ImageID is the image the container ran; Config.Image is the name it
	// was given (the enforcer creates from the ID when the name has moved).
	ImageID string
}

// validName is the engine's rule for container names.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// Recreate builds the Spec for a saved container. It is a pure function:
// everything the container was given is carried over (image, command,
// entrypoint, env, labels, user, working dir, hostname, ports, binds,
// volumes, tmpfs, restart policy, resources, every network with its
// aliases and fixed addresses), and what the engine made for it is left
// for the engine to make again (its ID, the hostname and aliases derived
// from the ID, addresses it assigned, endpoint IDs). An error says why
// the saved data cannot make a container, before anything is acted on.
func Recreate(s Saved) (Spec, error) {
	var in container.InspectResponse
	if err := json.Unmarshal(s.Container, &in); err != nil {
		return Spec{}, fmt.Errorf("saved container: %w", err)
	}
	if in.ID == "" || in.Config == nil || in.HostConfig == nil {
		return Spec{}, errors.New("saved container: no ID, Config or HostConfig: not an inspect output")
	}
	spec := Spec{
		Name:    strings.TrimPrefix(in.Name, "/"),
		Config:  *in.Config,
		Host:    *in.HostConfig,
		ImageID: in.Image,
	}
	if !validName.MatchString(spec.Name) {
		return Spec{}, fmt.Errorf("saved container: invalid name %q", spec.Name)
	}
	if spec.Config.Image == "" && spec.ImageID == "" {
		return Spec{}, fmt.Errorf("%s: no image", spec.Name)
	}
	short := shortID(in.ID)
	// The engine names a container's host after its ID unless told
	// otherwise: a new ID gets a new default hostname.
	if spec.Config.Hostname == short {
		spec.Config.Hostname = ""
	}
	spec.Host.ContainerIDFile = ""
	spec.Host.Binds = append(slices.Clone(spec.Host.Binds), anonymousVolumes(in)...)

	mode := string(spec.Host.NetworkMode)
	primary := mode
	if mode == "" || mode == "default" {
		primary = "bridge"
	}
	var names []string
	if in.NetworkSettings != nil {
		for name := range in.NetworkSettings.Networks {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		ep := endpoint(in.NetworkSettings.Networks[name], short, in.Config.Hostname)
		switch {
		case isSpecialMode(mode):
			// host, none, container:X: no endpoints of its own.
		case name == primary:
			spec.Networking.EndpointsConfig = map[string]*network.EndpointSettings{name: ep}
		default:
			if spec.Connect == nil {
				spec.Connect = map[string]*network.EndpointSettings{}
			}
			spec.Connect[name] = ep
		}
	}
	return spec, nil
}

// endpoint keeps what the container was given on a network: aliases
// (without the ones the engine adds itself, its short ID and hostname),
// fixed addresses, links and driver options. Addresses the engine
// assigned and the endpoint's IDs are its own.
func endpoint(saved *network.EndpointSettings, short, hostname string) *network.EndpointSettings {
	ep := &network.EndpointSettings{}
	if saved == nil {
		return ep
	}
	for _, a := range saved.Aliases {
		if a != short && a != hostname && !slices.Contains(ep.Aliases, a) {
			ep.Aliases = append(ep.Aliases, a)
		}
	}
	if c := saved.IPAMConfig; c != nil && (c.IPv4Address.IsValid() || c.IPv6Address.IsValid() || len(c.LinkLocalIPs) > 0) {
		ipam := *c
		ep.IPAMConfig = &ipam
	}
	ep.Links = slices.Clone(saved.Links)
	if len(saved.DriverOpts) > 0 {
		ep.DriverOpts = saved.DriverOpts
	}
	return ep
}

// anonymousVolumes returns binds that attach the container's anonymous
// volumes (an image's VOLUME, or -v /path) again by name, so that a
// recreated container finds its data where it left it rather than in a
// new empty volume.
func anonymousVolumes(in container.InspectResponse) []string {
	given := map[string]bool{}
	for _, b := range in.HostConfig.Binds {
		parts := strings.Split(b, ":")
		if len(parts) >= 2 {
			given[parts[1]] = true
		}
	}
	for _, m := range in.HostConfig.Mounts {
		given[m.Target] = true
	}
	for dest := range in.HostConfig.Tmpfs {
		given[dest] = true
	}
	var binds []string
	for _, m := range in.Mounts {
		if m.Type != "volume" || m.Name == "" || given[m.Destination] {
			continue
		}
		b := m.Name + ":" + m.Destination
		if !m.RW {
			b += ":ro"
		}
		binds = append(binds, b)
	}
	return binds
}

func isSpecialMode(mode string) bool {
	return mode == "host" || mode == "none" || strings.HasPrefix(mode, "container:")
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// savedID is the ID of the container as it was saved ("" if unreadable).
func savedID(s Saved) string {
	var in struct {
		ID string `json:"Id"`
	}
	if len(s.Container) == 0 || json.Unmarshal(s.Container, &in) != nil {
		return ""
	}
	return in.ID
}
