package enforce

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
)

// fixweb.json is engine 20.10's inspect output of a container made with
// every kind of setting (see the test below), and of its image.
func loadFixture(t *testing.T) Saved {
	t.Helper()
	b, err := os.ReadFile("testdata/fixweb.json")
	if err != nil {
		t.Fatal(err)
	}
	var s Saved
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// The fixture was made with:
//
//	docker run -d --name fixweb --label app=web -e A=1 -e B=two --user 65534:65534
//	  --workdir /tmp --hostname webhost --network fixnet --network-alias web-alias
//	  -p 127.0.0.1:18080:8080 -v /tmp/fixbind:/data:ro -v fixvol:/vol
//	  --tmpfs /scratch:size=1m --restart unless-stopped --memory 64m --cpus 0.5
//	  --entrypoint /bin/sh dockman-test/busybox -c 'sleep 3600'
//	docker network connect --alias second fixnet2 fixweb
func TestRecreateCarriesEveryField(t *testing.T) {
	spec, err := Recreate(loadFixture(t))
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, want any) {
		t.Helper()
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s = %s, want %s", what, g, w)
		}
	}
	c, h := spec.Config, spec.Host
	check("Name", spec.Name, "fixweb")
	check("Image", c.Image, "dockman-test/busybox")
	if !strings.HasPrefix(spec.ImageID, "sha256:") {
		t.Errorf("ImageID = %q", spec.ImageID)
	}
	check("Entrypoint", c.Entrypoint, []string{"/bin/sh"})
	check("Cmd", c.Cmd, []string{"-c", "sleep 3600"})
	check("Env", c.Env, []string{"A=1", "B=two", "PATH=/bin"})
	check("Labels[app]", c.Labels["app"], "web")
	check("User", c.User, "65534:65534")
	check("WorkingDir", c.WorkingDir, "/tmp")
	check("Hostname", c.Hostname, "webhost")
	check("PortBindings", h.PortBindings, map[string]any{"8080/tcp": []map[string]string{{"HostIp": "127.0.0.1", "HostPort": "18080"}}})
	check("Binds", h.Binds, []string{"/tmp/fixbind:/data:ro", "fixvol:/vol"})
	check("Tmpfs", h.Tmpfs, map[string]string{"/scratch": "size=1m"})
	check("RestartPolicy", h.RestartPolicy.Name, container.RestartPolicyUnlessStopped)
	check("Memory", h.Memory, int64(64<<20))
	check("NanoCPUs", h.NanoCPUs, int64(500_000_000))
	check("NetworkMode", h.NetworkMode, container.NetworkMode("fixnet"))
	ep := spec.Networking.EndpointsConfig["fixnet"]
	if ep == nil {
		t.Fatalf("no endpoint for the primary network: %+v", spec.Networking)
	}
	check("fixnet aliases", ep.Aliases, []string{"web-alias"})
	check("fixnet addresses (assigned by the engine: not carried)", ep.IPAddress.IsValid(), false)
	if len(spec.Connect) != 1 || spec.Connect["fixnet2"] == nil {
		t.Fatalf("Connect = %v, want fixnet2", spec.Connect)
	}
	check("fixnet2 aliases", spec.Connect["fixnet2"].Aliases, []string{"second"})
}

// What the engine derived from the old container's ID is left for it to
// derive from the new one.
func TestRecreateDropsWhatTheEngineMade(t *testing.T) {
	s := loadFixture(t)
	var raw map[string]any
	_ = json.Unmarshal(s.Container, &raw)
	id := raw["Id"].(string)
	raw["Config"].(map[string]any)["Hostname"] = id[:12]
	raw["HostConfig"].(map[string]any)["ContainerIDFile"] = "/tmp/cid"
	s.Container, _ = json.Marshal(raw)
	spec, err := Recreate(s)
	if err != nil {
		t.Fatal(err)
	}
	if spec.Config.Hostname != "" || spec.Host.ContainerIDFile != "" {
		t.Errorf("Hostname %q, ContainerIDFile %q: both should be left to the engine", spec.Config.Hostname, spec.Host.ContainerIDFile)
	}
	for _, a := range spec.Networking.EndpointsConfig["fixnet"].Aliases {
		if a == id[:12] {
			t.Errorf("the old short ID %s is kept as an alias", a)
		}
	}
}

func TestRecreateKeepsFixedAddressAndAnonymousVolumes(t *testing.T) {
	s := loadFixture(t)
	var raw map[string]any
	_ = json.Unmarshal(s.Container, &raw)
	nets := raw["NetworkSettings"].(map[string]any)["Networks"].(map[string]any)
	nets["fixnet"].(map[string]any)["IPAMConfig"] = map[string]any{"IPv4Address": "172.18.0.50"}
	raw["Mounts"] = append(raw["Mounts"].([]any), map[string]any{
		"Type": "volume", "Name": "3f2a9c", "Destination": "/cache", "RW": true,
	})
	s.Container, _ = json.Marshal(raw)
	spec, err := Recreate(s)
	if err != nil {
		t.Fatal(err)
	}
	if ip := spec.Networking.EndpointsConfig["fixnet"].IPAMConfig; ip == nil || ip.IPv4Address.String() != "172.18.0.50" {
		t.Errorf("fixed address lost: %+v", ip)
	}
	if !slices.Contains(spec.Host.Binds, "3f2a9c:/cache") {
		t.Errorf("anonymous volume not attached again: %v", spec.Host.Binds)
	}
}

func TestRecreateRefusesWhatCannotBeMade(t *testing.T) {
	for name, body := range map[string]string{
		"not json":  `{`,
		"no config": `{"Id":"abc","Name":"/x"}`,
		"bad name":  `{"Id":"abc","Name":"/-x","Config":{"Image":"a"},"HostConfig":{}}`,
		"no image":  `{"Id":"abc","Name":"/xy","Config":{},"HostConfig":{}}`,
	} {
		if _, err := Recreate(Saved{Container: json.RawMessage(body)}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
