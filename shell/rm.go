package shell

import (
	"context"

	"github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/manager"
)

var rmCommand = &Command{
	Name:    "rm",
	Usage:   "rm [OPTIONS] CONTAINER...",
	Summary: "Remove one or more containers",
	Args:    ArgAnyContainer,
	MinArgs: 1,
	MaxArgs: -1,
	Setup: func(fs *pflag.FlagSet) RunFunc {
		var opts manager.RemoveOptions
		fs.BoolVarP(&opts.Force, "force", "f", false, "Force the removal of a running container (uses SIGKILL)")
		fs.BoolVarP(&opts.Volumes, "volumes", "v", false, "Remove anonymous volumes associated with the container")
		return func(ctx context.Context, s *Shell, args []string) error {
			return eachContainer(ctx, s, args, func(ctx context.Context, c container.Summary) error {
				return s.eng.Remove(ctx, c.ID, opts)
			})
		}
	},
}
