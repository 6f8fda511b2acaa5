package shell

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"
)

// eachContainer resolves refs with one list call, applies op to each
// container, prints the ref of each success as docker does, and returns the
// failures joined, one line each.
func eachContainer(ctx context.Context, s *Shell, refs []string, op func(ctx context.Context, c container.Summary) error) error {
	resolved, err := s.eng.Resolve(ctx, refs...)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range resolved {
		if r.Err != nil { // already names the ref
			errs = append(errs, r.Err)
			continue
		}
		if err := op(ctx, r.Container); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", r.Ref, err))
			continue
		}
		fmt.Fprintln(s.out, r.Ref)
	}
	return errors.Join(errs...)
}

// stopTimeoutFlag registers -t/--time, shared by stop and restart, and
// returns its reader: nil when not given, so the engine applies the
// container's own stop timeout.
func stopTimeoutFlag(fs *pflag.FlagSet) func() *int {
	secs := fs.IntP("time", "t", 0, "Seconds to wait before killing the container (default: the container's stop timeout)")
	return func() *int {
		if !fs.Changed("time") {
			return nil
		}
		v := *secs
		return &v
	}
}
