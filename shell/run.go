package shell

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/spf13/pflag"

	"github.com/dockman/dockman/manager"
)

var runCommand = &Command{
	Name:           "run",
	Usage:          "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
	Summary:        "Create and start a container (always detached); pulls the image if missing",
	Args:           ArgImage,
	MinArgs:        1,
	MaxArgs:        -1,
	NoInterspersed: true,
	Setup: func(fs *pflag.FlagSet) RunFunc {
		o := &runOptions{}
		o.register(fs)
		return func(ctx context.Context, s *Shell, args []string) error {
			spec, err := o.spec(args)
			if err != nil {
				return withStatus(StatusUsage, err)
			}
			// Pull progress goes to stderr, as docker's does, so that
			// id=$(dockman -c 'run ...') captures just the ID.
			id, err := s.eng.Run(ctx, spec, s.err)
			if err != nil {
				if id != "" {
					return withStatus(runStatus(err), fmt.Errorf("container %s created but %w", manager.ShortID(id), err))
				}
				return withStatus(runStatus(err), err)
			}
			fmt.Fprintln(s.out, id)
			return nil
		}
	},
}

// runOptions holds the flags of run, as typed.
type runOptions struct {
	detach     bool
	name       string
	env        []string
	envFiles   []string
	publish    []string
	volumes    []string
	mounts     []string
	labels     []string
	restart    string
	network    string
	aliases    []string
	workdir    string
	user       string
	hostname   string
	entrypoint string
	autoRemove bool
	tty        bool
	// interactive is accepted for docker's muscle memory (-it) and
	// ignored: the shell never attaches to a container.
	interactive bool
	// fs tells which flags were given, for --entrypoint "" (clear it) versus
	// no --entrypoint at all.
	fs *pflag.FlagSet
}

func (o *runOptions) register(fs *pflag.FlagSet) {
	fs.BoolVarP(&o.detach, "detach", "d", true, "Run in the background (always on: the shell never attaches)")
	fs.StringVar(&o.name, "name", "", "Assign a name to the container")
	fs.StringArrayVarP(&o.env, "env", "e", nil, "Set environment variables (KEY=VALUE, or KEY to copy it from this environment)")
	fs.StringArrayVar(&o.envFiles, "env-file", nil, "Read in a file of environment variables")
	fs.StringArrayVarP(&o.publish, "publish", "p", nil, "Publish a container's port(s) to the host ([ip:][hostPort:]containerPort[/proto], ports or ranges)")
	fs.StringArrayVarP(&o.volumes, "volume", "v", nil, "Bind mount a volume (src:dst[:ro])")
	offer(fs, "volume", "@volumes:")
	fs.StringArrayVar(&o.mounts, "mount", nil, "Attach a filesystem mount (type=bind|volume|tmpfs,source=...,target=...[,readonly])")
	fs.StringArrayVarP(&o.labels, "label", "l", nil, "Set metadata on a container (key=value)")
	offer(fs, "label", "@labels=")
	fs.StringVar(&o.restart, "restart", "no", "Restart policy: no, always, unless-stopped, on-failure[:max-retries]")
	offer(fs, "restart", restartPolicies...)
	fs.StringVar(&o.network, "network", "", "Connect a container to a network")
	offer(fs, "network", "@networks")
	fs.StringArrayVar(&o.aliases, "network-alias", nil, "Add a network-scoped alias for the container")
	fs.StringVarP(&o.workdir, "workdir", "w", "", "Working directory inside the container")
	fs.StringVarP(&o.user, "user", "u", "", "Username or UID (format: <name|uid>[:<group|gid>])")
	fs.StringVarP(&o.hostname, "hostname", "h", "", "Container host name")
	fs.StringVar(&o.entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image")
	fs.BoolVar(&o.autoRemove, "rm", false, "Automatically remove the container when it exits")
	fs.BoolVarP(&o.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	fs.BoolVarP(&o.interactive, "interactive", "i", false, "Accepted and ignored: the shell never attaches, so STDIN is not kept open")
	o.fs = fs
}

// spec validates the options and turns them into what the engine takes.
// It is pure but for reading --env-file files.
func (o *runOptions) spec(args []string) (manager.RunSpec, error) {
	img, cmd := args[0], args[1:]
	if img == "" {
		return manager.RunSpec{}, fmt.Errorf("image name is empty")
	}
	cfg := &container.Config{
		Image:      img,
		Hostname:   o.hostname,
		WorkingDir: o.workdir,
		User:       o.user,
		Tty:        o.tty,
		Labels:     map[string]string{},
	}
	if len(cmd) > 0 {
		cfg.Cmd = cmd
	}
	if o.fs.Changed("entrypoint") {
		// An empty --entrypoint "" clears the image's, as in docker.
		cfg.Entrypoint = []string{o.entrypoint}
	}
	env, err := o.environment()
	if err != nil {
		return manager.RunSpec{}, err
	}
	cfg.Env = env
	for _, l := range o.labels {
		k, v, _ := strings.Cut(l, "=")
		if k == "" {
			return manager.RunSpec{}, fmt.Errorf("bad label %q: expected key=value", l)
		}
		cfg.Labels[k] = v
	}
	host := &container.HostConfig{AutoRemove: o.autoRemove, NetworkMode: container.NetworkMode(o.network)}
	if host.RestartPolicy, err = parseRestart(o.restart); err != nil {
		return manager.RunSpec{}, err
	}
	if o.autoRemove && !host.RestartPolicy.IsNone() {
		return manager.RunSpec{}, fmt.Errorf("conflicting options: --restart and --rm")
	}
	if cfg.ExposedPorts, host.PortBindings, err = parsePublish(o.publish); err != nil {
		return manager.RunSpec{}, err
	}
	for _, v := range o.volumes {
		bind, anon, err := parseVolume(v)
		if err != nil {
			return manager.RunSpec{}, err
		}
		if anon != "" {
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[anon] = struct{}{}
			continue
		}
		host.Binds = append(host.Binds, bind)
	}
	for _, m := range o.mounts {
		mt, err := parseMount(m)
		if err != nil {
			return manager.RunSpec{}, err
		}
		host.Mounts = append(host.Mounts, mt)
	}
	var netCfg *network.NetworkingConfig
	if len(o.aliases) > 0 {
		switch o.network {
		case "", "default", "bridge", "host", "none":
			return manager.RunSpec{}, fmt.Errorf("--network-alias needs --network naming a user-defined network")
		}
		netCfg = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
			o.network: {Aliases: o.aliases},
		}}
	}
	return manager.RunSpec{Name: o.name, Config: cfg, Host: host, Network: netCfg}, nil
}

