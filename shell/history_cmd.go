package shell

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"
)

var historyCommand = &Command{
	Name:    "history",
	Usage:   "history [-n N]",
	Summary: "Show the lines typed in this and earlier sessions",
	Setup: func(fs *pflag.FlagSet) RunFunc {
		n := fs.IntP("lines", "n", 0, "Show only the last N lines")
		return func(ctx context.Context, s *Shell, args []string) error {
			if s.history == nil {
				return errors.New("not kept in script mode")
			}
			lines := s.history.Lines()
			first := 0
			if *n > 0 && *n < len(lines) {
				first = len(lines) - *n
			}
			for i := first; i < len(lines); i++ {
				fmt.Fprintf(s.out, "%5d  %s\n", i+1, lines[i])
			}
			return nil
		}
	},
}
