package shell

import (
	"sort"
	"strings"

	prompt "github.com/c-bata/go-prompt"
	"github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/manager"
)

// Complete returns the suggestions for the text before the cursor. It is a
// pure function of that text and the names it knows: it never calls the
// engine, so Tab answers at once even when the engine is slow or gone.
func (c *Completer) Complete(before string) []prompt.Suggest {
	// Only the last ;-separated command matters.
	if i := strings.LastIndexByte(before, ';'); i >= 0 {
		before = before[i+1:]
	}
	words := fieldsLenient(before)
	current := ""
	if len(words) > 0 && !endsInSpace(before) {
		current, words = words[len(words)-1], words[:len(words)-1]
	}
	if len(words) == 0 {
		return filterPrefix(commandSuggestions(), current)
	}
	cmd, ok := lookup(words[0])
	if !ok {
		return nil
	}
	fs, _ := cmd.flagSet()
	positional, pendingFlag := scanArgs(fs, cmd.NoInterspersed, words[1:])
	if pendingFlag != nil {
		return filterPrefix(flagValueSuggestions(cmd.Name, pendingFlag.Name), current)
	}
	if strings.HasPrefix(current, "-") && (positional == 0 || !cmd.NoInterspersed) {
		if name, _, hasValue := strings.Cut(current, "="); hasValue {
			flagName := strings.TrimLeft(name, "-")
			vals := flagValueSuggestions(cmd.Name, flagName)
			for i := range vals {
				vals[i].Text = name + "=" + vals[i].Text
			}
			return filterPrefix(vals, current)
		}
		return filterPrefix(flagSuggestions(fs), current)
	}
	return filterPrefix(c.argSuggestions(cmd, positional), current)
}

// scanArgs walks the words after the command name and counts positional
// arguments. pending is the flag still waiting for its value, if the last
// word is a flag that takes one.
func scanArgs(fs *pflag.FlagSet, stopAtFirstArg bool, words []string) (positional int, pending *pflag.Flag) {
	for i := 0; i < len(words); i++ {
		w := words[i]
		if w == "--" || (stopAtFirstArg && positional > 0) {
			positional += len(words) - i
			if w == "--" {
				positional--
			}
			return positional, nil
		}
		if !strings.HasPrefix(w, "-") || w == "-" {
			positional++
			continue
		}
		if strings.Contains(w, "=") {
			continue
		}
		var f *pflag.Flag
		if strings.HasPrefix(w, "--") {
			f = fs.Lookup(w[2:])
		} else if first := fs.ShorthandLookup(w[1:2]); len(w) > 2 && first != nil && takesValue(first) {
			continue // -t5: the value is attached
		} else {
			f = fs.ShorthandLookup(w[len(w)-1:]) // -ab: only the last may take a value
		}
		if f != nil && takesValue(f) {
			if i == len(words)-1 {
				return positional, f
			}
			i++ // skip its value
		}
	}
	return positional, nil
}

func takesValue(f *pflag.Flag) bool { return f.NoOptDefVal == "" }

func (c *Completer) argSuggestions(cmd *Command, positional int) []prompt.Suggest {
	switch cmd.Args {
	case ArgCommand:
		if positional == 0 {
			return commandSuggestions()
		}
	case ArgImage:
		if positional == 0 {
			var out []prompt.Suggest
			for _, name := range c.Images() {
				out = append(out, prompt.Suggest{Text: name, Description: "image"})
			}
			return out
		}
	case ArgRunningContainer:
		return c.containerSuggestions(manager.IsUp)
	case ArgStoppedContainer:
		return c.containerSuggestions(func(s container.ContainerState) bool { return !manager.IsUp(s) })
	case ArgAnyContainer:
		if cmd.MaxArgs < 0 || positional < cmd.MaxArgs {
			return c.containerSuggestions(nil)
		}
	}
	return nil
}

// containerSuggestions offers names (described by image and state) and,
// after them, short IDs, so typing either completes.
func (c *Completer) containerSuggestions(keep func(container.ContainerState) bool) []prompt.Suggest {
	list := c.containers(keep)
	out := make([]prompt.Suggest, 0, 2*len(list))
	for _, cc := range list {
		if cc.Name != "" {
			out = append(out, prompt.Suggest{Text: cc.Name, Description: describe(cc)})
		}
	}
	for _, cc := range list {
		out = append(out, prompt.Suggest{Text: manager.ShortID(cc.ID), Description: cc.Name})
	}
	return out
}

func describe(cc knownContainer) string {
	if cc.Image == "" {
		return string(cc.State)
	}
	return string(cc.State) + " · " + cc.Image
}

func commandSuggestions() []prompt.Suggest {
	var out []prompt.Suggest
	for _, c := range commands {
		out = append(out, prompt.Suggest{Text: c.Name, Description: c.Summary})
	}
	return out
}

func flagSuggestions(fs *pflag.FlagSet) []prompt.Suggest {
	var long, short []prompt.Suggest
	fs.VisitAll(func(f *pflag.Flag) {
		long = append(long, prompt.Suggest{Text: "--" + f.Name, Description: f.Usage})
		if f.Shorthand != "" {
			short = append(short, prompt.Suggest{Text: "-" + f.Shorthand, Description: f.Usage})
		}
	})
	sort.Slice(long, func(i, j int) bool { return long[i].Text < long[j].Text })
	return append(long, short...)
}

// flagValueSuggestions knows the closed sets of values some flags take.
func flagValueSuggestions(cmd, flag string) []prompt.Suggest {
	switch flag {
	case "format":
		return []prompt.Suggest{{Text: "table", Description: "aligned columns"}, {Text: "json", Description: "one JSON object per line"}}
	case "restart":
		return []prompt.Suggest{
			{Text: "no", Description: "never restart"},
			{Text: "always", Description: "always restart"},
			{Text: "unless-stopped", Description: "restart unless stopped by hand"},
			{Text: "on-failure", Description: "restart on non-zero exit (on-failure:N caps retries)"},
		}
	case "filter", "f":
		if cmd == "ps" {
			var out []prompt.Suggest
			for _, k := range psFilterKeys {
				out = append(out, prompt.Suggest{Text: k + "=", Description: "filter by " + k})
			}
			return out
		}
	}
	return nil
}

func filterPrefix(s []prompt.Suggest, prefix string) []prompt.Suggest {
	if prefix == "" {
		return s
	}
	out := s[:0:0]
	for _, x := range s {
		if strings.HasPrefix(x.Text, prefix) {
			out = append(out, x)
		}
	}
	return out
}

func endsInSpace(s string) bool {
	return s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t')
}

// fieldsLenient splits a partly typed line into words, honouring quotes and
// backslashes but never failing: an open quote simply runs to the end, as the
// user is still typing it.
func fieldsLenient(s string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}
