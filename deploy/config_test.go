package deploy

import (
	"context"
	"encoding/json"
	"os/exec"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// composeConfig is what `docker-compose config` makes of file with env
// set: validated against the compose schema, variables substituted, as
// JSON (docker-compose prints YAML; python3's yaml module, which
// docker-compose itself is built on, turns it into JSON).
func composeConfig(t *testing.T, file string, env ...string) composeService {
	t.Helper()
	needTool(t, "docker-compose", "apt-get install docker-compose")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := run(ctx, env, "docker-compose", "-f", file, "config")
	if err != nil {
		t.Fatalf("docker-compose refuses %s: %v", file, err)
	}
	cmd := exec.CommandContext(ctx, "python3", "-c", "import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)")
	cmd.Stdin = strings.NewReader(out)
	js, err := cmd.Output()
	if err != nil {
		t.Fatalf("converting the config of %s to JSON: %v", file, err)
	}
	var cfg struct {
		Services map[string]composeService `json:"services"`
		Secrets  map[string]struct {
			File     string `json:"file"`
			External bool   `json:"external"`
			Name     string `json:"name"`
		} `json:"secrets"`
		Volumes map[string]any `json:"volumes"`
	}
	if err := json.Unmarshal(js, &cfg); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(cfg.Services) != 1 {
		t.Fatalf("%s: services %v, want the agent alone", file, cfg.Services)
	}
	s, ok := cfg.Services["agent"]
	if !ok {
		t.Fatalf("%s: no service \"agent\"", file)
	}
	s.secretFiles = map[string]string{}
	s.externalSecrets = map[string]string{}
	for name, sec := range cfg.Secrets {
		if sec.External {
			s.externalSecrets[name] = sec.Name
		} else {
			s.secretFiles[name] = sec.File
		}
	}
	s.namedVolumes = cfg.Volumes
	return s
}

// composeService is the part of a normalized compose service the tests read.
type composeService struct {
	Image           string            `json:"image"`
	Command         string            `json:"command"`
	Restart         string            `json:"restart"`
	ReadOnly        bool              `json:"read_only"`
	CapDrop         []string          `json:"cap_drop"`
	Labels          map[string]string `json:"labels"`
	StopGracePeriod string            `json:"stop_grace_period"`
	Ports           json.RawMessage   `json:"ports"`
	Volumes         json.RawMessage   `json:"volumes"`
	Secrets         []struct {
		Source string `json:"source"`
		Target string `json:"target"`
	} `json:"secrets"`
	Deploy struct {
		Mode         string `json:"mode"`
		UpdateConfig struct {
			Order string `json:"order"`
		} `json:"update_config"`
		RestartPolicy struct {
			Condition string `json:"condition"`
		} `json:"restart_policy"`
		Resources struct {
			Limits map[string]any `json:"limits"`
		} `json:"resources"`
	} `json:"deploy"`

	secretFiles     map[string]string // top-level file secrets: name -> file
	externalSecrets map[string]string // top-level external secrets: name -> name in the engine
	namedVolumes    map[string]any
}

// checkCommon checks what both files must agree on with the Dockerfile: the
// command is the image's CMD plus DOCKMAN_AGENT_FLAGS, the token lands where
// DOCKMAN_API_TOKEN_FILE says, the socket is mounted, the state directory is
// a named volume.
func checkCommon(t *testing.T, s composeService, extra []string) (args []string) {
	t.Helper()
	img := readDockerfile(t)
	args = strings.Fields(s.Command)
	if want := append(slices.Clone(img.cmd), extra...); !slices.Equal(args, want) {
		t.Errorf("command %q, want the image's CMD and DOCKMAN_AGENT_FLAGS: %q", args, want)
	}
	if s.Image != "dockman:test" {
		t.Errorf("image %q: DOCKMAN_IMAGE=dockman:test was not used", s.Image)
	}
	tokenFile := img.env["DOCKMAN_API_TOKEN_FILE"]
	if len(s.Secrets) != 1 || path.Join("/run/secrets", s.Secrets[0].Target) != tokenFile {
		t.Errorf("secrets %+v: want one, at the image's DOCKMAN_API_TOKEN_FILE %s", s.Secrets, tokenFile)
	}
	if !s.ReadOnly || !slices.Equal(s.CapDrop, []string{"ALL"}) {
		t.Errorf("read_only %v, cap_drop %v: want a read-only root and no capability", s.ReadOnly, s.CapDrop)
	}
	if d, err := time.ParseDuration(s.StopGracePeriod); err != nil || d < 10*time.Second {
		t.Errorf("stop_grace_period %q: want at least 10s for a clean stop", s.StopGracePeriod)
	}
	// The old agent's container outlives the new agent's start in a
	// compose upgrade: no agent may take it for an intruder.
	if s.Labels["dockman.enforce"] != "ignore" {
		t.Errorf("labels %v: want dockman.enforce=ignore on the agent's container", s.Labels)
	}
	if _, ok := s.namedVolumes["state"]; !ok {
		t.Errorf("no named volume \"state\" (volumes %v)", s.namedVolumes)
	}
	return args
}

func TestComposeFile(t *testing.T) {
	env := []string{"DOCKMAN_IMAGE=dockman:test", "DOCKMAN_LOG_DIR=/srv/logs", "DOCKMAN_API_PORT=18080",
		"DOCKMAN_TOKEN_FILE=/etc/dockman/token", "DOCKMAN_AGENT_FLAGS=--enforce --scope team=web", "DOCKMAN_DOCKER_SOCKET=/run/docker-2.sock"}
	s := composeConfig(t, composeFile, env...)
	args := checkCommon(t, s, []string{"--enforce", "--scope", "team=web"})

	var ports, volumes []string
	if err := json.Unmarshal(s.Ports, &ports); err != nil {
		t.Fatalf("ports %s: %v", s.Ports, err)
	}
	if err := json.Unmarshal(s.Volumes, &volumes); err != nil {
		t.Fatalf("volumes %s: %v", s.Volumes, err)
	}
	api := flagValue(args, "--api")
	_, apiPort, _ := strings.Cut(api, ":")
	if want := []string{"127.0.0.1:18080:" + apiPort + "/tcp"}; !slices.Equal(ports, want) {
		t.Errorf("ports %q, want %q: loopback only, DOCKMAN_API_PORT to the agent's --api %s", ports, want, api)
	}
	for _, want := range []string{
		"/run/docker-2.sock:/var/run/docker.sock:rw",
		"/srv/logs:" + flagValue(args, "--log-dir") + ":rw",
		"state:" + flagValue(args, "--state-dir") + ":rw",
	} {
		if !slices.Contains(volumes, want) {
			t.Errorf("volumes %q: no %q", volumes, want)
		}
	}
	if f := s.secretFiles[s.Secrets[0].Source]; f != "/etc/dockman/token" {
		t.Errorf("the token's secret is file %q: DOCKMAN_TOKEN_FILE=/etc/dockman/token was not used", f)
	}
	if s.Restart != "unless-stopped" {
		t.Errorf("restart %q, want unless-stopped", s.Restart)
	}

	// Without DOCKMAN_AGENT_FLAGS: the image's CMD, enforcement off.
	s = composeConfig(t, composeFile, "DOCKMAN_IMAGE=dockman:test")
	checkCommon(t, s, nil)
}

func TestStackFile(t *testing.T) {
	env := []string{"DOCKMAN_IMAGE=dockman:test", "DOCKMAN_LOG_DIR=/srv/logs", "DOCKMAN_API_PORT=18080",
		"DOCKMAN_API_TOKEN_SECRET=token-2", "DOCKMAN_AGENT_FLAGS=--enforce", "DOCKMAN_DOCKER_SOCKET=/run/docker-2.sock"}
	s := composeConfig(t, stackFile, env...)
	args := checkCommon(t, s, []string{"--enforce"})

	var ports []struct {
		Mode      string `json:"mode"`
		Target    int    `json:"target"`
		Published int    `json:"published"`
	}
	var volumes []struct{ Type, Source, Target string }
	if err := json.Unmarshal(s.Ports, &ports); err != nil {
		t.Fatalf("ports %s: %v", s.Ports, err)
	}
	if err := json.Unmarshal(s.Volumes, &volumes); err != nil {
		t.Fatalf("volumes %s: %v", s.Volumes, err)
	}
	_, apiPort, _ := strings.Cut(flagValue(args, "--api"), ":")
	if len(ports) != 1 || ports[0].Mode != "host" || ports[0].Published != 18080 || apiPort != strconv.Itoa(ports[0].Target) {
		t.Errorf("ports %+v: want one, mode host, published DOCKMAN_API_PORT, to the agent's port %s", ports, apiPort)
	}
	for _, want := range []struct{ Type, Source, Target string }{
		{"bind", "/run/docker-2.sock", "/var/run/docker.sock"},
		{"bind", "/srv/logs", flagValue(args, "--log-dir")},
		{"volume", "state", flagValue(args, "--state-dir")},
	} {
		if !slices.Contains(volumes, want) {
			t.Errorf("volumes %+v: no %+v", volumes, want)
		}
	}
	if name := s.externalSecrets[s.Secrets[0].Source]; name != "token-2" {
		t.Errorf("the token's secret is external secret %q: DOCKMAN_API_TOKEN_SECRET=token-2 was not used", name)
	}
	if s.Deploy.Mode != "global" {
		t.Errorf("deploy.mode %q, want global: one agent per node", s.Deploy.Mode)
	}
	// The host port cannot be held by two tasks of a node: start-first
	// would leave the new task pending.
	if s.Deploy.UpdateConfig.Order != "stop-first" {
		t.Errorf("update_config.order %q, want stop-first (the API's port is a host port)", s.Deploy.UpdateConfig.Order)
	}
	if s.Deploy.RestartPolicy.Condition != "any" {
		t.Errorf("restart_policy.condition %q, want any", s.Deploy.RestartPolicy.Condition)
	}
	if s.Deploy.Resources.Limits["memory"] == nil {
		t.Errorf("no memory limit")
	}
}
