package shell

import (
	"os"
	"slices"
	"syscall"
	"testing"
)

// fakeLine records what a session asks of the line reader.
type fakeLine struct {
	calls     []string
	lateClear bool // a ClearLine the line reader did not take
}

func (f *fakeLine) ClearLine() { f.calls = append(f.calls, "clear") }
func (f *fakeLine) Interrupt() { f.calls = append(f.calls, "interrupt") }
func (f *fakeLine) Resized()   { f.calls = append(f.calls, "resized") }
func (f *fakeLine) DropClear() bool {
	c := f.lateClear
	f.lateClear = false
	return c
}

// TestSessionSignals follows one line's life, prompt to command to prompt,
// with signals landing at each step.
func TestSessionSignals(t *testing.T) {
	type step func(t *testing.T, ss *promptSession, fl *fakeLine) bool
	prompt := func(t *testing.T, ss *promptSession, _ *fakeLine) bool { ss.reading(); return true }
	enter := func(t *testing.T, ss *promptSession, _ *fakeLine) bool { ss.read(true); return true }
	signal := func(sig os.Signal) step {
		return func(t *testing.T, ss *promptSession, _ *fakeLine) bool { ss.signal(sig); return true }
	}
	command := func(t *testing.T, ss *promptSession, _ *fakeLine) bool {
		ran := ss.running(func() {})
		if ran {
			ss.done()
		}
		return ran
	}
	tests := []struct {
		name      string
		lateClear bool
		steps     []step
		wantCalls []string
		wantRan   bool
		wantEnd   os.Signal
	}{
		{"SIGINT at the prompt clears the line", false,
			[]step{prompt, signal(os.Interrupt), enter, command}, []string{"clear"}, true, nil},
		{"SIGINT right after Enter stops the command before it runs", false,
			[]step{prompt, enter, signal(os.Interrupt), command}, nil, false, nil},
		{"a clear the line reader did not take stops the command, not the next line", true,
			[]step{prompt, enter, command}, nil, false, nil},
		{"SIGINT between commands is forgotten when the prompt comes back", false,
			[]step{prompt, enter, command, signal(os.Interrupt), prompt, enter, command}, nil, true, nil},
		{"SIGWINCH asks for a redraw", false,
			[]step{prompt, signal(syscall.SIGWINCH), enter, command}, []string{"resized"}, true, nil},
		{"SIGTERM at the prompt ends the session", false,
			[]step{prompt, signal(syscall.SIGTERM), enter, command}, []string{"interrupt"}, false, syscall.SIGTERM},
		{"SIGHUP after Enter ends the session before the command", false,
			[]step{prompt, enter, signal(syscall.SIGHUP), command}, []string{"interrupt"}, false, syscall.SIGHUP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fl := &fakeLine{lateClear: tt.lateClear}
			ss := &promptSession{lr: fl}
			ran := false
			for _, st := range tt.steps {
				ran = st(t, ss, fl)
			}
			if ran != tt.wantRan {
				t.Errorf("the command ran = %v, want %v", ran, tt.wantRan)
			}
			if !slices.Equal(fl.calls, tt.wantCalls) {
				t.Errorf("asked the line reader %q, want %q", fl.calls, tt.wantCalls)
			}
			if ss.ending != tt.wantEnd {
				t.Errorf("ending = %v, want %v", ss.ending, tt.wantEnd)
			}
		})
	}

	// SIGINT while the command runs cancels it.
	ss := &promptSession{lr: &fakeLine{}}
	ss.reading()
	ss.read(true)
	cancelled := false
	if !ss.running(func() { cancelled = true }) {
		t.Fatal("the command did not run")
	}
	ss.signal(os.Interrupt)
	if !cancelled || !ss.done() {
		t.Error("SIGINT during a command did not cancel it")
	}
}
