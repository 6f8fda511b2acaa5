// Package prometheus holds what dockman ships for Prometheus: the
// alerting rules (alerts.yaml, with their promtool unit tests in
// alerts.test.yaml) and the means to check them and the Grafana dashboard
// against what the agent exports: a reader of the metric names a PromQL
// expression selects, and the families the standard Go and process
// collectors add to the agent's own.
//
// Nothing here runs in the agent: the package exists for the tests of
// deploy/prometheus, deploy/grafana and the metrics package.
package prometheus

import (
	"fmt"
	"slices"
	"strings"
)

// tokenKind tells the tokens of a PromQL expression apart.
type tokenKind int

const (
	tokIdent  tokenKind = iota // a metric, label, function or keyword name
	tokString                  // a quoted string, quotes included
	tokNumber                  // a number or a duration (5m, 1e-3, 0x1f)
	tokVar                     // a Grafana variable: $name, ${name}, ${name:fmt}
	tokPunct                   // brackets, commas, operators
)

type token struct {
	kind tokenKind
	text string
}

// aggregators are PromQL's aggregation operators, which may be followed
// by a grouping clause before their parenthesis: sum by (le) (...).
var aggregators = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true,
	"stddev": true, "stdvar": true, "count": true, "count_values": true,
	"bottomk": true, "topk": true, "quantile": true, "limitk": true,
	"limit_ratio": true,
}

// grouping are the keywords whose parenthesis lists label names.
var grouping = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true,
}

// keywords are the other words that are never metric names: the set and
// comparison operators, offset, and the number literals.
var keywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true,
	"atan2": true, "inf": true, "nan": true,
}

// Selector is one metric a PromQL expression selects, and the functions
// and aggregation operators it is an argument of, outermost first: in
// histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m]))) x_bucket is
// in [histogram_quantile sum rate].
type Selector struct {
	Name  string
	Funcs []string
}

