package enforce_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/enforce"
	"github.com/dockman/dockman/internal/testenv"
)

// A container with every kind of setting, deleted and created again from
// what was saved of it, inspects the same but for what the engine owns.
func TestRecreateFidelity(t *testing.T) {
	c := testenv.Client(t)
	key, label := testenv.Label(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	net1, net2, vol := testenv.Name("rec-net"), testenv.Name("rec-net2"), testenv.Name("rec-vol")
	for _, n := range []string{net1, net2} {
		if _, err := c.NetworkCreate(ctx, n, client.NetworkCreateOptions{Labels: map[string]string{key: label}}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = c.NetworkRemove(context.Background(), n, client.NetworkRemoveOptions{}) })
	}
	if _, err := c.VolumeCreate(ctx, client.VolumeCreateOptions{Name: vol, Labels: map[string]string{key: label}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = c.VolumeRemove(context.Background(), vol, client.VolumeRemoveOptions{Force: true}) })
	bind := t.TempDir()
	if err := os.WriteFile(filepath.Join(bind, "f"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	name := testenv.Name("rec-web")
	restart := container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 3}
	port, _ := network.ParsePort("8080/tcp")
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: name,
		Config: &container.Config{
			Image: testenv.BusyboxImage(t, c), Entrypoint: []string{"/bin/sh"}, Cmd: []string{"-c", "sleep 3600"},
			Env: []string{"A=1", "B=two words"}, Labels: map[string]string{key: label, "app": "web"},
			User: "65534:65534", WorkingDir: "/tmp", Hostname: "webhost",
			ExposedPorts: network.PortSet{port: {}},
		},
		HostConfig: &container.HostConfig{
			NetworkMode:   container.NetworkMode(net1),
			PortBindings:  network.PortMap{port: {{HostIP: mustAddr(t, "127.0.0.1"), HostPort: "0"}}},
			Binds:         []string{bind + ":/data:ro", vol + ":/vol"},
			Tmpfs:         map[string]string{"/scratch": "size=1m"},
			RestartPolicy: restart,
			Resources:     container.Resources{Memory: 64 << 20, NanoCPUs: 500_000_000},
		},
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			net1: {Aliases: []string{"web-alias"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = c.ContainerRemove(context.Background(), name, client.ContainerRemoveOptions{Force: true})
	})
	if _, err := c.NetworkConnect(ctx, net2, client.NetworkConnectOptions{Container: created.ID, EndpointConfig: &network.EndpointSettings{Aliases: []string{"second"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}

	before, err := c.ContainerInspect(ctx, created.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := enforce.Recreate(enforce.Saved{Container: before.Raw})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ContainerRemove(ctx, created.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}

	again, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: spec.Name, Config: &spec.Config, HostConfig: &spec.Host, NetworkingConfig: &spec.Networking,
	})
	if err != nil {
		t.Fatalf("create from the spec: %v", err)
	}
	for n, ep := range spec.Connect {
		if _, err := c.NetworkConnect(ctx, n, client.NetworkConnectOptions{Container: again.ID, EndpointConfig: ep}); err != nil {
			t.Fatalf("connect %s: %v", n, err)
		}
	}
	if _, err := c.ContainerStart(ctx, again.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatalf("start: %v", err)
	}
	after, err := c.ContainerInspect(ctx, again.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range differences(t, before.Raw, after.Raw, created.ID, again.ID) {
		t.Error(d)
	}
}

// engineOwned are the inspect fields the engine sets for each container
// it makes: they differ between any two containers.
var engineOwned = []string{
	"Id", "Created", "State", "ResolvConfPath", "HostnamePath", "HostsPath", "LogPath",
	"RestartCount", "GraphDriver", "Storage", "SizeRw", "SizeRootFs", "ExecIDs",
	"NetworkSettings.Bridge", "NetworkSettings.SandboxID", "NetworkSettings.SandboxKey",
	"NetworkSettings.Ports", "NetworkSettings.EndpointID", "NetworkSettings.Gateway",
	"NetworkSettings.IPAddress", "NetworkSettings.MacAddress", "NetworkSettings.HairpinMode",
	"NetworkSettings.LinkLocalIPv6Address", "NetworkSettings.LinkLocalIPv6PrefixLen",
	"NetworkSettings.SecondaryIPAddresses", "NetworkSettings.SecondaryIPv6Addresses",
	"NetworkSettings.GlobalIPv6Address", "NetworkSettings.GlobalIPv6PrefixLen",
	"NetworkSettings.IPPrefixLen", "NetworkSettings.IPv6Gateway",
}

// endpointOwned are the per-network fields the engine assigns.
var endpointOwned = []string{"NetworkID", "EndpointID", "Gateway", "IPAddress", "IPPrefixLen", "IPv6Gateway",
	"GlobalIPv6Address", "GlobalIPv6PrefixLen", "MacAddress", "DNSNames"}

// differences lists, path by path, where two inspect outputs differ
// beyond what the engine owns (the short IDs in aliases included).
func differences(t *testing.T, a, b json.RawMessage, idA, idB string) []string {
	t.Helper()
	norm := func(raw json.RawMessage, id string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		for _, p := range engineOwned {
			deletePath(m, strings.Split(p, "."))
		}
		// The engine lists mounts in no fixed order (it walks a map):
		// compared by destination.
		if mounts, ok := m["Mounts"].([]any); ok {
			sort.Slice(mounts, func(i, j int) bool {
				return fmt.Sprint(mounts[i].(map[string]any)["Destination"]) < fmt.Sprint(mounts[j].(map[string]any)["Destination"])
			})
		}
		if ns, ok := m["NetworkSettings"].(map[string]any); ok {
			if nets, ok := ns["Networks"].(map[string]any); ok {
				for _, n := range nets {
					ep := n.(map[string]any)
					for _, f := range endpointOwned {
						delete(ep, f)
					}
					if al, ok := ep["Aliases"].([]any); ok {
						var keep []any
						for _, x := range al {
							if x != id[:12] {
								keep = append(keep, x)
							}
						}
						ep["Aliases"] = keep
					}
				}
			}
		}
		return m
	}
	var out []string
	diffValues("", norm(a, idA), norm(b, idB), &out)
	sort.Strings(out)
	return out
}

func deletePath(m map[string]any, path []string) {
	if len(path) == 1 {
		delete(m, path[0])
		return
	}
	if sub, ok := m[path[0]].(map[string]any); ok {
		deletePath(sub, path[1:])
	}
}

func diffValues(path string, a, b any, out *[]string) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for k := range keys {
			diffValues(path+"."+k, am[k], bm[k], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		*out = append(*out, fmt.Sprintf("%s: saved %v, recreated %v", strings.TrimPrefix(path, "."), a, b))
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
