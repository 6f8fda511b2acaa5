package inventory

import (
	"net/netip"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/dockman/dockman/manager"
)

func TestStatusText(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	tests := []struct {
		name string
		c    Container
		want string
	}{
		{"not detailed keeps list text", Container{Summary: container.Summary{Status: "Up 3 days"}}, "Up 3 days"},
		{"created", Container{Detailed: true, Summary: container.Summary{State: container.StateCreated}}, "Created"},
		{"running", Container{Detailed: true, Summary: container.Summary{State: container.StateRunning}, StartedAt: ago(5 * time.Minute)}, "Up 5 minutes"},
		{"healthy", Container{Detailed: true, Summary: container.Summary{State: container.StateRunning}, StartedAt: ago(time.Hour), Health: container.Healthy}, "Up About an hour (healthy)"},
		{"starting health", Container{Detailed: true, Summary: container.Summary{State: container.StateRunning}, StartedAt: ago(2 * time.Second), Health: container.Starting}, "Up 2 seconds (health: starting)"},
		{"paused", Container{Detailed: true, Summary: container.Summary{State: container.StatePaused}, StartedAt: ago(10 * time.Second)}, "Up 10 seconds (Paused)"},
		{"restarting", Container{Detailed: true, Summary: container.Summary{State: container.StateRestarting}, ExitCode: 1, FinishedAt: ago(3 * time.Second)}, "Restarting (1) 3 seconds ago"},
		{"exited", Container{Detailed: true, Summary: container.Summary{State: container.StateExited}, ExitCode: 137, StartedAt: ago(time.Hour), FinishedAt: ago(2 * time.Minute)}, "Exited (137) 2 minutes ago"},
		{"dead", Container{Detailed: true, Summary: container.Summary{State: container.StateDead}}, "Dead"},
		{"removing", Container{Detailed: true, Summary: container.Summary{State: container.StateRemoving}}, "Removal In Progress"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.StatusText(now); got != tt.want {
				t.Errorf("StatusText = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFromInspect(t *testing.T) {
	in := container.InspectResponse{
		ID: "abc", Name: "/web", Image: "sha256:img", Path: "sh", Args: []string{"-c", "x"},
		Created: "2026-11-22T10:00:00.5Z",
		State:   &container.State{Status: container.StateExited, ExitCode: 2, StartedAt: "2026-11-22T10:00:01Z", FinishedAt: "2026-11-22T10:05:00Z"},
		Config:  &container.Config{Image: "busybox", Labels: map[string]string{"a": "b"}},
		NetworkSettings: &container.NetworkSettings{Ports: network.PortMap{
			network.MustParsePort("80/tcp"): {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "8080"}},
			network.MustParsePort("53/udp"): nil,
		}},
	}
	c := fromInspect(in)
	if !c.Detailed || c.ID != "abc" || manager.Name(c.Summary) != "web" || c.Image != "busybox" || c.ImageID != "sha256:img" || c.Command != "sh -c x" || c.Labels["a"] != "b" {
		t.Errorf("summary = %+v", c.Summary)
	}
	if c.Created != time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC).Unix() || c.ExitCode != 2 || c.FinishedAt.IsZero() || c.State != container.StateExited {
		t.Errorf("times/state = %d %d %v %s", c.Created, c.ExitCode, c.FinishedAt, c.State)
	}
	if len(c.Ports) != 2 {
		t.Fatalf("ports = %+v", c.Ports)
	}
	for _, p := range c.Ports {
		if p.PrivatePort == 80 && (p.PublicPort != 8080 || p.IP.String() != "127.0.0.1" || p.Type != "tcp") {
			t.Errorf("port 80 = %+v", p)
		}
		if p.PrivatePort == 53 && (p.PublicPort != 0 || p.Type != "udp") {
			t.Errorf("port 53 = %+v", p)
		}
	}
}
