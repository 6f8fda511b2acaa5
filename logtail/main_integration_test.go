package logtail_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/logtail"
	"github.com/dockman/dockman/manager"
)

// keeperDirEnv makes the test binary a keeper process instead of running
// tests: it keeps the logs in that directory until it is killed (or
// SIGTERM stops it cleanly), so that tests can kill it with SIGKILL.
const keeperDirEnv = "DOCKMAN_TEST_KEEPER_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(keeperDirEnv); dir != "" {
		os.Exit(keeperProcess(dir))
	}
	os.Exit(m.Run())
}

func keeperProcess(dir string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := manager.New(testenv.Host())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	k := logtail.New(m, logtail.Options{Dir: dir, Log: log, MaxSize: 64 << 10, MaxFiles: 1000})
	w := m.Watch(log)
	w.Subscribe("logs", k.Handle)
	if err := k.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := w.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	<-ctx.Done()
	w.Stop()
	k.Stop()
	return 0
}
