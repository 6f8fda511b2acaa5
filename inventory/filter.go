package inventory

import (
	"regexp"
	"strings"

	"github.com/moby/moby/api/types/container"
)

// compileFilters turns the filters the inventory can evaluate into one
// predicate, with the engine's semantics: values of one key are ORed, keys
// are ANDed; name and id are regular expressions matched anywhere (the name
// against "/name"), label is key or key=value. Any other key, or a bad
// expression, makes it decline so the engine answers (and reports errors).
func compileFilters(f map[string][]string) (func(Container) bool, bool) {
	var preds []func(Container) bool
	for key, vals := range f {
		var alts []func(Container) bool
		for _, v := range vals {
			switch key {
			case "name":
				re, err := regexp.Compile(v)
				if err != nil {
					return nil, false
				}
				// The engine tries both "/web" and "web".
				alts = append(alts, func(c Container) bool {
					for _, n := range c.Names {
						if re.MatchString(n) || re.MatchString(strings.TrimPrefix(n, "/")) {
							return true
						}
					}
					return false
				})
			case "id":
				// A plain prefix for the engine, not an expression.
				alts = append(alts, func(c Container) bool { return strings.HasPrefix(c.ID, v) })
			case "label":
				// Every label value must hold (AND), unlike other keys.
				k, val, hasVal := strings.Cut(v, "=")
				preds = append(preds, func(c Container) bool {
					got, ok := c.Labels[k]
					return ok && (!hasVal || got == val)
				})
			case "status":
				switch container.ContainerState(v) {
				case container.StateCreated, container.StateRunning, container.StatePaused, container.StateRestarting,
					container.StateRemoving, container.StateExited, container.StateDead:
				default:
					return nil, false // let the engine say what is wrong
				}
				alts = append(alts, func(c Container) bool { return string(c.State) == v })
			default:
				return nil, false
			}
		}
		if len(alts) == 0 {
			continue // label: its values went to preds one by one
		}
		preds = append(preds, func(c Container) bool {
			for _, p := range alts {
				if p(c) {
					return true
				}
			}
			return false
		})
	}
	return func(c Container) bool {
		for _, p := range preds {
			if !p(c) {
				return false
			}
		}
		return true
	}, true
}
