package runner

import (
	"errors"

	"github.com/dockman/dockman/manager"
)

// engineStatus turns the Watcher's view of the connection into notices:
// one when the engine is lost (or cannot be reached at start), one when it
// is back, and nothing for the retries in between.
type engineStatus struct {
	host   string
	notify func(string)
	state  int // stateUnknown until the first event, then up or down
}

const (
	stateUnknown = iota
	stateUp
	stateDown
)

func newEngineStatus(host string, notify func(string)) *engineStatus {
	return &engineStatus{host: host, notify: notify}
}

// Handle follows the Watcher's events on its own subscription, so it needs
// no lock; notify only queues.
func (s *engineStatus) Handle(ev manager.Event) {
	switch {
	case ev.Lost && !errors.Is(ev.Err, manager.ErrSlowHandler):
		switch s.state {
		case stateUp:
			s.notify("lost the Docker engine at " + s.host + ": retrying")
		case stateUnknown:
			s.notify("cannot reach the Docker engine at " + s.host + ": retrying")
		}
		s.state = stateDown
	case ev.Resync:
		if s.state == stateDown {
			s.notify("reconnected to the Docker engine at " + s.host)
		}
		s.state = stateUp
	}
}
