package manager

import (
	"context"
	"fmt"

	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
)

// Images lists images; all includes intermediate layers.
func (m *Manager) Images(ctx context.Context, all bool) ([]image.Summary, error) {
	res, err := m.api.ImageList(ctx, client.ImageListOptions{All: all})
	if err != nil {
		return nil, fmt.Errorf("list images: %w", m.wrap(err))
	}
	return res.Items, nil
}
