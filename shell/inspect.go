package shell

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/spf13/pflag"

	"github.com/dockman/dockman/manager"
)

var inspectCommand = &Command{
	Name:    "inspect",
	Usage:   "inspect [OPTIONS] NAME|ID...",
	Summary: "Show the engine's full description of containers, images or volumes, as JSON or through a template",
	Args:    ArgAnyContainer,
	MinArgs: 1,
	MaxArgs: -1,
	Setup: func(fs *pflag.FlagSet) RunFunc {
		var o inspectOptions
		fs.StringVarP(&o.format, "format", "f", "", "Format output: json, or a Go template (see 'Formats' in docs/commands.md)")
		fs.StringVar(&o.kind, "type", "", "Only inspect objects of the given type: container, image or volume")
		return func(ctx context.Context, s *Shell, args []string) error {
			if fs.Changed("type") && o.kind == "" {
				return fmt.Errorf("type is empty: must be one of %s", inspectKindList())
			}
			return runInspect(ctx, s, o, args)
		}
	},
}

// inspectOptions are the flags of inspect, as typed.
type inspectOptions struct {
	format string
	kind   string // --type
}

// inspectKind is a kind of object inspect can describe, in the order docker
// tries them when no --type is given.
type inspectKind struct {
	name    string
	inspect func(ctx context.Context, eng Engine, ref string, c *manager.Resolved) (any, json.RawMessage, error)
}

var inspectKinds = []inspectKind{
	// Containers are resolved first, all refs with one list call, as every
	// command resolves them: an ambiguous prefix then lists its candidates.
	{"container", func(ctx context.Context, eng Engine, ref string, c *manager.Resolved) (any, json.RawMessage, error) {
		if c.Err != nil {
			return nil, nil, c.Err
		}
		return eng.Inspect(ctx, c.Container.ID)
	}},
	{"image", func(ctx context.Context, eng Engine, ref string, _ *manager.Resolved) (any, json.RawMessage, error) {
		return eng.InspectImage(ctx, ref)
	}},
	{"volume", func(ctx context.Context, eng Engine, ref string, _ *manager.Resolved) (any, json.RawMessage, error) {
		return eng.InspectVolume(ctx, ref)
	}},
}

func inspectKindList() string {
	names := make([]string, len(inspectKinds))
	for i, k := range inspectKinds {
		names[i] = fmt.Sprintf("%q", k.name)
	}
	return strings.Join(names, ", ")
}

// StatusTemplate is docker inspect's exit status for a --format that does
// not parse (64, EX_USAGE); a template failing on an object gives 1.
const StatusTemplate = 64

// runInspect describes each object as docker inspect does: all the JSON
// documents in one indented array, or the template's output for each, one
// line per object. An object that cannot be found or rendered is reported
// after the others are printed.
func runInspect(ctx context.Context, s *Shell, o inspectOptions, refs []string) error {
	kinds, err := kindsFor(o.kind)
	if err != nil {
		return err
	}
	var tmpl *template.Template
	if o.format != "" && o.format != formatJSON {
		if tmpl, err = parseTemplate(o.format); err != nil {
			return withStatus(StatusTemplate, templateError("template parsing error", err))
		}
	}
	resolved := make([]manager.Resolved, len(refs))
	if kinds[0].name == "container" {
		if resolved, err = s.eng.Resolve(ctx, refs...); err != nil {
			return err
		}
	}
	var raws []json.RawMessage
	var out bytes.Buffer
	var errs []error
	for i, ref := range refs {
		v, raw, err := inspectRef(ctx, s.eng, kinds, ref, &resolved[i])
		if errors.Is(err, manager.ErrUnreachable) {
			return err // the engine is away: nothing to print, all would fail
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if tmpl == nil {
			raws = append(raws, raw)
			continue
		}
		if err := executeInspect(&out, tmpl, v, raw); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case tmpl != nil:
		if out.Len() == 0 {
			out.WriteByte('\n') // docker prints an empty line when nothing rendered
		}
	default:
		if err := writeJSONArray(&out, raws, o.format == formatJSON); err != nil {
			return fmt.Errorf("format inspect output: %w", err)
		}
	}
	if _, err := s.out.Write(out.Bytes()); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// kindsFor is the kinds to try for --type name ("" tries them all).
func kindsFor(name string) ([]inspectKind, error) {
	if name == "" {
		return inspectKinds, nil
	}
	for _, k := range inspectKinds {
		if k.name == name {
			return []inspectKind{k}, nil
		}
	}
	return nil, fmt.Errorf("unknown type: %q: must be one of %s", name, inspectKindList())
}

// inspectRef finds ref among kinds in order, as docker does: with several
// kinds, a kind that does not have it gives way to the next; the first
// other failure is the answer.
func inspectRef(ctx context.Context, eng Engine, kinds []inspectKind, ref string, c *manager.Resolved) (any, json.RawMessage, error) {
	for _, k := range kinds {
		v, raw, err := k.inspect(ctx, eng, ref, c)
		if err == nil {
			return v, raw, nil
		}
		if len(kinds) > 1 && skippable(err) {
			continue
		}
		return nil, nil, err
	}
	return nil, nil, fmt.Errorf("no such object: %s", ref)
}

// skippable is a failure that means "not this kind": not found, or a ref
// that is no valid name for the kind (an image reference in capitals).
func skippable(err error) bool {
	return manager.IsNotFound(err) ||
		strings.Contains(err.Error(), "not supported") ||
		strings.Contains(err.Error(), "invalid reference format")
}

// executeInspect runs tmpl on the decoded object, then, if that fails, on
// the raw JSON decoded into maps, with missing keys an error: a field the
// SDK's types lack (or name differently) is still reachable, as in docker.
func executeInspect(out *bytes.Buffer, tmpl *template.Template, v any, raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		if raw == nil {
			return templateError("template parsing error", err)
		}
		var m any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("unable to read inspect data: %w", err)
		}
		buf.Reset()
		// A clone, so that later objects' first try keeps the default.
		strict, err := tmpl.Clone()
		if err != nil {
			return templateError("template parsing error", err)
		}
		if err := strict.Option("missingkey=error").Execute(&buf, m); err != nil {
			return templateError("template parsing error", err)
		}
	}
	out.Write(buf.Bytes())
	out.WriteByte('\n')
	return nil
}

// writeJSONArray writes the engine's documents as one JSON array, indented
// by 4 spaces, or compact for --format json, as docker does.
func writeJSONArray(out *bytes.Buffer, raws []json.RawMessage, compact bool) error {
	if len(raws) == 0 {
		out.WriteString("[]\n")
		return nil
	}
	joined := []byte("[")
	for i, r := range raws {
		if i > 0 {
			joined = append(joined, ',')
		}
		joined = append(joined, r...)
	}
	joined = append(joined, ']')
	var err error
	if compact {
		err = json.Compact(out, joined)
	} else {
		err = json.Indent(out, joined, "", "    ")
	}
	if err != nil {
		return err
	}
	out.WriteByte('\n')
	return nil
}
