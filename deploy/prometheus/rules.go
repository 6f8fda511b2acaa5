package prometheus

import (
	_ "embed"
	"fmt"
	"strings"
)

// Alerts is alerts.yaml, the alerting rules docs/monitoring.md describes.
//
//go:embed alerts.yaml
var Alerts []byte

// Rule is one rule of a rules file: its alert (or record) name and its
// expression.
type Rule struct {
	Name string
	Expr string
}

// ReadRules returns the rules of a Prometheus rules file in order. It
// reads the subset of YAML that alerts.yaml is written in, which promtool
// checks in full: each rule a list item starting "- alert: NAME" or
// "- record: NAME", its "expr:" on one line, plain or quoted without
// escapes. Anything else it cannot read for sure (a block scalar, an
// expr before its name, a rule without one) is an error.
func ReadRules(data []byte) ([]Rule, error) {
	var rules []Rule
	open := false // the last rule has no expr yet
	for n, line := range strings.Split(string(data), "\n") {
		s := strings.TrimSpace(line)
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if name, ok := cutKey(strings.TrimPrefix(s, "- "), "alert", "record"); ok && strings.HasPrefix(s, "- ") {
			if open {
				return nil, fmt.Errorf("line %d: rule %s has no expr", n+1, rules[len(rules)-1].Name)
			}
			rules = append(rules, Rule{Name: name})
			open = true
			continue
		}
		expr, ok := cutKey(strings.TrimPrefix(s, "- "), "expr")
		if !ok {
			continue
		}
		switch {
		case !open:
			return nil, fmt.Errorf("line %d: expr before any alert or record name", n+1)
		case expr == "" || strings.HasPrefix(expr, "|") || strings.HasPrefix(expr, ">"):
			return nil, fmt.Errorf("line %d: %s's expr is not on one line", n+1, rules[len(rules)-1].Name)
		}
		if q := expr[0]; q == '"' || q == '\'' {
			if len(expr) < 2 || expr[len(expr)-1] != q || strings.ContainsRune(expr[1:len(expr)-1], '\\') {
				return nil, fmt.Errorf("line %d: %s's expr is quoted in a way this reader does not take", n+1, rules[len(rules)-1].Name)
			}
			expr = expr[1 : len(expr)-1]
		}
		rules[len(rules)-1].Expr = expr
		open = false
	}
	if open {
		return nil, fmt.Errorf("rule %s has no expr", rules[len(rules)-1].Name)
	}
	return rules, nil
}

// cutKey returns the value of a "key: value" line whose key is one of
// keys.
func cutKey(s string, keys ...string) (string, bool) {
	for _, k := range keys {
		if v, ok := strings.CutPrefix(s, k+":"); ok {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}
