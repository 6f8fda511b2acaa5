package shell

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/manager"
)

// The helpers below are shared by the shell's integration tests, which run
// every command against the real engine (see internal/testenv).

// sleeperScript runs until stopped and exits at once on SIGTERM: the trap
// runs as soon as wait is interrupted, so stop never waits out its timeout.
const sleeperScript = `trap 'exit 0' TERM; sleep 600 & wait`

// sleeperCmd is sleeperScript as the command part of a typed run line.
const sleeperCmd = `sh -c "` + sleeperScript + `"`

// guard bounds every wait of these tests: it is a failure guard against a
// hang, never a timed assertion.
const guard = 2 * time.Minute

var (
	fullIDRE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	shortIDRE = regexp.MustCompile(`^[0-9a-f]{12}$`)
	ansiRE    = regexp.MustCompile(`\x1b\[[0-9;]*m`)
)

// fixture is one test's view of the engine: an SDK client for checks, a
// Manager for the shell, and the test's own label.
type fixture struct {
	c     *client.Client
	eng   *manager.Manager
	value string // this test's value of the testenv label
	img   string // the locally built busybox image
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := testenv.Client(t)
	_, value := testenv.Label(t, c)
	img := testenv.BusyboxImage(t, c)
	mgr, err := manager.New(testenv.Host())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgr.Close() })
	return &fixture{c: c, eng: mgr, value: value, img: img}
}

// label is "dockman.test=<value>", for -l and for label filters.
func (f *fixture) label() string { return testenv.LabelKey + "=" + f.value }

// mine is the ps filter that restricts a listing to this test's containers.
func (f *fixture) mine() string { return " -f label=" + f.label() }

// runOpts are the flags every container a test runs through the shell gets.
func (f *fixture) runOpts() string { return "--network none -l " + f.label() }

// sleeper starts a container of this test that runs until stopped.
func (f *fixture) sleeper(t *testing.T, name string) string {
	t.Helper()
	return testenv.RunContainer(t, f.c, f.value, name, "sh", "-c", sleeperScript)
}

// create makes a container of this test without starting it.
func (f *fixture) create(t *testing.T, name string, cfg container.Config, host container.HostConfig) string {
	t.Helper()
	cfg.Image = f.img
	if cfg.Labels == nil {
		cfg.Labels = map[string]string{}
	}
	cfg.Labels[testenv.LabelKey] = f.value
	if host.NetworkMode == "" {
		host.NetworkMode = "none"
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	res, err := f.c.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: &cfg, HostConfig: &host})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return res.ID
}

func (f *fixture) start(t *testing.T, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if _, err := f.c.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
}

func (f *fixture) inspect(t *testing.T, id string) container.InspectResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	res, err := f.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatalf("inspect %s: %v", id, err)
	}
	return res.Container
}

// exists reports whether the engine still knows the container.
func (f *fixture) exists(t *testing.T, id string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	_, err := f.c.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil && !manager.IsNotFound(err) {
		t.Fatalf("inspect %s: %v", id, err)
	}
	return err == nil
}

// wait blocks until the container meets cond and returns its exit code. A
// container already gone counts as removed.
func (f *fixture) wait(t *testing.T, id string, cond container.WaitCondition) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	w := f.c.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: cond})
	select {
	case r := <-w.Result:
		if r.Error != nil {
			t.Fatalf("wait %s: %s", id, r.Error.Message)
		}
		return r.StatusCode
	case err := <-w.Error:
		if cond == container.WaitConditionRemoved && manager.IsNotFound(err) {
			return 0
		}
		t.Fatalf("wait %s for %s: %v", id, cond, err)
	}
	return -1
}

// ids lists this test's container IDs (all states), as the SDK sees them.
func (f *fixture) ids(t *testing.T) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	res, err := f.c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", f.label())})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range res.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

// syncBuffer is an io.Writer safe to read while a command writes to it.
// first is closed on the first write.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	once  sync.Once
	first chan struct{}
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{first: make(chan struct{})} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.once.Do(func() { close(b.first) })
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// take returns what was written so far and empties the buffer.
func (b *syncBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.b.String()
	b.b.Reset()
	return s
}

// session is a Shell writing to buffers, driven line by line.
type session struct {
	sh       *Shell
	out, err *syncBuffer
}

func newSession(eng Engine, opts Options) *session {
	s := &session{out: newSyncBuffer(), err: newSyncBuffer()}
	opts.Out, opts.Err = s.out, s.err
	s.sh = New(eng, opts)
	return s
}

// result is what one typed line printed, and whether it failed.
type result struct {
	line        string
	out, errOut string
	failed      bool
	err         error // what Execute returned
}

// exec runs one line as typed at the prompt.
func (s *session) exec(t *testing.T, line string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	return s.execCtx(t, ctx, line)
}

