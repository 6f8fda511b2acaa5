package enforce

import "testing"

func TestSelfFromMountinfo(t *testing.T) {
	const id = "2f7152cf33e045e630d3a60d8f69f105157dfb673a50903f67a2d70e7aeb3d34"
	inContainer := `113 95 0:58 / / rw,relatime master:37 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X
130 113 254:0 /var/lib/docker/containers/` + id + `/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw
131 113 254:0 /var/lib/docker/containers/` + id + `/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw
`
	onHost := `22 27 0:21 / /proc rw,relatime - proc proc rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw
`
	// Another data root, and a hostname file that is not the engine's.
	otherRoot := `131 113 254:0 /srv/docker/containers/` + id + `/hostname /etc/hostname rw - ext4 /dev/vda rw
`
	notDocker := `131 113 254:0 /var/lib/kubelet/pods/abc/etc-hosts /etc/hostname rw - ext4 /dev/vda rw
`
	for _, tc := range []struct {
		name, in, want string
	}{
		{"in a container", inContainer, id},
		{"on the host", onHost, ""},
		{"another data root", otherRoot, id},
		{"not docker's", notDocker, ""},
	} {
		if got := selfFromMountinfo([]byte(tc.in)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
