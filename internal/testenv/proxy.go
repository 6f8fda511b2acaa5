package testenv

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Proxy is a unix-socket relay in front of the engine's socket that a test
// can cut and restore, to play "the engine went away" and "the engine is
// back" without touching the engine every other test shares.
type Proxy struct {
	t      testing.TB
	path   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// NewProxy returns a stopped proxy whose socket lives in a temp dir; Host
// gives the address to hand to a client. Call Start to let traffic through.
func NewProxy(t testing.TB) *Proxy {
	t.Helper()
	target := strings.TrimPrefix(Host(), "unix://")
	if strings.Contains(target, "://") {
		t.Skipf("proxy needs a unix-socket engine, DOCKER_HOST is %s", Host())
	}
	dir, err := os.MkdirTemp("", "dmt-proxy-")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, path: filepath.Join(dir, "docker.sock"), target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() {
		p.Stop()
		os.RemoveAll(dir)
	})
	return p
}

// Host is the proxy's address, as unix:///path.
func (p *Proxy) Host() string { return "unix://" + p.path }

// Start opens the socket and relays every connection to the engine.
func (p *Proxy) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return
	}
	os.Remove(p.path)
	ln, err := net.Listen("unix", p.path)
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.ln = ln
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.relay(c)
		}
	}()
}

// Stop closes the socket and cuts every open connection, as a dying engine
// would, and waits for the relays to end.
func (p *Proxy) Stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	os.Remove(p.path)
}

func (p *Proxy) relay(down net.Conn) {
	up, err := net.Dial("unix", p.target)
	if err != nil {
		down.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // stopped meanwhile
		p.mu.Unlock()
		down.Close()
		up.Close()
		return
	}
	p.conns[down], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		defer p.wg.Done()
		_, _ = io.Copy(dst, src) // errors here are cuts, the proxy's purpose
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}
	p.wg.Add(2)
	go pipe(up, down)
	go pipe(down, up)
}
