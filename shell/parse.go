package shell

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Split turns one typed line into commands, each a list of words, the way a
// POSIX shell would: quotes and backslash escapes group words, `;` and
// newlines separate commands, `#` starts a comment, and $VAR expands from the
// environment. Pipes, redirections, && and || and command substitution are
// refused with a clear error rather than half-supported.
func Split(line string) ([][]string, error) {
	f, err := newParser().Parse(strings.NewReader(line), "")
	if err != nil {
		return nil, fmt.Errorf("cannot parse line: %s", parseMessage(err))
	}
	cfg := expandConfig()
	var cmds [][]string
	for _, st := range f.Stmts {
		words, err := stmtWords(cfg, st)
		if err != nil {
			return nil, err
		}
		if len(words) > 0 {
			cmds = append(cmds, words)
		}
	}
	return cmds, nil
}

// newParser returns the parser of the command language, with extra options
// (completion adds error recovery to read a half-typed line the same way).
func newParser(opts ...syntax.ParserOption) *syntax.Parser {
	return syntax.NewParser(append([]syntax.ParserOption{syntax.Variant(syntax.LangPOSIX)}, opts...)...)
}

// expandConfig expands $VAR from this process's environment, with no
// globbing and no command substitution.
func expandConfig() *expand.Config {
	return &expand.Config{Env: expand.ListEnviron(os.Environ()...)}
}

func stmtWords(cfg *expand.Config, st *syntax.Stmt) ([]string, error) {
	call, err := simpleCall(st)
	if err != nil || call == nil {
		return nil, err
	}
	words, err := expand.Fields(cfg, call.Args...)
	if err != nil {
		return nil, fmt.Errorf("cannot parse line: %s", parseMessage(err))
	}
	return words, nil
}

// simpleCall is the one rule of what the command language runs: a plain
// command and its words. It returns the command (nil for an empty
// statement), or why the statement is refused. Execution (Split) and
// completion (readAtCursor) both read lines through it, so Tab never
// offers what Enter would refuse.
func simpleCall(st *syntax.Stmt) (*syntax.CallExpr, error) {
	switch {
	case st.Background:
		return nil, errors.New("cannot parse line: '&' is not supported, containers always run detached")
	case st.Negated:
		return nil, errors.New("cannot parse line: '!' is not supported")
	case len(st.Redirs) > 0:
		return nil, errors.New("cannot parse line: redirections are not supported")
	}
	if st.Cmd == nil {
		return nil, nil
	}
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok {
		return nil, errors.New("cannot parse line: only simple commands separated by ';' are supported (no pipes, &&, ||, loops or functions)")
	}
	if len(call.Assigns) > 0 {
		return nil, errors.New("cannot parse line: variable assignments are not supported")
	}
	return call, nil
}

// parseMessage keeps the parser's own wording but drops its "1:5: " and
// " at 1:6" positions, which mean nothing on a one-line prompt.
func parseMessage(err error) string {
	var pe syntax.ParseError
	if errors.As(err, &pe) {
		return position.ReplaceAllString(pe.Text, "")
	}
	return position.ReplaceAllString(err.Error(), "")
}

var position = regexp.MustCompile(`^\d+:\d+: | at \d+:\d+`)
