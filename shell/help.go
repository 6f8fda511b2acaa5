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
	Usage:   "help [COMMAND [SUBCOMMAND]]",
	Summary: "Show the commands, or one command's usage and flags",
	Args:    ArgCommand,
	MaxArgs: 2,
	// Setup is set in init: it reads the command table, which includes help.
}

func setupHelp(fs *pflag.FlagSet) RunFunc {
	return func(ctx context.Context, s *Shell, args []string) error {
		if len(args) > 0 {
			c, ok := lookup(args[0])
			if !ok {
				return fmt.Errorf("unknown command %q", args[0])
			}
			if len(args) == 2 {
				sc := c.sub(args[1])
				if sc == nil {
					return fmt.Errorf("unknown command %q", args[0]+" "+args[1])
				}
				c = sc
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
	if len(c.Subcommands) > 0 {
		fmt.Fprintln(w, "\nCommands:")
		for _, sc := range c.Subcommands {
			fmt.Fprintf(w, "  %-10s %s\n", sc.word(), sc.Summary)
		}
		fmt.Fprintf(w, "\nType 'help %s COMMAND' for a command's flags.\n", c.Name)
		return nil
	}
	if u := fs.FlagUsages(); strings.TrimSpace(u) != "" {
		fmt.Fprintf(w, "\nOptions:\n%s", u)
	}
	return nil
}
