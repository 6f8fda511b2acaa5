package logtail_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/logtail"
)

// syncBuffer is a bytes.Buffer a process writes to while the test reads.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { b := &syncBuffer{mu: make(chan struct{}, 1)}; return b }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return bytes.Clone(b.buf.Bytes())
}

// Rotation is what `tail -F` (GNU coreutils) follows: started on the
// first file, it prints every line of every file the keeper rotates
// through, each once.
func TestTailFFollowsRotation(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	dir := t.TempDir()
	startKeeper(t, dir, logtail.Options{MaxSize: 16 << 10, MaxFiles: 1000})
	// Created, not started: its (empty) file is there before any line,
	// and tail -F begins with it.
	ctx := context.Background()
	created, err := c.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name: testenv.Name("logs-tailf"),
		Config: &container.Config{Image: testenv.BusyboxImage(t, c), Cmd: []string{"sh", "-c", counter},
			Labels: map[string]string{testenv.LabelKey: label}},
		HostConfig: &container.HostConfig{NetworkMode: "none"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := created.ID
	t.Cleanup(func() { _, _ = c.ContainerRemove(context.Background(), id, client.ContainerRemoveOptions{Force: true}) })
	var path string
	waitFor(t, "the new container's file", func() bool { path = filePath(t, dir, id); return path != "" })
	out := newSyncBuffer()
	tail := exec.Command("tail", "-n", "+1", "-F", path)
	tail.Stdout = out
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tail.Process.Kill(); _ = tail.Wait() })
	if _, err := c.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	waitGrows(t, dir, id, 200<<10)
	stopContainer(t, c, id)
	waitSame(t, c, dir, id, false)

	var all []byte
	for i := 1000; i >= 1; i-- {
		if b, err := os.ReadFile(path + "." + strconv.Itoa(i)); err == nil {
			all = append(all, b...)
		}
	}
	cur, _ := os.ReadFile(path)
	all = append(all, cur...)
	waitFor(t, "tail -F to print every line of every file", func() bool { return bytes.Equal(out.Bytes(), all) })
}
