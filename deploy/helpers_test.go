// Package deploy tests the ways the agent is shipped: the compose and Swarm
// files against the image's Dockerfile (config_test.go, in `make test`), and
// the image deployed for real with docker-compose and on a one-node Swarm
// (deploy_test.go, build tag deploytest, `make deploy-test`). The Kubernetes
// manifests have their own module and test in ./kubernetes.
package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const (
	composeFile = "compose.yaml"
	stackFile   = "stack.yaml"
	dockerfile  = "../Dockerfile"
)

// unavailable skips the test locally and fails it when CI is set, as
// internal/testenv does for a missing engine.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this is a failure rather than a skip)", msg)
	}
	t.Skipf("%s (skipping; set CI=1 to make this a failure)", msg)
}

// needTool returns the path of a command the test runs, or skips (fails on
// CI) without it.
func needTool(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		unavailable(t, "no %s in PATH: %s", name, install)
	}
	return p
}

// run runs a command with env added to the test's environment and returns
// its stdout; a failure carries stderr.
func run(ctx context.Context, env []string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// image is what the Dockerfile says about how the agent runs.
type image struct {
	entrypoint, cmd []string
	env             map[string]string
}

// readDockerfile reads the ENTRYPOINT and CMD (exec form) and the ENV
// KEY=VALUE lines of the repository's Dockerfile. (deploy/kubernetes has
// the same reader: it is a module of its own.)
func readDockerfile(t testing.TB) image {
	t.Helper()
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	img := image{env: map[string]string{}}
	for _, line := range strings.Split(string(data), "\n") {
		instr, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch strings.ToUpper(instr) {
		case "ENTRYPOINT", "CMD":
			var v []string
			if err := json.Unmarshal([]byte(rest), &v); err != nil {
				t.Fatalf("%s: %s is not in exec form: %v", dockerfile, instr, err)
			}
			if strings.ToUpper(instr) == "CMD" {
				img.cmd = v
			} else {
				img.entrypoint = v
			}
		case "ENV":
			k, v, ok := strings.Cut(strings.TrimSpace(rest), "=")
			if !ok {
				t.Fatalf("%s: ENV %q: want KEY=VALUE", dockerfile, rest)
			}
			img.env[k] = v
		}
	}
	if len(img.cmd) == 0 || len(img.entrypoint) == 0 {
		t.Fatalf("%s: no ENTRYPOINT or CMD", dockerfile)
	}
	return img
}

// flagValue is the value of the last --name VALUE or --name=VALUE in args.
func flagValue(args []string, name string) string {
	v := ""
	for i, a := range args {
		if a == name && i+1 < len(args) {
			v = args[i+1]
		} else if strings.HasPrefix(a, name+"=") {
			v = strings.TrimPrefix(a, name+"=")
		}
	}
	return v
}
