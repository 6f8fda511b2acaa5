package enforce

import (
	"bufio"
	"bytes"
	"os"
	"strings"
)

// DetectSelf returns the ID of the Docker container this process runs
// in, or "" when it runs in none: enforcement must never remove its own
// container, whatever the snapshot says.
func DetectSelf() string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	return selfFromMountinfo(b)
}

// selfFromMountinfo finds the container whose /etc/hostname the engine
// bind-mounted from its own directory, .../containers/<id>/hostname:
// unlike cgroup paths, that holds for cgroup v1 and v2 and whatever the
// engine's cgroup driver.
func selfFromMountinfo(mountinfo []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(mountinfo))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[4] != "/etc/hostname" {
			continue
		}
		root := f[3] // the path within the mounted filesystem
		parts := strings.Split(strings.TrimSuffix(root, "/hostname"), "/")
		if len(parts) < 2 || parts[len(parts)-2] != "containers" {
			continue
		}
		if id := parts[len(parts)-1]; isHexID(id) {
			return id
		}
	}
	return ""
}

func isHexID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}
