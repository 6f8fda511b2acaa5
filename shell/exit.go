package shell

import (
	"context"

	"github.com/spf13/pflag"
)

var exitCommand = &Command{
	Name:    "exit",
	Aliases: []string{"quit"},
	Usage:   "exit",
	Summary: "Leave the shell (Ctrl-D does too)",
	Setup: func(fs *pflag.FlagSet) RunFunc {
		return func(ctx context.Context, s *Shell, args []string) error {
			s.exited = true
			return nil
		}
	},
}
