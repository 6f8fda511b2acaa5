package shell

import (
	"context"

	"github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"
)

var stopCommand = &Command{
	Name:    "stop",
	Usage:   "stop [OPTIONS] CONTAINER...",
	Summary: "Stop one or more running containers",
	Args:    ArgRunningContainer,
	MinArgs: 1,
	MaxArgs: -1,
	Setup: func(fs *pflag.FlagSet) RunFunc {
		stopOpts := stopFlags(fs)
		return func(ctx context.Context, s *Shell, args []string) error {
			opts := stopOpts()
			return eachContainer(ctx, s, args, func(ctx context.Context, c container.Summary) error {
				return s.eng.Stop(ctx, c.ID, opts)
			})
		}
	},
}
