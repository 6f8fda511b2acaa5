package inventory

import (
	"strconv"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
)

// Container is what the inventory knows of one container: the engine's
// list entry plus the state times the list lacks, so that "Up 5 minutes" is
// computed when it is shown rather than frozen when it was fetched.
type Container struct {
	container.Summary
	// Detailed is set when the times below come from an inspect; otherwise
	// Summary.Status is the engine's text from when it was listed.
	Detailed bool
	// CreatedAt orders containers as the engine does: to the nanosecond
	// once inspected, to the second (Summary.Created) before.
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int
	Health     container.HealthStatus

	// learned is when the engine was asked for this entry: an entry learned
	// after a resync's list was taken is kept over that list's.
	learned time.Time
	// imageRef is Image in normalized form ("" if it is none), parsed once
	// rather than on every List.
	imageRef string
}

// StatusText renders the STATUS column as the engine would at now.
func (c Container) StatusText(now time.Time) string {
	if !c.Detailed {
		return c.Status
	}
	since := func(t time.Time) string { return units.HumanDuration(now.Sub(t)) }
	switch c.State {
	case container.StatePaused:
		return "Up " + since(c.StartedAt) + " (Paused)"
	case container.StateRestarting:
		return "Restarting (" + strconv.Itoa(c.ExitCode) + ") " + since(c.FinishedAt) + " ago"
	case container.StateRunning:
		switch c.Health {
		case "", container.NoHealthcheck:
			return "Up " + since(c.StartedAt)
		case container.Starting:
			return "Up " + since(c.StartedAt) + " (health: starting)"
		default:
			return "Up " + since(c.StartedAt) + " (" + string(c.Health) + ")"
		}
	case container.StateRemoving:
		return "Removal In Progress"
	case container.StateDead:
		return "Dead"
	}
	if c.StartedAt.IsZero() {
		return "Created"
	}
	if c.FinishedAt.IsZero() {
		return ""
	}
	return "Exited (" + strconv.Itoa(c.ExitCode) + ") " + since(c.FinishedAt) + " ago"
}

// fromInspect builds the list entry from an inspect, as the engine's list
// would show it, plus the state times.
func fromInspect(in container.InspectResponse) Container {
	c := Container{Detailed: true}
	s := &c.Summary
	s.ID = in.ID
	s.Names = []string{"/" + strings.TrimPrefix(in.Name, "/")}
	s.ImageID = in.Image
	s.Command = commandLine(in.Path, in.Args)
	if t, err := time.Parse(time.RFC3339Nano, in.Created); err == nil {
		s.Created, c.CreatedAt = t.Unix(), t
	}
	if in.Config != nil {
		s.Image = in.Config.Image
		c.imageRef, _ = normalizeRef(in.Config.Image)
		s.Labels = in.Config.Labels
	}
	if in.HostConfig != nil {
		s.HostConfig.NetworkMode = string(in.HostConfig.NetworkMode)
	}
	s.Mounts = in.Mounts
	if in.NetworkSettings != nil {
		s.NetworkSettings = &container.NetworkSettingsSummary{Networks: in.NetworkSettings.Networks}
		for port, bindings := range in.NetworkSettings.Ports {
			if len(bindings) == 0 {
				s.Ports = append(s.Ports, container.PortSummary{PrivatePort: port.Num(), Type: string(port.Proto())})
			}
			for _, b := range bindings {
				pub, _ := strconv.Atoi(b.HostPort)
				s.Ports = append(s.Ports, container.PortSummary{IP: b.HostIP, PrivatePort: port.Num(), PublicPort: uint16(pub), Type: string(port.Proto())})
			}
		}
	}
	if st := in.State; st != nil {
		s.State = st.Status
		c.ExitCode = st.ExitCode
		c.StartedAt = parseTime(st.StartedAt)
		c.FinishedAt = parseTime(st.FinishedAt)
		if st.Health != nil {
			c.Health = st.Health.Status
		}
	}
	s.Status = c.StatusText(time.Now())
	return c
}

// parseTime reads the engine's RFC 3339 times; its zero time
// ("0001-01-01T00:00:00Z") stays zero.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}

// commandLine renders a container's command as the engine's list does:
// arguments holding a space are wrapped in single quotes.
func commandLine(path string, args []string) string {
	if len(args) == 0 {
		return path
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		if strings.Contains(a, " ") {
			a = "'" + a + "'"
		}
		quoted[i] = a
	}
	return path + " " + strings.Join(quoted, " ")
}