// MetricNames returns the metric names expr selects, each once, in the
// order they first appear (see Selectors).
func MetricNames(expr string) ([]string, error) {
	sels, err := Selectors(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range sels {
		if !slices.Contains(names, s.Name) {
			names = append(names, s.Name)
		}
	}
	return names, nil
}

// Selectors returns the metrics expr selects, in order, with the
// functions around each: every name that is not a function, an
// aggregation operator, a keyword, a label name (inside {...} or a
// by/without/on/ignoring/group_left/group_right list) or a Grafana
// variable ($__rate_interval, ${instance}). A selector by
// {__name__="..."} names its metric too. Series names are returned as
// written: a histogram's dockman_x_bucket stays so (Families.Family maps
// it to its family).
//
// It reads PromQL as Grafana sends it, variables and all, and checks only
// what it needs to: balanced brackets and closed strings. Grafana's
// label_values(METRIC{...}, label) variable queries are read as their
// first argument.
func Selectors(expr string) ([]Selector, error) {
	expr = labelValuesArg(expr)
	toks, err := tokenize(expr)
	if err != nil {
		return nil, err
	}
	type open struct {
		bracket string // "(", "{", "[", or "L(" for a label list
		fn      string // the function or operator a "(" calls, if any
	}
	var (
		sels    []Selector
		stack   []open
		labels  bool   // the next "(" opens a label list
		pending string // the function the next "(" calls
	)
	inside := func(b string) bool { return len(stack) > 0 && stack[len(stack)-1].bracket == b }
	funcs := func() []string {
		var fs []string
		for _, o := range stack {
			if o.fn != "" {
				fs = append(fs, o.fn)
			}
		}
		return fs
	}
	for i, t := range toks {
		next := token{}
		if i+1 < len(toks) {
			next = toks[i+1]
		}
		switch t.kind {
		case tokPunct:
			switch t.text {
			case "(":
				switch {
				case labels:
					stack = append(stack, open{bracket: "L("})
				default:
					stack = append(stack, open{bracket: "(", fn: pending})
					pending = ""
				}
				labels = false
			case "{", "[":
				stack = append(stack, open{bracket: t.text})
			case ")", "}", "]":
				want := map[string]string{")": "(", "}": "{", "]": "["}[t.text]
				top := ""
				if len(stack) > 0 {
					top = strings.TrimPrefix(stack[len(stack)-1].bracket, "L")
				}
				if top != want {
					return nil, fmt.Errorf("unbalanced %q at token %d in %q", t.text, i, expr)
				}
				stack = stack[:len(stack)-1]
			}
		case tokIdent:
			lower := strings.ToLower(t.text)
			switch {
			case inside("{"):
				// A label name; __name__="x" selects metric x.
				if t.text == "__name__" && i+2 < len(toks) && next.text == "=" && toks[i+2].kind == tokString {
					sels = append(sels, Selector{Name: unquote(toks[i+2].text), Funcs: funcs()})
				}
			case inside("L("):
				// A label name in a grouping list.
			case inside("["):
				// Inside a range or a subquery: durations only.
			case grouping[lower]:
				labels = next.text == "("
			case next.text == "(":
				pending = lower
			case aggregators[lower] && (next.kind == tokIdent && grouping[strings.ToLower(next.text)]):
				// sum by (...) (...): the operator's "(" comes after the list.
				pending = lower
			case keywords[lower]:
			default:
				sels = append(sels, Selector{Name: t.text, Funcs: funcs()})
			}
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("unclosed %q in %q", strings.TrimPrefix(stack[len(stack)-1].bracket, "L"), expr)
	}
	return sels, nil
}

// labelValuesArg returns the first argument of a Grafana variable query
// label_values(expr, label), else expr unchanged.
func labelValuesArg(expr string) string {
	s := strings.TrimSpace(expr)
	inner, ok := strings.CutPrefix(s, "label_values(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return expr
	}
	inner = strings.TrimSuffix(inner, ")")
	// The label is the last argument; a selector's matchers may hold
	// commas, but not after its closing brace.
	if i := strings.LastIndexByte(inner, ','); i > strings.LastIndexByte(inner, '}') {
		return inner[:i]
	}
	return inner
}

// tokenize splits expr into PromQL tokens, Grafana variables included.
func tokenize(expr string) ([]token, error) {
	var toks []token
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for ; j < len(expr) && expr[j] != c; j++ {
				if expr[j] == '\\' && c != '`' {
					j++
				}
			}
			if j >= len(expr) {
				return nil, fmt.Errorf("unterminated string at %d in %q", i, expr)
			}
			toks = append(toks, token{tokString, expr[i : j+1]})
			i = j + 1
		case c == '$':
			j := i + 1
			if j < len(expr) && expr[j] == '{' {
				k := strings.IndexByte(expr[j:], '}')
				if k < 0 {
					return nil, fmt.Errorf("unclosed ${ at %d in %q", i, expr)
				}
				j += k + 1
			} else {
				for j < len(expr) && isIdentChar(expr[j], false) {
					j++
				}
			}
			if j == i+1 {
				return nil, fmt.Errorf("lone $ at %d in %q", i, expr)
			}
			toks = append(toks, token{tokVar, expr[i:j]})
			i = j
		case isDigit(c) || (c == '.' && i+1 < len(expr) && isDigit(expr[i+1])):
			j := i
			for j < len(expr) && (isIdentChar(expr[j], false) || expr[j] == '.') {
				// 1e-3: the sign belongs to the exponent.
				if (expr[j] == 'e' || expr[j] == 'E') && j+1 < len(expr) && (expr[j+1] == '+' || expr[j+1] == '-') && !strings.HasPrefix(strings.ToLower(expr[i:]), "0x") {
					j++
				}
				j++
			}
			toks = append(toks, token{tokNumber, expr[i:j]})
			i = j
		case isIdentChar(c, false) && !isDigit(c):
			j := i
			for j < len(expr) && isIdentChar(expr[j], true) {
				j++
			}
			toks = append(toks, token{tokIdent, expr[i:j]})
			i = j
		default:
			n := 1
			if i+1 < len(expr) {
				switch expr[i : i+2] {
				case "==", "!=", "=~", "!~", ">=", "<=":
					n = 2
				}
			}
			if !strings.ContainsRune("(){}[],=<>!~+-*/%^@:", rune(c)) {
				return nil, fmt.Errorf("unexpected %q at %d in %q", c, i, expr)
			}
			toks = append(toks, token{tokPunct, expr[i : i+n]})
			i += n
		}
	}
	return toks, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isIdentChar reports whether c may be part of a name; colons are allowed
// in metric names (recording rules) only.
func isIdentChar(c byte, colon bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || (colon && c == ':')
}

// unquote strips a PromQL string's quotes (escapes are left: metric names
// hold none).
func unquote(s string) string {
	if len(s) >= 2 {
		return s[1 : len(s)-1]
	}
	return s
}
