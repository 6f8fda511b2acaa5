package shell

import (
	"errors"
	"strings"
)

// Exit statuses, as the docker CLI gives them.
const (
	// StatusFailed is a command that ran and failed (no such container,
	// the engine refused to stop one, ...).
	StatusFailed = 1
	// StatusUsage is dockman itself failing before the operation: a bad
	// flag or flag value, and every failure of run, as docker reports them.
	StatusUsage = 125
	// StatusCannotInvoke is run's container command that exists but
	// cannot be executed (permission denied, a directory).
	StatusCannotInvoke = 126
	// StatusNotFound is run's container command that does not exist.
	StatusNotFound = 127
	// StatusInterrupted is a command cut short by Ctrl-C (128+SIGINT).
	StatusInterrupted = 130
)

// StatusError is a failure with the exit status docker would give it.
type StatusError struct {
	Status int
	Err    error
}

func (e *StatusError) Error() string { return e.Err.Error() }
func (e *StatusError) Unwrap() error { return e.Err }

// withStatus gives err the exit status code; nil stays nil.
func withStatus(code int, err error) error {
	if err == nil {
		return nil
	}
	return &StatusError{Status: code, Err: err}
}

// ExitStatus is the exit status a failure gives: 0 for nil, the status of
// the outermost StatusError in err's chain, else StatusFailed.
func ExitStatus(err error) int {
	if err == nil {
		return 0
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Status
	}
	return StatusFailed
}

// commandError is a command's failure as the user sees it: every line of
// the error names the command, and a usage error adds the command's
// usage line, as docker does after a flag error.
type commandError struct {
	cmd   string
	usage string // set for usage errors
	err   error
}

func (e *commandError) Error() string {
	lines := strings.Split(strings.TrimRight(e.err.Error(), "\n"), "\n")
	for i, l := range lines {
		lines[i] = e.cmd + ": " + l
	}
	return strings.Join(lines, "\n")
}

func (e *commandError) Unwrap() error { return e.err }

// usageError is a flag or argument error: it prints the command's usage
// line after the error, and exits with status.
func usageError(c *Command, status int, err error) error {
	return &commandError{cmd: c.Name, usage: c.Usage, err: withStatus(status, err)}
}
