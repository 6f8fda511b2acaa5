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
		secs := fs.IntP("time", "t", 0, "Seconds to wait before killing the container (default: the container's stop timeout)")
		return func(ctx context.Context, s *Shell, args []string) error {
			timeout := timeoutFlag(fs.Changed("time"), *secs)
			return eachContainer(ctx, s, args, func(ctx context.Context, c container.Summary) error {
				return s.eng.Restart(ctx, c.ID, timeout)
			})
		}
	},
}
