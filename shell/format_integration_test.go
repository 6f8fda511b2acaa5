package shell

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/dockman/dockman/internal/testenv"
)

// These tests run the same listing through the docker CLI and through
// dockman, on the same containers, images and volumes, and compare what
// both print. The CLI is the reference.

// dockerCLI runs the docker CLI on the test's engine. Without the CLI the
// test is skipped, or fails when CI is set.
func dockerCLI(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	path, err := exec.LookPath("docker")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no docker CLI to compare with (CI is set, so this is a failure rather than a skip)")
		}
		t.Skip("no docker CLI to compare with (skipping; set CI=1 to make this a failure)")
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+testenv.Host())
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		status = exit.ExitCode()
	case err != nil:
		t.Fatalf("docker %q: %v", args, err)
	}
	return o.String(), e.String(), status
}

// clockWords are the parts of a listing that follow the clock ("Up 3
// seconds", "5 minutes ago"): they may tick between the two runs, so
// both sides have them replaced before comparing.
// In a table a tick also changes the padding, and the column's width when
// the cell is its longest: then, and only then, runs of blanks count as one.
var (
	clockWords = regexp.MustCompile(`(Up |Exited \(\d+\) )?(Less than a second|About an? \w+|\d+ \w+)( ago)?`)
	blankRuns  = regexp.MustCompile(` {2,}`)
)

func sameIgnoringClock(a, b string) bool {
	if a == b {
		return true
	}
	ticked := !slices.Equal(clockWords.FindAllString(a, -1), clockWords.FindAllString(b, -1))
	a, b = clockWords.ReplaceAllString(a, "<time>"), clockWords.ReplaceAllString(b, "<time>")
	return a == b || ticked && blankRuns.ReplaceAllString(a, "  ") == blankRuns.ReplaceAllString(b, "  ")
}

// compareWithDocker runs dockman's line and docker's args and fails unless
// both print the same (clock words aside; sorted lines when unordered)
// and exit alike.
func compareWithDocker(t *testing.T, s *session, line string, unordered bool, docker ...string) {
	t.Helper()
	want, wantErr, wantStatus := dockerCLI(t, docker...)
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	err := s.sh.Execute(ctx, line)
	got, gotErr := s.out.take(), s.err.take()
	if unordered {
		got, want = sortLines(got), sortLines(want)
	}
	if status := ExitStatus(err); status != wantStatus {
		t.Errorf("%s: exit %d (stderr %q), docker exits %d (stderr %q)", line, status, gotErr, wantStatus, wantErr)
	}
	if !sameIgnoringClock(got, want) {
		t.Errorf("%s:\n%s\ndocker %q:\n%s", line, got, docker, want)
	}
}

func sortLines(s string) string {
	l := lines(s)
	sort.Strings(l)
	return strings.Join(l, "\n")
}

func TestPsFormatLikeDocker(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sleeper(t, testenv.Name("fmt-up"))
	done := testenv.RunContainer(t, f.c, f.value, testenv.Name("fmt-done"), "sh", "-c", "echo 你好世界你好世界你好世界; exit 3")
	f.wait(t, done, container.WaitConditionNotRunning)
	f.create(t, testenv.Name("fmt-new"), container.Config{Cmd: []string{"true"}, Labels: map[string]string{"com.example.tier": "<front>"}}, container.HostConfig{})
	// Published ports show only on a network: the default bridge, bound to
	// 127.0.0.1, and no traffic is ever sent.
	lo := netip.MustParseAddr("127.0.0.1")
	bindings := network.PortMap{}
	exposed := network.PortSet{}
	// Ports published on their own number collapse into ranges; unusual
	// numbers, as the engine is shared.
	for _, p := range []string{"47310/tcp", "47311/tcp", "47312/tcp", "80/tcp", "47320/udp"} {
		port := network.MustParsePort(p)
		exposed[port] = struct{}{}
		hostPort := port.Port()
		if p == "80/tcp" {
			hostPort = ""
		}
		bindings[port] = []network.PortBinding{{HostIP: lo, HostPort: hostPort}}
	}
	exposed[network.MustParsePort("5000/tcp")] = struct{}{}
	exposed[network.MustParsePort("5001/tcp")] = struct{}{}
	ported := f.create(t, testenv.Name("fmt-ports"), container.Config{Cmd: []string{"sh", "-c", sleeperScript}, ExposedPorts: exposed},
		container.HostConfig{NetworkMode: "bridge", PortBindings: bindings})
	f.start(t, ported)
	s := newSession(f.eng, Options{})
	filter := "label=" + f.label()

	formats := []string{
		`{{.Names}}\t{{.Status}}`,
		`table {{.ID}}\t{{.Names}}`,
		`table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Ports}}\t{{.Names}}\t{{.Label "com.example.tier"}}`,
		`json`,
		`table`,
		`{{.Ports}}`,
		`{{.Size}}`,
		`{{upper .Names}} {{pad .State 1 1}}|{{truncate .Image 5}} {{join (split .Labels ",") ";"}} {{json .Names}}`,
		`{{.ID}} {{.CreatedAt}} {{.Mounts}} {{.LocalVolumes}} {{.Networks}} {{.Platform}} {{.Labels}}`,
		`{{.Foo}}`,
		`{{.Names`,
	}
	for _, format := range formats {
		for _, flags := range [][]string{{"-a"}, {"-a", "-s"}, {"-a", "--no-trunc"}, {"-n", "2"}, {"-l"}, {"-a", "-q"}} {
			line := "ps " + strings.Join(flags, " ") + " -f " + filter + " --format " + shellQuote(format)
			args := append(append([]string{"ps"}, flags...), "-f", filter, "--format", format)
			// Both list in the engine's order.
			compareWithDocker(t, s, line, false, args...)
		}
	}
	compareWithDocker(t, s, "ps -a -s -f "+filter, false, "ps", "-a", "-s", "-f", filter)
}

