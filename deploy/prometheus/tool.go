package prometheus

import (
	"os"
	"os/exec"
	"testing"
)

// LookTool returns the path of the program name (promtool, prometheus),
// or skips the test without it; with the CI environment variable set, a
// missing program fails the test instead (.ci/run installs Debian's
// prometheus package, which has both).
func LookTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("no %s on PATH (apt-get install prometheus); CI is set, so this is a failure rather than a skip", name)
	}
	t.Skipf("no %s on PATH (apt-get install prometheus): skipping; set CI=1 to make this a failure", name)
	return ""
}
