// Package manager is dockman's adapter to the Docker engine, and the only
// code that talks to it: the SDK (github.com/moby/moby/client) behind a few
// domain-level calls (containers, images, networks, volumes, logs, create
// specs), one clear
// error for an engine that cannot be reached, and the event Watcher that
// every background part subscribes to. The shell, the inventory, the log
// keeper and the enforcer never see HTTP, API versions or stream framing.
package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// DefaultHost is the engine address used when neither --host nor DOCKER_HOST
// names one.
const DefaultHost = client.DefaultDockerHost

// Manager is a connection to one Docker engine. It is safe for concurrent use.
// Creating it does not contact the engine: the API version is negotiated on
// the first request, and again after a failed one, so a Manager made while the
// engine is down starts working as soon as the engine is back.
type Manager struct {
	api  engineAPI
	host string
}

// engineAPI is the part of the Docker SDK the manager uses; *client.Client
// provides it. Keeping it this narrow shows what dockman asks of the engine
// and lets the manager's own logic be tested with a fake.
type engineAPI interface {
	ContainerList(ctx context.Context, opts client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerInspect(ctx context.Context, id string, opts client.ContainerInspectOptions) (client.ContainerInspectResult, error)
	ContainerCreate(ctx context.Context, opts client.ContainerCreateOptions) (client.ContainerCreateResult, error)
	ContainerStart(ctx context.Context, id string, opts client.ContainerStartOptions) (client.ContainerStartResult, error)
	ContainerStop(ctx context.Context, id string, opts client.ContainerStopOptions) (client.ContainerStopResult, error)
	ContainerRestart(ctx context.Context, id string, opts client.ContainerRestartOptions) (client.ContainerRestartResult, error)
	ContainerRemove(ctx context.Context, id string, opts client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	ContainerLogs(ctx context.Context, id string, opts client.ContainerLogsOptions) (client.ContainerLogsResult, error)
	ContainerUnpause(ctx context.Context, id string, opts client.ContainerUnpauseOptions) (client.ContainerUnpauseResult, error)
	NetworkConnect(ctx context.Context, network string, opts client.NetworkConnectOptions) (client.NetworkConnectResult, error)
	ImageList(ctx context.Context, opts client.ImageListOptions) (client.ImageListResult, error)
	ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (client.ImageInspectResult, error)
	ImagePull(ctx context.Context, ref string, opts client.ImagePullOptions) (client.ImagePullResponse, error)
	VolumeInspect(ctx context.Context, name string, opts client.VolumeInspectOptions) (client.VolumeInspectResult, error)
	NetworkList(ctx context.Context, opts client.NetworkListOptions) (client.NetworkListResult, error)
	VolumeList(ctx context.Context, opts client.VolumeListOptions) (client.VolumeListResult, error)
	Events(ctx context.Context, opts client.EventsListOptions) client.EventsResult
	ServerVersion(ctx context.Context, opts client.ServerVersionOptions) (client.ServerVersionResult, error)
	ClientVersion() string
	Close() error
}

var _ engineAPI = (*client.Client)(nil)

// New returns a Manager for the engine at host. An empty host means
// DOCKER_HOST, else the default socket. TLS settings come from
// DOCKER_TLS_VERIFY and DOCKER_CERT_PATH as with the docker CLI.
func New(host string) (*Manager, error) {
	if host == "" {
		host = os.Getenv("DOCKER_HOST")
	}
	if host == "" {
		host = DefaultHost
	}
	if scheme, _, ok := strings.Cut(host, "://"); !ok || (scheme != "unix" && scheme != "tcp" && scheme != "http" && scheme != "https") {
		return nil, fmt.Errorf("docker host %q: use unix:///path/to/docker.sock or tcp://host:port", host)
	}
	api, err := client.New(
		client.WithTLSClientConfigFromEnv(),
		client.WithHost(host),
		client.WithUserAgent("dockman"),
	)
	if err != nil {
		return nil, fmt.Errorf("docker host %q: %w", host, err)
	}
	return &Manager{api: api, host: host}, nil
}

// Host returns the engine address this Manager talks to.
func (m *Manager) Host() string { return m.host }

// Close releases the connections held to the engine.
func (m *Manager) Close() error { return m.api.Close() }

// Ping checks that the engine answers and returns its version.
func (m *Manager) Ping(ctx context.Context) (string, error) {
	v, err := m.api.ServerVersion(ctx, client.ServerVersionOptions{})
	if err != nil {
		return "", m.wrap(err)
	}
	return v.Version, nil
}

// ErrUnreachable is matched (errors.Is) by every error caused by the engine
// not answering, so callers can tell "engine down" from "bad request".
var ErrUnreachable = errors.New("docker engine unreachable")

type unreachableError struct {
	host  string
	cause error
}

func (e *unreachableError) Error() string {
	// The SDK drops the cause's type but keeps its words.
	if errors.Is(e.cause, fs.ErrPermission) || (e.cause != nil && strings.Contains(e.cause.Error(), "permission denied")) {
		return fmt.Sprintf("cannot reach the Docker engine at %s: permission denied (run as root or join the docker group)", e.host)
	}
	return fmt.Sprintf("cannot reach the Docker engine at %s: is dockerd running?", e.host)
}

func (e *unreachableError) Is(target error) bool { return target == ErrUnreachable }
func (e *unreachableError) Unwrap() error        { return e.cause }

// wrap turns the SDK's connection failures into one clear line that names
// the address tried; other errors pass through untouched.
func (m *Manager) wrap(err error) error {
	if err == nil {
		return nil
	}
	if client.IsErrConnectionFailed(err) {
		return &unreachableError{host: m.host, cause: err}
	}
	if msg, ok := strings.CutPrefix(err.Error(), daemonPrefix); ok {
		return &daemonError{msg: msg, err: err}
	}
	return err
}

// wrapIn is wrap for a failed step of a larger call, named by step
// ("create container"). An unreachable engine is returned as it is: it
// says all there is, and the step adds nothing to it.
func (m *Manager) wrapIn(step string, err error) error {
	err = m.wrap(err)
	if err == nil || errors.Is(err, ErrUnreachable) {
		return err
	}
	return fmt.Errorf("%s: %w", step, err)
}

// daemonPrefix starts the SDK's words for every error the engine answers
// with. dockman's error lines already say which command failed and on
// what; the daemon's own message is what is left to say.
const daemonPrefix = "Error response from daemon: "

// daemonError is an error the engine answered with, worded without
// daemonPrefix; errors.Is and errdefs checks still see the SDK's error.
type daemonError struct {
	msg string
	err error
}

func (e *daemonError) Error() string { return e.msg }
func (e *daemonError) Unwrap() error { return e.err }

// IsNotFound reports whether err says that a container or image does not exist.
func IsNotFound(err error) bool { return cerrdefs.IsNotFound(err) }

// wrapStream is wrap for the error that ends a long-lived stream (events, a
// log follow) while its context is live: the engine never ends those on its
// own, so an end, clean or not, means the engine went away.
func (m *Manager) wrapStream(err error) error {
	var nerr net.Error
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &nerr) {
		return &unreachableError{host: m.host, cause: err}
	}
	return m.wrap(err)
}
