package logtail

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/moby/moby/api/types/container"
)

// Engine is what the keeper asks of Docker; *manager.Manager provides it.
type Engine interface {
	Inspect(ctx context.Context, id string) (container.InspectResponse, json.RawMessage, error)
	LogStream(ctx context.Context, id string, since time.Time, follow bool) (io.ReadCloser, error)
}
