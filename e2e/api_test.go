package e2e

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/dockman/dockman/internal/testenv"
)

// The interactive shell serves the agent's status API with --api while it
// is open: a container started at the prompt shows in /containers, and the
// API closes when the shell ends.
func TestShellServesTheAPI(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	tm := newTerminal(t, "DOCKER_HOST="+testenv.Host())
	tm.startDockman("--no-logs", "--api", addr)
	name := testenv.Name("e2e-api")
	tm.run("run -d --network none --label dockman.test=" + label + " --name " + name + " " + testenv.BusyboxImage(t, c) + " sleep 600")

	get := func(path string) (int, []byte, error) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b, nil
	}
	tm.waitFor("the container in the shell's /containers", func(screen) bool {
		code, body, err := get("/containers/" + name)
		var one struct{ Name, State string }
		return err == nil && code == 200 && json.Unmarshal(body, &one) == nil && one.Name == name && one.State == "running"
	})
	if code, body, _ := get("/metrics"); code != 200 || !strings.Contains(string(body), "dockman_engine_up 1") {
		t.Errorf("/metrics: %d", code)
	}
	tm.sendKeys("C-d")
	tm.waitFor("bash", tm.atBashPrompt)
	if _, _, err := get("/healthz"); err == nil {
		t.Error("the API still answers after the shell ended")
	}
}