// environment merges --env-file files, then -e flags, as docker does.
func (o *runOptions) environment() ([]string, error) {
	var env []string
	for _, path := range o.envFiles {
		lines, err := readEnvFile(path)
		if err != nil {
			return nil, err
		}
		env = append(env, lines...)
	}
	for _, e := range o.env {
		kv, err := envEntry(e)
		if err != nil {
			return nil, err
		}
		if kv != "" {
			env = append(env, kv)
		}
	}
	return env, nil
}

// envEntry validates a -e flag as docker does: KEY=VALUE as typed (the
// name is not checked beyond being there), and a bare KEY takes its value
// from this process's environment. An unset KEY is passed on bare, as
// docker does: the engine records it in the container's Config.Env and
// leaves it out of the process's environment.
func envEntry(e string) (string, error) {
	k, _, hasValue := strings.Cut(e, "=")
	if k == "" {
		return "", fmt.Errorf("bad environment variable %q: no name", e)
	}
	if hasValue {
		return e, nil
	}
	if v, ok := os.LookupEnv(k); ok {
		return k + "=" + v, nil
	}
	return e, nil
}

// envFileEntry reads one line of an --env-file as docker does: a name with
// blanks in it is refused, and a bare KEY that is unset is dropped.
func envFileEntry(e string) (string, error) {
	k, _, hasValue := strings.Cut(e, "=")
	if strings.TrimSpace(k) == "" {
		return "", fmt.Errorf("bad environment variable %q: no name", e)
	}
	if strings.ContainsAny(k, " \t") {
		return "", fmt.Errorf("bad environment variable %q: name contains whitespace", e)
	}
	if hasValue {
		return e, nil
	}
	if v, ok := os.LookupEnv(k); ok {
		return k + "=" + v, nil
	}
	return "", nil
}

func readEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("env file: %w", err)
	}
	defer f.Close()
	var env []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		// As docker: leading blanks go, trailing ones are part of the value.
		line := strings.TrimLeft(sc.Text(), " \t")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kv, err := envFileEntry(line)
		if err != nil {
			return nil, fmt.Errorf("env file %s line %d: %w", path, n, err)
		}
		if kv != "" {
			env = append(env, kv)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("env file %s: %w", path, err)
	}
	return env, nil
}

// parseRestart reads no, always, unless-stopped or on-failure[:N].
func parseRestart(s string) (container.RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	p := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	switch p.Name {
	case container.RestartPolicyDisabled, container.RestartPolicyAlways, container.RestartPolicyUnlessStopped:
		if hasCount {
			return p, fmt.Errorf("bad restart policy %q: only on-failure takes a retry count", s)
		}
	case container.RestartPolicyOnFailure:
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return p, fmt.Errorf("bad restart policy %q: retry count must be a number >= 0", s)
			}
			p.MaximumRetryCount = n
		}
	case "":
		p.Name = container.RestartPolicyDisabled
	default:
		return p, fmt.Errorf("bad restart policy %q: use no, always, unless-stopped or on-failure[:N]", s)
	}
	return p, nil
}

// parseVolume reads -v src:dst[:opts]. A lone absolute path is an anonymous
// volume, returned as anon.
func parseVolume(v string) (bind, anon string, err error) {
	parts := strings.Split(v, ":")
	switch {
	case len(parts) == 1 && strings.HasPrefix(v, "/"):
		return "", v, nil
	case len(parts) == 2 || len(parts) == 3:
		if parts[0] == "" {
			return "", "", fmt.Errorf("bad volume %q: empty source", v)
		}
		if !strings.HasPrefix(parts[1], "/") {
			return "", "", fmt.Errorf("bad volume %q: destination %q is not an absolute path", v, parts[1])
		}
		if len(parts) == 3 {
			for _, opt := range strings.Split(parts[2], ",") {
				switch opt {
				case "ro", "rw", "z", "Z", "shared", "rshared", "slave", "rslave", "private", "rprivate", "nocopy", "consistent", "cached", "delegated":
				default:
					return "", "", fmt.Errorf("bad volume %q: unknown option %q", v, opt)
				}
			}
		}
		return v, "", nil
	}
	return "", "", fmt.Errorf("bad volume %q: use src:dst[:ro]", v)
}

// parseMount reads a --mount spec: comma-separated key=value pairs.
func parseMount(spec string) (mount.Mount, error) {
	fields, err := csv.NewReader(strings.NewReader(spec)).Read()
	if err != nil {
		return mount.Mount{}, fmt.Errorf("bad mount %q: %v", spec, err)
	}
	m := mount.Mount{Type: mount.TypeVolume}
	for _, f := range fields {
		k, v, hasValue := strings.Cut(strings.TrimSpace(f), "=")
		switch strings.ToLower(k) {
		case "type":
			m.Type = mount.Type(v)
			switch m.Type {
			case mount.TypeBind, mount.TypeVolume, mount.TypeTmpfs:
			default:
				return m, fmt.Errorf("bad mount %q: type must be bind, volume or tmpfs", spec)
			}
		case "source", "src":
			m.Source = v
		case "target", "dst", "destination":
			m.Target = v
		case "readonly", "ro":
			if !hasValue {
				m.ReadOnly = true
				continue
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				return m, fmt.Errorf("bad mount %q: readonly takes true or false", spec)
			}
			m.ReadOnly = b
		default:
			return m, fmt.Errorf("bad mount %q: unknown key %q", spec, k)
		}
	}
	if m.Target == "" {
		return m, fmt.Errorf("bad mount %q: target is required", spec)
	}
	if m.Type == mount.TypeBind && m.Source == "" {
		return m, fmt.Errorf("bad mount %q: a bind mount needs a source", spec)
	}
	if m.Type == mount.TypeTmpfs && m.Source != "" {
		return m, fmt.Errorf("bad mount %q: tmpfs takes no source", spec)
	}
	return m, nil
}

// runStatus is the exit status docker gives a failed run: 127 when the
// container's command does not exist, 126 when it cannot be executed, and
// 125 for everything else (bad flags, a missing image, the engine
// refusing the container).
func runStatus(err error) int {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return StatusNotFound
	case strings.Contains(msg, "permission denied"), strings.Contains(msg, "is a directory"):
		return StatusCannotInvoke
	}
	return StatusUsage
}
