package manager

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
)

// ImageListOptions selects the images ListImages returns.
type ImageListOptions struct {
	// All includes intermediate images.
	All bool
	// Filters are engine-side filters (dangling, label, reference, before,
	// since), each with one or more values. The engine rejects unknown
	// keys and bad values, in its own words.
	Filters map[string][]string
}

// ListImages lists images as the engine reports them, newest first.
func (m *Manager) ListImages(ctx context.Context, opts ImageListOptions) ([]image.Summary, error) {
	f := make(client.Filters)
	for k, vs := range opts.Filters {
		f.Add(k, vs...)
	}
	res, err := m.api.ImageList(ctx, client.ImageListOptions{All: opts.All, Filters: f})
	if err != nil {
		return nil, m.wrapIn("list images", err)
	}
	return res.Items, nil
}

// InspectImage returns the engine's full JSON description of an image
// (named by reference or ID), and its decoded form.
func (m *Manager) InspectImage(ctx context.Context, ref string) (image.InspectResponse, json.RawMessage, error) {
	var raw bytes.Buffer
	res, err := m.api.ImageInspect(ctx, ref, client.ImageInspectWithRawResponse(&raw))
	if err != nil {
		return image.InspectResponse{}, nil, m.wrap(err)
	}
	return res.InspectResponse, raw.Bytes(), nil
}
