package testenv

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestEngineHosts(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"none", []string{"dockerd"}, []string{"unix:///var/run/docker.sock"}},
		{"other flags", []string{"dockerd", "--data-root", "/x", "--host-gateway-ip", "1.2.3.4"}, []string{"unix:///var/run/docker.sock"}},
		{"-H value", []string{"dockerd", "-H", "unix:///run/a.sock"}, []string{"unix:///run/a.sock"}},
		{"-H=value", []string{"dockerd", "-H=unix:///run/a.sock"}, []string{"unix:///run/a.sock"}},
		{"-Hvalue", []string{"dockerd", "-Hunix:///run/a.sock"}, []string{"unix:///run/a.sock"}},
		{"--host value", []string{"dockerd", "--host", "tcp://127.0.0.1:2375"}, []string{"tcp://127.0.0.1:2375"}},
		{"--host=value", []string{"dockerd", "--host=fd://"}, []string{"fd://"}},
		{"several", []string{"dockerd", "-H", "fd://", "--host", "unix:///run/b.sock"}, []string{"fd://", "unix:///run/b.sock"}},
		{"after --", []string{"dockerd", "--", "-H", "unix:///run/a.sock"}, []string{"unix:///var/run/docker.sock"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := engineHosts(tc.args); !slices.Equal(got, tc.want) {
				t.Errorf("engineHosts(%q) = %q, want %q", tc.args, got, tc.want)
			}
		})
	}
}

func TestSameHost(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	link := filepath.Join(t.TempDir(), "run")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"unix://" + sock, "unix://" + sock, true},
		{"unix://" + sock, "unix://" + dir + "/./docker.sock", true},
		{"unix://" + sock, "unix://" + link + "/docker.sock", true},
		{"unix://" + sock, "unix://" + dir + "/other.sock", false},
		{"unix://", "unix:///var/run/docker.sock", true},
		{"fd://", "unix:///var/run/docker.sock", true},
		{"127.0.0.1:2375", "tcp://127.0.0.1:2375", true},
		{"tcp://127.0.0.1:2375", "tcp://127.0.0.1:2376", false},
		{"unix://" + sock, "tcp://127.0.0.1:2375", false},
	} {
		if got := sameHost(tc.a, tc.b); got != tc.want {
			t.Errorf("sameHost(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
