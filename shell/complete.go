package shell

import (
	"slices"
	"sort"
	"strings"

	prompt "github.com/c-bata/go-prompt"
	"github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/logtail"
	"github.com/dockman/dockman/manager"
)

// Completion is what Tab may put in place of the word being typed.
type Completion struct {
	// Start is the byte offset in the line where that word begins: each
	// suggestion's Text replaces the line from Start to the cursor, and
	// already holds what was typed of the word, quotes included.
	Start       int
	Suggestions []prompt.Suggest
}

// Complete returns the completions for line, the text before the cursor.
// It reads the line with the parser that Split uses, and is a pure
// function of the line and the names it knows: it never calls the engine,
// so Tab answers at once even when the engine is slow or gone.
func (c *Completer) Complete(line string) Completion {
	at, ok := readAtCursor(line)
	if !ok {
		return Completion{Start: len(line)}
	}
	cur := at.current
	var out []prompt.Suggest
	for _, s := range filterPrefix(c.candidates(at.words, cur.value), cur.value) {
		s.Text = cur.completeWith(s.Text)
		out = append(out, s)
	}
	return Completion{Start: cur.start, Suggestions: out}
}

// candidates returns the values the word being typed may take, given the
// words of its command before it; current is what was typed of it.
func (c *Completer) candidates(words []string, current string) []prompt.Suggest {
	if len(words) == 0 {
		return commandSuggestions()
	}
	cmd, ok := lookup(words[0])
	if !ok {
		return nil
	}
	if len(cmd.Subcommands) > 0 {
		if len(words) == 1 {
			return subcommandSuggestions(cmd)
		}
		if cmd = cmd.sub(words[1]); cmd == nil {
			return nil
		}
		words = words[1:]
	}
	fs, _ := cmd.flagSet()
	positional, pendingFlag := scanArgs(fs, cmd.NoInterspersed, words[1:])
	if pendingFlag != nil {
		return c.flagValues(pendingFlag, current)
	}
	if strings.HasPrefix(current, "-") && (positional == 0 || !cmd.NoInterspersed) {
		if name, value, hasValue := strings.Cut(current, "="); hasValue {
			if !strings.HasPrefix(name, "--") {
				return nil
			}
			f := fs.Lookup(name[2:])
			if f == nil {
				return nil
			}
			vals := c.flagValues(f, value)
			for i := range vals {
				vals[i].Text = name + "=" + vals[i].Text
			}
			return vals
		}
		return flagSuggestions(fs)
	}
	return c.argSuggestions(cmd, positional)
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
	case ArgLogFile:
		if positional == 0 {
			return c.logFileSuggestions()
		}
	case ArgSnapshotName:
		if c.snapshotNames != nil {
			var out []prompt.Suggest
			for _, n := range c.snapshotNames() {
				out = append(out, prompt.Suggest{Text: n, Description: "in the snapshot"})
			}
			return out
		}
	}
	return nil
}

// subcommandSuggestions offers the words of cmd's subcommands.
func subcommandSuggestions(cmd *Command) []prompt.Suggest {
	var out []prompt.Suggest
	for _, sc := range cmd.Subcommands {
		out = append(out, prompt.Suggest{Text: sc.word(), Description: sc.Summary})
	}
	return out
}

// logFileSuggestions offers the containers known, as containerSuggestions
// does, then the names and short IDs of the log files of containers no
// longer known (removed ones, whose files are kept).
func (c *Completer) logFileSuggestions() []prompt.Suggest {
	names, ids := c.containerNamesAndIDs(nil)
	var files []logtail.FileStatus
	if c.logFiles != nil {
		files, _ = c.logFiles() // none offered when it fails: Tab says nothing of errors
	}
	knownID, knownName := map[string]bool{}, map[string]bool{}
	for _, cc := range c.src.KnownContainers() {
		knownID[cc.ID] = true
		knownName[manager.Name(cc)] = true
	}
	var gone []logtail.FileStatus
	for _, f := range files {
		if !knownID[f.ID] {
			gone = append(gone, f)
		}
	}
	slices.SortFunc(gone, func(a, b logtail.FileStatus) int { return strings.Compare(a.Name, b.Name) })
	var goneNames, goneIDs []prompt.Suggest
	for i, f := range gone {
		if !knownName[f.Name] && (i == 0 || f.Name != gone[i-1].Name) {
			goneNames = append(goneNames, prompt.Suggest{Text: f.Name, Description: string(f.State) + " · log file"})
		}
		goneIDs = append(goneIDs, prompt.Suggest{Text: manager.ShortID(f.ID), Description: f.Name + " · log file"})
	}
	// Names first, then IDs, as for the containers.
	return slices.Concat(names, goneNames, ids, goneIDs)
}

// containerSuggestions offers names (described by image and state) and,
// after them, short IDs, so typing either completes.
func (c *Completer) containerSuggestions(keep func(container.ContainerState) bool) []prompt.Suggest {
	names, ids := c.containerNamesAndIDs(keep)
	return append(names, ids...)
}

// containerNamesAndIDs returns the two parts of containerSuggestions.
func (c *Completer) containerNamesAndIDs(keep func(container.ContainerState) bool) (names, ids []prompt.Suggest) {
	list := c.containers(keep)
	names = make([]prompt.Suggest, 0, 2*len(list))
	for _, cc := range list {
		if cc.Name != "" {
			names = append(names, prompt.Suggest{Text: cc.Name, Description: describe(cc)})
		}
	}
	for _, cc := range list {
		ids = append(ids, prompt.Suggest{Text: manager.ShortID(cc.ID), Description: cc.Name})
	}
	return names, ids
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
		if f.Hidden {
			return
		}
		long = append(long, prompt.Suggest{Text: "--" + f.Name, Description: f.Usage})
		if f.Shorthand != "" {
			short = append(short, prompt.Suggest{Text: "-" + f.Shorthand, Description: f.Usage})
		}
	})
	sort.Slice(long, func(i, j int) bool { return long[i].Text < long[j].Text })
	return append(long, short...)
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