// execCtx is exec with the caller's context (to cancel it as Ctrl-C does).
func (s *session) execCtx(t *testing.T, ctx context.Context, line string) result {
	t.Helper()
	err := s.sh.Execute(ctx, line)
	if err != nil && !errors.Is(err, ErrFailed) {
		t.Fatalf("Execute(%q) = %v, want nil or ErrFailed", line, err)
	}
	return result{line: line, out: s.out.take(), errOut: s.err.take(), failed: err != nil, err: err}
}

// ok fails the test unless the line succeeded and printed nothing on stderr.
func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.failed || r.errOut != "" {
		t.Fatalf("%q: failed=%v\nstderr: %s\nstdout: %s", r.line, r.failed, r.errOut, r.out)
	}
	return r
}

// oneError checks that the line failed with exactly one line on stderr,
// starting with "error: " and containing each of wants.
func (r result) oneError(t *testing.T, wants ...string) {
	t.Helper()
	if !r.failed {
		t.Errorf("%q: succeeded, want ErrFailed (stdout %q)", r.line, r.out)
	}
	r.errorLines(t, 1)
	for _, w := range wants {
		if !strings.Contains(r.errOut, w) {
			t.Errorf("%q: stderr %q does not contain %q", r.line, r.errOut, w)
		}
	}
}

// errorLines checks that stderr holds n error lines, each of one shape:
// "error: CMD: ..." when the line's first word is a command, else
// "error: ...". A usage line may follow a flag or argument error.
func (r result) errorLines(t *testing.T, n int) []string {
	t.Helper()
	lines := lines(r.errOut)
	if k := len(lines); k > 0 && strings.HasPrefix(lines[k-1], "usage: ") {
		lines = lines[:k-1]
	}
	if len(lines) != n || !strings.HasSuffix(r.errOut, "\n") {
		t.Errorf("%q: stderr has %d lines, want %d: %q", r.line, len(lines), n, r.errOut)
	}
	prefix := "error: "
	if _, err := Split(r.line); err != nil {
		// not split into commands: no command to name
	} else if words := strings.Fields(r.line); len(words) > 0 && !strings.Contains(r.line, ";") {
		if c, ok := lookup(words[0]); ok {
			prefix += c.Name + ": "
		}
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, prefix) {
			t.Errorf("%q: stderr line %q does not start with %q", r.line, l, prefix)
		}
	}
	return lines
}

// lines splits output into its lines, without the final newline.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// table is a rendered table split into cells at the header's column starts.
type table struct {
	header []string
	starts []int // rune offset of each column
	rows   [][]string
	raw    []string // the lines as printed, ANSI escapes removed
}

var columnGap = regexp.MustCompile(`\S+( \S+)*`)

// parseTable splits text (header line, then rows) into cells. Header names
// hold at most single spaces ("CONTAINER ID"), columns are apart by more.
// Each cell must start exactly at its header's column.
func parseTable(t *testing.T, text string) table {
	t.Helper()
	ls := lines(ansiRE.ReplaceAllString(text, ""))
	if len(ls) == 0 {
		t.Fatalf("no table in %q", text)
	}
	var tb table
	tb.raw = ls
	for _, loc := range columnGap.FindAllStringIndex(ls[0], -1) {
		tb.header = append(tb.header, ls[0][loc[0]:loc[1]])
		tb.starts = append(tb.starts, len([]rune(ls[0][:loc[0]])))
	}
	for _, l := range ls[1:] {
		r := []rune(l)
		row := make([]string, len(tb.starts))
		for i, start := range tb.starts {
			if start > len(r) {
				continue
			}
			if start > 0 && r[start-1] != ' ' {
				t.Errorf("row %q: column %s does not start at offset %d", l, tb.header[i], start)
			}
			end := len(r)
			if i+1 < len(tb.starts) && tb.starts[i+1] < end {
				end = tb.starts[i+1]
			}
			cell := string(r[start:end])
			if strings.HasPrefix(cell, " ") && strings.TrimSpace(cell) != "" {
				t.Errorf("row %q: cell %q of column %s is not aligned with its header", l, cell, tb.header[i])
			}
			row[i] = strings.TrimSpace(cell)
		}
		tb.rows = append(tb.rows, row)
	}
	return tb
}

// col returns the index of a header.
func (tb table) col(t *testing.T, name string) int {
	t.Helper()
	for i, h := range tb.header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in header %q", name, tb.header)
	return -1
}

// rowWith returns the row whose column name holds value.
func (tb table) rowWith(t *testing.T, column, value string) []string {
	t.Helper()
	i := tb.col(t, column)
	for _, r := range tb.rows {
		if r[i] == value {
			return r
		}
	}
	t.Fatalf("no row with %s=%q in\n%s", column, value, strings.Join(tb.raw, "\n"))
	return nil
}

// shellQuote quotes s as one word for Split.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
