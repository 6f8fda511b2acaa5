package shell

import (
	"slices"
	"sort"
	"strings"

	prompt "github.com/c-bata/go-prompt"
	"github.com/spf13/pflag"
)

// valuesAnnotation is the pflag annotation that holds what Tab offers as a
// flag's value. The values live on the flag itself, set next to its
// definition, so that the command table is the one place that says what a
// command takes: dispatch, help and completion read the same flags.
const valuesAnnotation = "dockman/values"

// offer sets what Tab offers as the value of the flag name, set on the line
// after the flag's definition. Each value is one of:
//
//	"table"               the word itself
//	"table\taligned ..."  the word, with a description after a tab
//	"@networks"           every name a source knows (see sourceNames)
//	"@volumes:"           every name of a source, each followed by ":"
//	                      (or "=": "@labels=")
//	"status=running"      a KEY=VALUE pair: Tab offers the keys ("status=")
//	"name=@containers"    first, then the values of the key typed
//
// It panics on a flag not defined: a mistake in the command table that
// every test of completion runs into.
func offer(fs *pflag.FlagSet, name string, values ...string) {
	if err := fs.SetAnnotation(name, valuesAnnotation, values); err != nil {
		panic("offer: " + err.Error())
	}
}

// Values that several flags offer.
var (
	formatValues = []string{"table\taligned columns", "json\tone JSON object per line"}

	restartPolicies = []string{
		"no\tnever restart",
		"always\talways restart",
		"unless-stopped\trestart unless stopped by hand",
		"on-failure\trestart on non-zero exit (on-failure:N caps retries)",
	}

	// containerStates are the states a container can be in, the values of
	// ps's status filter.
	containerStates = []string{"created", "restarting", "running", "removing", "paused", "exited", "dead"}

	signals = []string{"SIGTERM", "SIGKILL", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"}

	// psFilterValues is what ps -f offers: every key the engine knows, and
	// for those that name something, the names known.
	psFilterValues = keyValues(psFilterKeys, map[string][]string{
		"ancestor": {"@images"},
		"before":   {"@containers"},
		"since":    {"@containers"},
		"health":   {"starting", "healthy", "unhealthy", "none"},
		"is-task":  {"true", "false"},
		"label":    {"@labels"},
		"name":     {"@containers"},
		"network":  {"@networks"},
		"status":   containerStates,
		"volume":   {"@volumes"},
	})

	// imageFilterValues is what images -f offers.
	imageFilterValues = keyValues(imageFilterKeys, map[string][]string{
		"before":    {"@images"},
		"dangling":  {"true", "false"},
		"reference": {"@images"},
		"since":     {"@images"},
	})
)

// keyValues spells KEY=VALUE values for offer: every key, with its values
// where it has some, else alone ("expose=").
func keyValues(keys []string, values map[string][]string) []string {
	var out []string
	for _, k := range keys {
		if len(values[k]) == 0 {
			out = append(out, k+"=")
		}
		for _, v := range values[k] {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// valueSpec is one value of offer, read.
type valueSpec struct {
	key         string // "status" in "status=running"; "" when not a pair
	text        string // the word, or the source's prefix ("name=" in "name=@containers")
	source      string // "containers" in "@containers"; "" for a word
	suffix      string // ":" in "@volumes:"
	description string
}

func parseValueSpec(s string) valueSpec {
	var v valueSpec
	s, v.description, _ = strings.Cut(s, "\t")
	word, source, hasSource := strings.Cut(s, "@")
	if k, _, ok := strings.Cut(word, "="); ok {
		v.key = k
	}
	v.text = word
	if hasSource {
		n := strings.IndexFunc(source, func(r rune) bool { return r < 'a' || r > 'z' })
		if n < 0 {
			n = len(source)
		}
		v.source, v.suffix = source[:n], source[n:]
	}
	return v
}

// flagValues returns what Tab offers as the value of f, given the value
// typed so far (typed narrows KEY=VALUE flags to the key typed).
func (c *Completer) flagValues(f *pflag.Flag, typed string) []prompt.Suggest {
	var specs []valueSpec
	keyed := false
	for _, s := range f.Annotations[valuesAnnotation] {
		v := parseValueSpec(s)
		specs = append(specs, v)
		keyed = keyed || v.key != ""
	}
	typedKey, _, typedPair := strings.Cut(typed, "=")
	if keyed && !typedPair {
		return keysOf(specs)
	}
	var out []prompt.Suggest
	for _, v := range specs {
		if keyed && v.key != typedKey {
			continue
		}
		if v.source == "" {
			if !keyed || v.text != v.key+"=" { // a key with no values offers none
				out = append(out, prompt.Suggest{Text: v.text, Description: v.description})
			}
			continue
		}
		for _, name := range c.sourceNames(v.source) {
			out = append(out, prompt.Suggest{Text: v.text + name.Text + v.suffix, Description: name.Description})
		}
	}
	return out
}

// keysOf returns the distinct "KEY=" of KEY=VALUE specs, in order.
func keysOf(specs []valueSpec) []prompt.Suggest {
	var out []prompt.Suggest
	seen := map[string]bool{}
	for _, v := range specs {
		if v.key != "" && !seen[v.key] {
			seen[v.key] = true
			out = append(out, prompt.Suggest{Text: v.key + "=", Description: "by " + v.key})
		}
	}
	return out
}

// sourceNames returns the names a source of flag values knows, from
// memory: "containers" (names), "images" (tags), "networks", "volumes",
// "labels" (the label keys of known containers).
func (c *Completer) sourceNames(source string) []prompt.Suggest {
	var out []prompt.Suggest
	add := func(names []string, description string) {
		for _, n := range names {
			out = append(out, prompt.Suggest{Text: n, Description: description})
		}
	}
	switch source {
	case "containers":
		for _, cc := range c.containers(nil) {
			if cc.Name != "" {
				out = append(out, prompt.Suggest{Text: cc.Name, Description: describe(cc)})
			}
		}
	case "images":
		add(c.Images(), "image")
	case "networks":
		add(c.src.Networks(), "network")
	case "volumes":
		add(c.src.Volumes(), "volume")
	case "labels":
		add(c.labelKeys(), "label")
	}
	return out
}

// labelKeys returns the label keys the known containers carry.
func (c *Completer) labelKeys() []string {
	var keys []string
	for _, cc := range c.src.KnownContainers() {
		for k := range cc.Labels {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return slices.Compact(keys)
}
