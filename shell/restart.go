package shell

import (
	"context"

	"github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"
)

var restartCommand = &Command{
	Name:    "restart",
	Usage:   "restart [OPTIONS] CONTAINER...",
	Summary: "Restart one or more containers",
	Args:    ArgAnyContainer,
	MinArgs: 1,
	MaxArgs: -1,
	Setup: func(fs *pflag.FlagSet) RunFunc {
		stopOpts := stopFlags(fs)
		return func(ctx context.Context, s *Shell, args []string) error {
			opts := stopOpts()
			return eachContainer(ctx, s, args, func(ctx context.Context, c container.Summary) error {
				return s.eng.Restart(ctx, c.ID, opts)
			})
		}
	},
}
