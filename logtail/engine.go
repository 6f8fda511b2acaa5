package logtail

import (
	"context"
	"encoding/json"
	"io"

	"github.com/moby/moby/api/types/container"

	"github.com/dockman/dockman/manager"
)

// Engine is what the keeper asks of Docker; *manager.Manager provides it.
type Engine interface {
	Inspect(ctx context.Context, id string) (container.InspectResponse, json.RawMessage, error)
	LogStream(ctx context.Context, id string, opts manager.StreamOptions) (io.ReadCloser, error)
}
