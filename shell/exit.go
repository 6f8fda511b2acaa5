package shell

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/pflag"
)

var exitCommand = &Command{
	Name:    "exit",
	Aliases: []string{"quit"},
	Usage:   "exit [N]",
	Summary: "Leave the shell (Ctrl-D does too), with exit status N",
	MaxArgs: 1,
	Setup: func(fs *pflag.FlagSet) RunFunc {
		return func(ctx context.Context, s *Shell, args []string) error {
			if len(args) == 1 {
				n, err := strconv.Atoi(args[0])
				if err != nil || n < 0 || n > 255 {
					return withStatus(StatusFailed, fmt.Errorf("exit status must be a number from 0 to 255, got %q", args[0]))
				}
				s.exitStatus = &n
			}
			s.exited = true
			return nil
		}
	},
}

// ExitStatus returns the status given to exit, and whether one was given.
func (s *Shell) ExitStatus() (int, bool) {
	if s.exitStatus == nil {
		return 0, false
	}
	return *s.exitStatus, true
}
