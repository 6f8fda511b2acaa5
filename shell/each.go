package shell

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/manager"
)

// maxParallel bounds how many containers one command acts on at once: the
// docker CLI's own bound, so that `stop` of 50 containers that ignore
// SIGTERM takes one grace period, not fifty.
const maxParallel = 50

// eachContainer resolves refs with one list call and applies op to the
// containers in parallel (at most maxParallel at a time). It prints the ref
// of each success as it completes, and returns the failures joined, one
// line each, in the order the refs were given. When ctx is cancelled
// (Ctrl-C) it stops starting new operations, waits for those under way and
// returns an error saying which containers were done and which were not.
func eachContainer(ctx context.Context, s *Shell, refs []string, op func(ctx context.Context, c container.Summary) error) error {
	resolved, err := s.eng.Resolve(ctx, refs...)
	if err != nil {
		return err
	}
	type outcome struct {
		started bool
		err     error
	}
	results := make([]outcome, len(resolved))
	var (
		mu  sync.Mutex // serialises printing
		wg  sync.WaitGroup
		sem = make(chan struct{}, maxParallel)
	)
	for i, r := range resolved {
		if r.Err != nil {
			results[i].err = r.Err // already names the ref
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		results[i].started = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := op(ctx, r.Container)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				results[i].err = fmt.Errorf("%s: %w", r.Ref, err)
				return
			}
			fmt.Fprintln(s.out, r.Ref)
		}()
	}
	wg.Wait()

	var errs []error
	var done, notDone []string
	for i, r := range resolved {
		res := results[i]
		switch {
		case r.Err != nil:
			errs = append(errs, res.err)
		case !res.started:
			notDone = append(notDone, r.Ref)
		case res.err == nil:
			done = append(done, r.Ref)
		case ctx.Err() != nil && errors.Is(res.err, context.Canceled):
			notDone = append(notDone, r.Ref+" (the engine may still finish it)")
		default:
			errs = append(errs, res.err)
		}
	}
	if ctx.Err() != nil && len(notDone) > 0 {
		errs = append(errs, withStatus(StatusInterrupted, &interruptedError{done: done, notDone: notDone}))
	}
	return errors.Join(errs...)
}

// interruptedError reports a multi-container command cut short by Ctrl-C.
// It deliberately does not wrap context.Canceled: it has something to say,
// and the shell prints it.
type interruptedError struct{ done, notDone []string }

func (e *interruptedError) Error() string {
	d := "none"
	if len(e.done) > 0 {
		d = strings.Join(e.done, ", ")
	}
	return fmt.Sprintf("interrupted: done: %s; not done: %s", d, strings.Join(e.notDone, ", "))
}

// stopFlags registers -t/--timeout (and docker's older --time) and
// -s/--signal, shared by stop and restart, and returns their reader. A
// timeout not given is nil, so the engine applies the container's own
// stop timeout; a signal not given is "", the container's stop signal.
func stopFlags(fs *pflag.FlagSet) func() manager.StopOptions {
	secs := fs.IntP("timeout", "t", 0, "Seconds to wait before killing the container (default: the container's stop timeout)")
	fs.IntVar(secs, "time", 0, "Seconds to wait before killing the container (deprecated name of --timeout)")
	_ = fs.MarkHidden("time")
	sig := fs.StringP("signal", "s", "", "Signal to send to the container (default: the container's stop signal, SIGTERM)")
	offer(fs, "signal", signals...)
	return func() manager.StopOptions {
		var opts manager.StopOptions
		if fs.Changed("timeout") || fs.Changed("time") {
			v := *secs
			opts.Timeout = &v
		}
		opts.Signal = *sig
		return opts
	}
}
