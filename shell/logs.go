package shell

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/dockman/dockman/manager"
)

var logsCommand = &Command{
	Name:    "logs",
	Usage:   "logs [OPTIONS] CONTAINER",
	Summary: "Show a container's logs; -f follows them until Ctrl-C",
	Args:    ArgAnyContainer,
	MinArgs: 1,
	MaxArgs: 1,
	Setup: func(fs *pflag.FlagSet) RunFunc {
		var opts manager.LogsOptions
		fs.BoolVarP(&opts.Follow, "follow", "f", false, "Follow log output (Ctrl-C returns to the prompt)")
		fs.StringVarP(&opts.Tail, "tail", "n", "all", "Number of lines to show from the end of the logs")
		offer(fs, "tail", "all\tevery line")
		fs.StringVar(&opts.Since, "since", "", "Show logs since a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)")
		fs.StringVar(&opts.Until, "until", "", "Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)")
		fs.BoolVarP(&opts.Timestamps, "timestamps", "t", false, "Show timestamps")
		return func(ctx context.Context, s *Shell, args []string) error {
			resolved, err := s.eng.Resolve(ctx, args[0])
			if err != nil {
				return err
			}
			if r := resolved[0]; r.Err != nil {
				return r.Err
			}
			return s.eng.Logs(ctx, resolved[0].Container.ID, opts, s.out, s.err)
		}
	},
}
