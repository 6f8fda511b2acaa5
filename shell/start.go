package shell

import (
	"context"

	"github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"
)

var startCommand = &Command{
	Name:    "start",
	Usage:   "start CONTAINER...",
	Summary: "Start one or more stopped containers",
	Args:    ArgStoppedContainer,
	MinArgs: 1,
	MaxArgs: -1,
	Setup: func(fs *pflag.FlagSet) RunFunc {
		return func(ctx context.Context, s *Shell, args []string) error {
			return eachContainer(ctx, s, args, func(ctx context.Context, c container.Summary) error {
				return s.eng.Start(ctx, c.ID)
			})
		}
	},
}
