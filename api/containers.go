package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dockman/dockman/inventory"
	"github.com/dockman/dockman/manager"
)

// Container is one container as GET /containers shows it. The field
// names are the API's contract (docs/api.md). It holds nothing of the
// container's environment or command line, where secrets are passed.
type Container struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Names      []string          `json:"names"`
	Image      string            `json:"image"`
	ImageID    string            `json:"image_id"`
	State      string            `json:"state"`
	Status     string            `json:"status"`
	Health     string            `json:"health,omitempty"`
	ExitCode   int               `json:"exit_code"`
	Created    time.Time         `json:"created"`
	StartedAt  *time.Time        `json:"started_at,omitempty"`
	FinishedAt *time.Time        `json:"finished_at,omitempty"`
	Ports      []Port            `json:"ports"`
	Labels     map[string]string `json:"labels"`
	Networks   []string          `json:"networks"`
}

// Port is a container's port, published or not.
type Port struct {
	IP          string `json:"ip,omitempty"`
	PrivatePort uint16 `json:"private_port"`
	PublicPort  uint16 `json:"public_port,omitempty"`
	Type        string `json:"type"`
}

// fromInventory copies the fields the API shows, and only those.
func fromInventory(c inventory.Container, now time.Time) Container {
	out := Container{
		ID:       c.ID,
		Names:    make([]string, 0, len(c.Names)),
		Image:    c.Image,
		ImageID:  c.ImageID,
		State:    string(c.State),
		Status:   c.StatusText(now),
		Health:   string(c.Health),
		ExitCode: c.ExitCode,
		Created:  c.CreatedAt.UTC(),
		Ports:    make([]Port, 0, len(c.Ports)),
		Labels:   c.Labels,
		Networks: []string{},
	}
	if out.Health == "none" {
		out.Health = ""
	}
	if out.Created.IsZero() && c.Created != 0 {
		out.Created = time.Unix(c.Created, 0).UTC()
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	for _, n := range c.Names {
		out.Names = append(out.Names, strings.TrimPrefix(n, "/"))
	}
	if len(out.Names) > 0 {
		out.Name = out.Names[0]
	}
	if !c.StartedAt.IsZero() {
		t := c.StartedAt.UTC()
		out.StartedAt = &t
	}
	if !c.FinishedAt.IsZero() {
		t := c.FinishedAt.UTC()
		out.FinishedAt = &t
	}
	for _, p := range c.Ports {
		ip := ""
		if p.IP.IsValid() {
			ip = p.IP.String()
		}
		out.Ports = append(out.Ports, Port{IP: ip, PrivatePort: p.PrivatePort, PublicPort: p.PublicPort, Type: p.Type})
	}
	if c.NetworkSettings != nil {
		for n := range c.NetworkSettings.Networks {
			out.Networks = append(out.Networks, n)
		}
		slices.Sort(out.Networks)
	}
	return out
}

// errOutOfSync is the answer while the inventory does not reflect the
// engine (it is unreachable, or dockman has just started).
const errOutOfSync = "the engine is unreachable or not yet read: try again"

// containers serves GET /containers: every container, newest first, as
// one JSON array rendered at most once per inventory change and second.
func (s *Server) containers(w http.ResponseWriter, _ *http.Request, _ string) {
	body, ok := s.renderList()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, errOutOfSync)
		return
	}
	writeBody(w, http.StatusOK, body)
}

func (s *Server) renderList() ([]byte, bool) {
	c := &s.list
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	gen := s.opts.Containers.Generation()
	if c.body != nil && c.gen == gen && c.second == now.Unix() {
		return c.body, true
	}
	list, ok := s.opts.Containers.List(manager.ListOptions{All: true})
	if !ok {
		return nil, false
	}
	out := make([]Container, len(list))
	for i, ctr := range list {
		out[i] = fromInventory(ctr, now)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, false
	}
	c.gen, c.second, c.body = gen, now.Unix(), append(b, '\n')
	return c.body, true
}

// container serves GET /containers/{ref}: ref is a full ID, a name (with
// or without its leading slash), or an ID prefix that only one container
// has, as docker resolves them.
func (s *Server) container(w http.ResponseWriter, _ *http.Request, ref string) {
	list, ok := s.opts.Containers.List(manager.ListOptions{All: true})
	if !ok {
		writeError(w, http.StatusServiceUnavailable, errOutOfSync)
		return
	}
	name := strings.TrimPrefix(ref, "/")
	var byPrefix []inventory.Container
	for _, c := range list {
		if c.ID == ref {
			writeJSON(w, http.StatusOK, fromInventory(c, time.Now()))
			return
		}
	}
	for _, c := range list {
		for _, n := range c.Names {
			if strings.TrimPrefix(n, "/") == name {
				writeJSON(w, http.StatusOK, fromInventory(c, time.Now()))
				return
			}
		}
		if strings.HasPrefix(c.ID, ref) {
			byPrefix = append(byPrefix, c)
		}
	}
	switch len(byPrefix) {
	case 0:
		writeError(w, http.StatusNotFound, "no such container: "+ref)
	case 1:
		writeJSON(w, http.StatusOK, fromInventory(byPrefix[0], time.Now()))
	default:
		writeError(w, http.StatusConflict, "more than one container's ID starts with "+ref)
	}
}