func TestImagesFormatLikeDocker(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	repo := "dmt-fmt/" + strings.TrimPrefix(testenv.Name("img"), "dmt-")
	id := importImage(t, f.c, repo+":one", f.label())
	ctx := context.Background()
	for _, ref := range []string{repo + ":two", repo + "-other:x"} {
		if _, err := f.c.ImageTag(ctx, client.ImageTagOptions{Source: id, Target: ref}); err != nil {
			t.Fatal(err)
		}
	}
	s := newSession(f.eng, Options{})
	filter := "label=" + f.label()
	formats := []string{
		`{{.Repository}}:{{.Tag}}`,
		`table {{.ID}}\t{{.Repository}}\t{{.Tag}}\t{{.Digest}}`,
		`json`,
		`table`,
		`{{.ID}} {{.Containers}} {{.VirtualSize}} {{.SharedSize}} {{.UniqueSize}} {{.Size}} {{.CreatedAt}} {{.CreatedSince}}`,
		`{{.Foo}}`,
		`{{.Repository`,
	}
	for _, format := range formats {
		for _, flags := range [][]string{{"-f", filter}, {"-q", "-f", filter}, {"--digests", "-f", filter}, {"--no-trunc", "-f", filter}, {repo}, {"-f", "reference=" + repo + "*"}, {"-f", "dangling=false", "-f", filter}} {
			line := "images " + strings.Join(flags, " ") + " --format " + shellQuote(format)
			args := append(append([]string{"images"}, flags...), "--format", format)
			// docker lists an image's repositories in map order.
			compareWithDocker(t, s, line, true, args...)
		}
	}
	compareWithDocker(t, s, "images -q -f "+filter, false, "images", "-q", "-f", filter)
	compareWithDocker(t, s, "images -f bogus=1", false, "images", "-f", "bogus=1")
}

func TestInspectFormatLikeDocker(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	name := testenv.Name("fmt-insp")
	f.sleeper(t, name)
	vol := testenv.Name("fmt-vol")
	ctx := context.Background()
	if _, err := f.c.VolumeCreate(ctx, client.VolumeCreateOptions{Name: vol, Labels: map[string]string{testenv.LabelKey: f.value}}); err != nil {
		t.Fatal(err)
	}
	s := newSession(f.eng, Options{})
	refs := [][]string{{name}, {f.img}, {vol}, {name, "dmt-no-such-thing", vol}, {"--type", "image", name}, {"--type", "volume", vol}, {"--type", "container", f.img}}
	formats := []string{"", "json", `{{.State.Status}}`, `{{.Name}} {{.Id}}`, `{{.Config.Labels}}`, `{{.Created}}`, `{{json .Config.Labels}}`, `{{.Foo}}`, `{{.State`, `{{.Mountpoint}} {{.Driver}} {{.Labels}}`, `{{.Size}} {{.RepoTags}}`}
	for _, format := range formats {
		for _, r := range refs {
			line, args := "inspect", []string{"inspect"}
			if format != "" {
				line += " -f " + shellQuote(format)
				args = append(args, "-f", format)
			}
			line += " " + strings.Join(r, " ")
			args = append(args, r...)
			compareWithDocker(t, s, line, false, args...)
		}
	}
}

// importImage makes a one-file image as ref, labelled, removed (with every
// tag) at cleanup, and returns its ID.
func importImage(t *testing.T, c *client.Client, ref, label string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte("hi\n")); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	resp, err := c.ImageImport(ctx, client.ImageImportSource{Source: &buf, SourceName: "-"}, ref, client.ImageImportOptions{Changes: []string{"LABEL " + label}})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp)
	_ = resp.Close()
	img, err := c.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		if _, err := c.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil {
			t.Errorf("remove image %s: %v", ref, err)
		}
	})
	return img.ID
}
