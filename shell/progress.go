package shell

import (
	"fmt"
	"io"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/jsonstream"
)

// pullProgress shows an image pull as docker does, one line per layer. On
// a terminal the layer's line is redrawn in place while its bytes arrive; in
// scripts only changes of status are printed, so logs stay short.
type pullProgress struct {
	w        io.Writer
	terminal bool
	status   map[string]string // layer ID -> last status printed
	lastID   string            // the layer whose line the cursor is on
	partial  bool              // the cursor ends an unfinished line
}

func newPullProgress(w io.Writer, terminal bool) *pullProgress {
	return &pullProgress{w: w, terminal: terminal, status: map[string]string{}}
}

func (p *pullProgress) show(m jsonstream.Message) {
	if m.Status == "" {
		return
	}
	if m.ID == "" {
		p.endLine()
		fmt.Fprintln(p.w, m.Status)
		return
	}
	bar := ""
	if m.Progress != nil && m.Progress.Total > 0 {
		bar = fmt.Sprintf(" %s/%s", units.HumanSize(float64(m.Progress.Current)), units.HumanSize(float64(m.Progress.Total)))
	}
	changed := p.status[m.ID] != m.Status
	if !changed && (!p.terminal || bar == "") {
		return
	}
	p.status[m.ID] = m.Status
	if p.terminal && p.partial && p.lastID == m.ID {
		fmt.Fprintf(p.w, "\r\x1b[2K%s: %s%s", m.ID, m.Status, bar)
		return
	}
	p.endLine()
	if p.terminal {
		fmt.Fprintf(p.w, "%s: %s%s", m.ID, m.Status, bar)
		p.lastID, p.partial = m.ID, true
		return
	}
	fmt.Fprintf(p.w, "%s: %s\n", m.ID, m.Status)
}

func (p *pullProgress) endLine() {
	if p.partial {
		fmt.Fprintln(p.w)
		p.partial = false
	}
}
