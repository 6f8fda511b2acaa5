package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/client"
)

const (
	// LogGenRef is the reference LogGenImage makes sure exists.
	LogGenRef = "dockman-test/loggen:latest"

	// logGenPkg is the line generator's package, built into the image.
	logGenPkg = "github.com/dockman/dockman/internal/testenv/loggen"
)

var (
	logGenMu    sync.Mutex
	logGenBin   []byte // the static loggen binary, built once per process
	logGenBuilt bool   // the image built (or verified) by this process
)

// LogGenImage makes sure the image "dockman-test/loggen:latest" exists on
// the engine and returns that reference: BusyboxImage's rootfs plus
// /bin/loggen (internal/testenv/loggen, built with CGO_ENABLED=0 by the go
// command on PATH, which `go test` puts first, once per process) as the
// entrypoint, so a container's command is loggen's flags. An image left by
// an earlier process is reused when its content label matches. Safe for
// concurrent use. Skips the test (fails it on CI) without /bin/busybox or a
// go command; fails it when the build fails.
func LogGenImage(t testing.TB, c *client.Client) string {
	t.Helper()
	logGenMu.Lock()
	defer logGenMu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()

	if logGenBuilt {
		if _, err := c.ImageInspect(ctx, LogGenRef); err == nil {
			return LogGenRef
		}
		logGenBuilt = false // removed behind our back: import again
	}
	if _, err := os.Stat(busyboxPath); err != nil {
		unavailable(t, "no busybox at %s to build the loggen image from: apt-get install busybox-static", busyboxPath)
	}
	if logGenBin == nil {
		goBin, err := goCommand()
		if err != nil {
			unavailable(t, "testenv: %v", err)
		}
		if logGenBin, err = buildLogGen(goBin); err != nil {
			t.Fatalf("testenv: %v", err)
		}
	}
	rootfs, err := rootfsWith(busyboxPath, []rootfsFile{{name: "bin/loggen", mode: 0o755, body: logGenBin}})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if _, err := ensureImage(ctx, c, LogGenRef, rootfs, "dockman testenv loggen", `ENTRYPOINT ["/bin/loggen"]`); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	logGenBuilt = true
	return LogGenRef
}

// goCommand finds the go command: on PATH (go test puts its own GOROOT/bin
// first), else under $GOROOT.
func goCommand() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no go command on PATH nor in $GOROOT/bin to build loggen with")
}

// buildLogGen builds loggen static and reproducibly (the image's content
// label is the hash of what it holds) and returns the binary. It runs in
// the current directory, which under go test is the package's, inside the
// module.
func buildLogGen(goBin string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "dockman-loggen-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "loggen")
	cmd := exec.Command(goBin, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, logGenPkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var msg bytes.Buffer
	cmd.Stdout, cmd.Stderr = &msg, &msg
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("building loggen (%s): %v\n%s", cmd, err, msg.Bytes())
	}
	if err := checkStatic(out); err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}

// loggenFileLine is one of loggen's stdout lines as the log keeper writes
// it: "<timestamp> stdout F loggen out <seq>".
var loggenFileLine = regexp.MustCompile(` stdout F loggen out (\d+)$`)

// CheckLogGenFile checks that a log file's content holds loggen's stdout
// lines 1 to n, each once and in order, and nothing else: none lost, none
// written twice.
func CheckLogGenFile(t testing.TB, content string, n int) {
	t.Helper()
	next := 1
	for _, l := range strings.Split(strings.TrimSuffix(content, "\n"), "\n") {
		m := loggenFileLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected line %q", l)
		}
		if k, _ := strconv.Atoi(m[1]); k != next {
			t.Fatalf("line %d where %d was due: lost or written twice", k, next)
		}
		next++
	}
	if next != n+1 {
		t.Fatalf("%d lines, want %d", next-1, n)
	}
}
