package shell

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

var helpCommand = &Command{
	Name:    "help",
	Usage:   "help [COMMAND]",
	Summary: "Show the commands, or one command's usage and flags",
	Args:    ArgCommand,
	MaxArgs: 1,
	// Setup is set in init: it reads the command table, which includes help.
}

func setupHelp(fs *pflag.FlagSet) RunFunc {
	return func(ctx context.Context, s *Shell, args []string) error {
		if len(args) == 1 {
			c, ok := lookup(args[0])
			if !ok {
				return fmt.Errorf("unknown command %q", args[0])
			}
			return printUsage(s.out, c)
		}
		fmt.Fprintln(s.out, "Commands:")
		for _, c := range commands {
			name := c.Name
			if len(c.Aliases) > 0 {
				name += ", " + strings.Join(c.Aliases, ", ")
			}
			fmt.Fprintf(s.out, "  %-10s %s\n", name, c.Summary)
		}
		fmt.Fprintln(s.out, "\nType 'help COMMAND' for a command's flags. Separate several commands with ';'.")
		return nil
	}
}

// printUsage prints a command's usage line, summary and flags.
func printUsage(w io.Writer, c *Command) error {
	fs, _ := c.flagSet()
	fmt.Fprintf(w, "Usage:  %s\n\n%s\n", c.Usage, c.Summary)
	if u := fs.FlagUsages(); strings.TrimSpace(u) != "" {
		fmt.Fprintf(w, "\nOptions:\n%s", u)
	}
	return nil
}
