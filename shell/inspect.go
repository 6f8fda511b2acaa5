package shell

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/pflag"
)

var inspectCommand = &Command{
	Name:    "inspect",
	Usage:   "inspect CONTAINER...",
	Summary: "Show the engine's full description of containers, as JSON",
	Args:    ArgAnyContainer,
	MinArgs: 1,
	MaxArgs: -1,
	Setup: func(fs *pflag.FlagSet) RunFunc {
		return func(ctx context.Context, s *Shell, args []string) error {
			resolved, err := s.eng.Resolve(ctx, args...)
			if err != nil {
				return err
			}
			var docs []json.RawMessage
			var errs []error
			for _, r := range resolved {
				if r.Err != nil {
					errs = append(errs, r.Err)
					continue
				}
				_, raw, err := s.eng.Inspect(ctx, r.Container.ID)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", r.Ref, err))
					continue
				}
				docs = append(docs, raw)
			}
			if docs == nil {
				docs = []json.RawMessage{}
			}
			out, err := json.Marshal(docs)
			if err != nil {
				return fmt.Errorf("inspect: %w", err)
			}
			var buf bytes.Buffer
			if err := json.Indent(&buf, out, "", "    "); err != nil {
				return fmt.Errorf("inspect: %w", err)
			}
			buf.WriteByte('\n')
			if _, err := s.out.Write(buf.Bytes()); err != nil {
				return err
			}
			return errors.Join(errs...)
		}
	},
}
