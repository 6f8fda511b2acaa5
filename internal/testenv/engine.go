package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// defaultLog is where a restarted dockerd writes when the one it
// replaces did not write to a file (the path .ci/run starts it with).
const defaultLog = "/tmp/dockerd.log"

// RestartEngine stops the dockerd that serves Host() with SIGTERM, waits
// for it to exit, starts it again with its own command line, working
// directory and environment in a session of its own (so that it outlives
// the test binary, as one started by hand does), and waits until it
// answers at Host() again. Its output is appended to the file the old
// one wrote to, or to /tmp/dockerd.log.
//
// It is for the fault tests (build tag faulttest): everyone else using
// that engine sees it go away, so it runs on a private engine or on its
// own. The dockerd is picked by the socket in its -H/--host flags, so
// that a private engine next to the host's default one is the one
// restarted; one with no -H serves the default socket. It needs root and
// a dockerd started by hand: one that systemd hands its socket to
// (fd://) is refused.
func RestartEngine(t testing.TB) {
	t.Helper()
	pid, args := engineProcess(t)
	logPath := stdoutFile(pid)
	if logPath == "" {
		logPath = defaultLog
	}
	dir, err := os.Readlink(procPath(pid, "cwd"))
	if err != nil {
		dir = "/"
	}
	env := readNulList(procPath(pid, "environ"))
	t.Logf("testenv: stopping dockerd (pid %d, serves %s): %q", pid, Host(), args)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("testenv: stop dockerd (pid %d): %v", pid, err)
	}
	waitUntil(t, fmt.Sprintf("dockerd (pid %d) to exit", pid), func() bool { return !alive(pid) })

	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatalf("testenv: dockerd's log: %v", err)
	}
	defer log.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testenv: start dockerd again: %v", err)
	}
	// Reaped if it exits while the tests run, so that no zombie is
	// taken for a live engine by the next RestartEngine.
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()

	c, err := client.New(client.FromEnv, client.WithHost(Host()))
	if err != nil {
		t.Fatalf("testenv: client for %s: %v", Host(), err)
	}
	defer c.Close()
	waitUntil(t, "dockerd to answer at "+Host()+" (log: "+logPath+")", func() bool {
		select {
		case <-exited:
			t.Fatalf("testenv: the restarted dockerd exited; see %s", logPath)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := c.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		return err == nil
	})
	t.Logf("testenv: dockerd is back (pid %d, log %s)", cmd.Process.Pid, logPath)
}

// engineProcess finds the dockerd that serves Host(): its pid and its
// command line.
func engineProcess(t testing.TB) (int, []string) {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("testenv: find dockerd: %v", err)
	}
	var seen []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(procPath(pid, "comm"))
		if err != nil || strings.TrimSpace(string(comm)) != "dockerd" || !alive(pid) {
			continue
		}
		args := readNulList(procPath(pid, "cmdline"))
		if len(args) == 0 {
			continue // exited meanwhile
		}
		hosts := engineHosts(args)
		seen = append(seen, fmt.Sprintf("pid %d serving %v", pid, hosts))
		for _, h := range hosts {
			if !sameHost(h, Host()) {
				continue
			}
			if strings.HasPrefix(h, "fd://") {
				t.Fatalf("testenv: dockerd (pid %d) takes its socket from systemd (%s): restart it with systemctl, not RestartEngine", pid, h)
			}
			return pid, args
		}
	}
	t.Fatalf("testenv: no dockerd serves %s (seen: %v)", Host(), seen)
	return 0, nil
}

// engineHosts returns the addresses a dockerd command line listens on:
// its -H and --host flags in every spelling pflag takes, or the default
// socket when it has none. Hosts set in daemon.json are not seen.
func engineHosts(args []string) []string {
	var hosts []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			i = len(args)
		case a == "-H" || a == "--host":
			if i+1 < len(args) {
				hosts = append(hosts, args[i+1])
				i++
			}
		case strings.HasPrefix(a, "--host="):
			hosts = append(hosts, strings.TrimPrefix(a, "--host="))
		case strings.HasPrefix(a, "-H"):
			hosts = append(hosts, strings.TrimPrefix(strings.TrimPrefix(a, "-H"), "="))
		}
	}
	if len(hosts) == 0 {
		hosts = []string{client.DefaultDockerHost}
	}
	return hosts
}

// sameHost reports whether two engine addresses name the same endpoint:
// unix sockets by the file they are (so /run and its /var/run symlink
// agree), others by address. A socket-activated dockerd (fd://) serves
// the default socket.
func sameHost(a, b string) bool {
	na, nb := normalHost(a), normalHost(b)
	if na == nb {
		return true
	}
	pa, oka := strings.CutPrefix(na, "unix://")
	pb, okb := strings.CutPrefix(nb, "unix://")
	if !oka || !okb {
		return false
	}
	sa, err := os.Stat(pa)
	if err != nil {
		return false
	}
	sb, err := os.Stat(pb)
	return err == nil && os.SameFile(sa, sb)
}

// normalHost spells an address as dockerd reads it: a bare host:port is
// tcp, "unix://" alone or "fd://" is the default socket, and a socket's
// path is cleaned.
func normalHost(h string) string {
	switch {
	case h == "unix://" || strings.HasPrefix(h, "fd://"):
		return client.DefaultDockerHost
	case strings.HasPrefix(h, "unix://"):
		return "unix://" + filepath.Clean(strings.TrimPrefix(h, "unix://"))
	case !strings.Contains(h, "://"):
		return "tcp://" + h
	}
	return h
}

// stdoutFile returns the regular file a process writes its stdout to,
// or "" when it writes elsewhere (a pipe, a terminal, /dev/null).
func stdoutFile(pid int) string {
	p, err := os.Readlink(procPath(pid, "fd/1"))
	if err != nil || !strings.HasPrefix(p, "/") || strings.HasSuffix(p, " (deleted)") {
		return ""
	}
	if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	return p
}

// alive reports whether pid is a process that has not exited: a zombie
// has exited, even before its parent reaps it.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(procPath(pid, "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and
	// may hold anything.
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || !strings.HasPrefix(string(stat[i+1:]), " Z")
}

func procPath(pid int, name string) string {
	return filepath.Join("/proc", strconv.Itoa(pid), name)
}

// readNulList reads a /proc file of NUL-terminated strings (cmdline,
// environ); nil when it cannot be read.
func readNulList(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// waitUntil polls ok until it holds, failing the test after opTimeout: a
// dockerd takes up to its shutdown timeout (15 s) to stop its containers
// and exit, and a while to load them again.
func waitUntil(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(opTimeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("testenv: waited %s for %s", opTimeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
