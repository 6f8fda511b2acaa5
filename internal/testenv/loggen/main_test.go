package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// gen runs loggen with args and returns what it wrote to each stream.
func gen(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	if code := run(args, &o, &e, make(chan struct{})); code != 0 {
		t.Fatalf("loggen %v: status %d, stderr %q", args, code, e.String())
	}
	return o.String(), e.String()
}

func TestLines(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		out, err string
	}{
		{"default stream", []string{"-n", "3"}, "loggen out 1\nloggen out 2\nloggen out 3\n", ""},
		{"stderr", []string{"-n", "2", "-streams", "err", "-tag", "db"}, "", "db err 1\ndb err 2\n"},
		{"both alternate", []string{"-n", "5", "-streams", "both", "-tag", "web"},
			"web out 1\nweb out 3\nweb out 5\n", "web err 2\nweb err 4\n"},
		{"empty lines", []string{"-n", "4", "-empty", "2"}, "loggen out 1\nloggen out 2\n\nloggen out 3\nloggen out 4\n\n", ""},
		{"binary", []string{"-n", "2", "-binary", "2"}, "loggen out 1\nloggen out 2 \xff\xfe\xc3(\n", ""},
		{"paced", []string{"-n", "3", "-rate", "1000"}, "loggen out 1\nloggen out 2\nloggen out 3\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := gen(t, tt.args...)
			if out != tt.out || err != tt.err {
				t.Errorf("stdout %q stderr %q, want %q %q", out, err, tt.out, tt.err)
			}
		})
	}
}

func TestOneOutputKeepsOrder(t *testing.T) {
	// As on a TTY: stdout and stderr are one file, so one buffer.
	var b bytes.Buffer
	if code := run([]string{"-n", "3", "-streams", "both"}, &b, &b, nil); code != 0 {
		t.Fatalf("status %d", code)
	}
	if want := "loggen out 1\nloggen err 2\nloggen out 3\n"; b.String() != want {
		t.Errorf("output %q, want %q", b.String(), want)
	}
}

func TestLong(t *testing.T) {
	out, _ := gen(t, "-n", "4", "-long", "2", "-binary", "4")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines", len(lines))
	}
	for i, l := range lines {
		want := len(fmt.Sprintf("loggen out %d", i+1))
		if (i+1)%2 == 0 {
			want = longLen
		}
		if len(l) != want {
			t.Errorf("line %d: %d bytes, want %d", i+1, len(l), want)
		}
	}
	if !strings.HasPrefix(lines[3], "loggen out 4"+binaryMark+" xxx") {
		t.Errorf("line 4 starts %q", lines[3][:30])
	}
}

func TestManyUnpaced(t *testing.T) {
	// More than one buffer's worth: every number once, in order per stream.
	out, errOut := gen(t, "-n", "100000", "-streams", "both")
	for name, s := range map[string]string{"out": out, "err": errOut} {
		want := uint64(1)
		if name == "err" {
			want = 2
		}
		for l := range strings.Lines(s) {
			if got := "loggen " + name + " " + fmt.Sprint(want) + "\n"; l != got {
				t.Fatalf("std%s: %q, want %q", name, l, got)
			}
			want += 2
		}
		if want < 100000 {
			t.Fatalf("std%s ends before %d", name, want)
		}
	}
}

func TestSeqFile(t *testing.T) {
	seq := filepath.Join(t.TempDir(), "seq")
	for _, rate := range []string{"0", "5000"} {
		out, _ := gen(t, "-n", "2", "-seq", seq, "-rate", rate)
		out2, _ := gen(t, "-n", "2", "-seq", seq, "-rate", rate)
		t.Logf("rate %s: %q then %q", rate, out, out2)
		if !strings.HasSuffix(out2, "\n") || out == out2 {
			t.Fatalf("a second run repeats the first: %q %q", out, out2)
		}
	}
	out, _ := gen(t, "-n", "1", "-seq", seq)
	if out != "loggen out 9\n" {
		t.Errorf("fifth run wrote %q, want number 9", out)
	}
}

func TestStopAndHold(t *testing.T) {
	for _, args := range [][]string{
		{"-n", "0"},                  // no end, unpaced
		{"-n", "0", "-rate", "1000"}, // no end, paced
		{"-n", "1", "-hold"},
	} {
		stop := make(chan struct{})
		var o bytes.Buffer
		done := make(chan int)
		go func() { done <- run(args, &o, &bytes.Buffer{}, stop) }()
		close(stop)
		if code := <-done; code != 0 {
			t.Errorf("%v: status %d after stop", args, code)
		}
		if !strings.HasSuffix(o.String(), "\n") && o.Len() > 0 {
			t.Errorf("%v: a line cut short: %q", args, o.String())
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-streams", "all"}, {"-tag", "a b"}, {"-rate", "-1"}, {"extra"}} {
		if code := run(args, &bytes.Buffer{}, &bytes.Buffer{}, nil); code != 2 {
			t.Errorf("%v: status %d, want 2", args, code)
		}
	}
}
