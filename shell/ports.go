package shell

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"github.com/docker/go-connections/nat"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// displayablePorts renders a container's ports as docker ps does
// (docker/cli formatter.DisplayablePorts): exposed ports and ports
// published on the same number, runs of consecutive ones collapsed into
// ranges per address and protocol ("5000-5001/tcp",
// "127.0.0.1:8000-8002->8000-8002/tcp"), then ports published on another
// number one by one ("127.0.0.1:32768->80/tcp"), joined by ", ".
func displayablePorts(ports []container.PortSummary) string {
	type group struct{ first, last uint16 }
	sorted := append([]container.PortSummary(nil), ports...)
	sort.Slice(sorted, func(i, j int) bool { return portLess(sorted[i], sorted[j]) })

	groups := map[string]*group{}
	var keys []string // in the order groups were first made
	var result, hostMappings []string
	for _, p := range sorted {
		current := p.PrivatePort
		key := p.Type
		if ip := portIP(p); ip != "" {
			if p.PublicPort != current {
				hostPort := net.JoinHostPort(ip, strconv.Itoa(int(p.PublicPort)))
				hostMappings = append(hostMappings, fmt.Sprintf("%s->%d/%s", hostPort, p.PrivatePort, p.Type))
				continue
			}
			key = ip + "/" + p.Type
		}
		g := groups[key]
		if g == nil {
			groups[key] = &group{first: current, last: current}
			keys = append(keys, key)
			continue
		}
		if current == g.last+1 {
			g.last = current
			continue
		}
		result = append(result, formGroup(key, g.first, g.last))
		groups[key] = &group{first: current, last: current}
	}
	for _, key := range keys {
		g := groups[key]
		result = append(result, formGroup(key, g.first, g.last))
	}
	return strings.Join(append(result, hostMappings...), ", ")
}

// formGroup renders one run of ports: key is "proto" or "ip/proto".
func formGroup(key string, first, last uint16) string {
	proto, ip := key, ""
	if i := strings.LastIndex(key, "/"); i >= 0 {
		ip, proto = key[:i], key[i+1:]
	}
	span := strconv.Itoa(int(first))
	if first != last {
		span += "-" + strconv.Itoa(int(last))
	}
	if ip != "" {
		span = net.JoinHostPort(ip, span) + "->" + span
	}
	return span + "/" + proto
}

// portIP is the host address a port is published on, "" when it is only
// exposed (the engine then sends no address).
func portIP(p container.PortSummary) string {
	if !p.IP.IsValid() {
		return ""
	}
	return p.IP.String()
}

// portLess orders ports as docker does: by container port, address (as
// text), host port, then protocol.
func portLess(a, b container.PortSummary) bool {
	if a.PrivatePort != b.PrivatePort {
		return a.PrivatePort < b.PrivatePort
	}
	if ia, ib := portIP(a), portIP(b); ia != ib {
		return ia < ib
	}
	if a.PublicPort != b.PublicPort {
		return a.PublicPort < b.PublicPort
	}
	return a.Type < b.Type
}

// parsePublish reads -p specs with docker's own parser (go-connections'
// nat.ParsePortSpec, which the docker CLI uses): [ip:][hostPort:]port[/proto]
// where either port may be a range ("8000-8002:8000-8002"), the host port
// may be empty ("127.0.0.1::80") and an IPv6 address is in brackets. A
// range of container ports publishes each of them.
func parsePublish(specs []string) (network.PortSet, network.PortMap, error) {
	if len(specs) == 0 {
		return nil, nil, nil
	}
	exposed, bindings := network.PortSet{}, network.PortMap{}
	for _, spec := range specs {
		mappings, err := nat.ParsePortSpec(spec)
		if err != nil {
			return nil, nil, fmt.Errorf("bad port spec %q: %w", spec, err)
		}
		for _, m := range mappings {
			port, err := network.ParsePort(string(m.Port))
			if err != nil {
				return nil, nil, fmt.Errorf("bad port spec %q: %w", spec, err)
			}
			b := network.PortBinding{HostPort: m.Binding.HostPort}
			if m.Binding.HostIP != "" {
				if err := b.HostIP.UnmarshalText([]byte(m.Binding.HostIP)); err != nil {
					return nil, nil, fmt.Errorf("bad port spec %q: %w", spec, err)
				}
			}
			exposed[port] = struct{}{}
			bindings[port] = append(bindings[port], b)
		}
	}
	return exposed, bindings, nil
}
