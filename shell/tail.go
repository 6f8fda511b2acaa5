package shell

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/dockman/dockman/logtail"
)

var tailCommand = &Command{
	Name:    "tail",
	Usage:   "tail [OPTIONS] CONTAINER",
	Summary: "Show the end of a container's log file (kept after rm); -f follows it until Ctrl-C",
	Args:    ArgLogFile,
	MinArgs: 1,
	MaxArgs: 1,
	Setup: func(fs *pflag.FlagSet) RunFunc {
		lines := linesValue(10)
		fs.VarP(&lines, "lines", "n", "Show the last `N` lines, or all")
		offer(fs, "lines", "all\tevery line")
		follow := fs.BoolP("follow", "f", false, "Follow the file as it grows and rotates (Ctrl-C returns to the prompt)")
		return func(ctx context.Context, s *Shell, args []string) error {
			return runTail(ctx, s, args[0], int(lines), *follow)
		}
	},
}

// runTail finds the log file of the container ref names, live or removed,
// and prints its last n lines (n < 0: all), then with follow what is
// appended, until ctx is cancelled (Ctrl-C), which is no failure.
func runTail(ctx context.Context, s *Shell, ref string, n int, follow bool) error {
	files, err := s.listLogFiles()
	if err != nil {
		return err
	}
	f, err := logtail.Find(files, ref)
	if err != nil {
		return err
	}
	err = logtail.Tail(ctx, f.Path, n, follow, s.out)
	if errors.Is(err, os.ErrNotExist) && f.Reason != "" {
		// Never written, and the keeper knows why.
		return fmt.Errorf("no log file for container %s: %s: %s", f.Name, f.State, f.Reason)
	}
	return err
}

// linesValue is tail's -n: a number of lines, or "all" (-1). A negative
// number is refused rather than guessed at: tail(1) reads -n -5 as 5 and
// docker's --tail -1 as all.
type linesValue int

func (v *linesValue) Set(s string) error {
	if s == "all" {
		*v = -1
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return errors.New(`want a number of lines, or "all"`)
	}
	*v = linesValue(n)
	return nil
}

func (v *linesValue) String() string {
	if *v < 0 {
		return "all"
	}
	return strconv.Itoa(int(*v))
}

func (v *linesValue) Type() string { return "string" }
