package logtail_test

import (
	"testing"

	"github.com/dockman/dockman/internal/testenv"
	"github.com/dockman/dockman/logtail"
)

// mixed writes on both streams: numbered lines, empty lines, a 40,000-byte
// line the engine splits into 16 KiB pieces, bytes that are not UTF-8, and
// a last line without a newline (which the engine stores when the
// container ends).
const mixed = `i=0
while [ $i -lt 300 ]; do
  echo "out $i"; echo "err $i" >&2
  if [ $((i % 50)) = 7 ]; then echo; head -c 40000 /dev/zero | tr '\0' x; echo " long $i"; fi
  if [ $((i % 60)) = 9 ]; then printf 'bin \377\376\375 %d\n' $i >&2; fi
  i=$((i+1))
done
printf 'no newline'`

func TestKeepsEveryLineOnce(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	dir := t.TempDir()
	startKeeper(t, dir, logtail.Options{})
	id := testenv.RunContainer(t, c, label, testenv.Name("logs-mixed"), "sh", "-c", mixed)
	waitEngine(t, c, id, false, "no newline")
	waitSame(t, c, dir, id, false)
}

// A TTY container's raw stream (both streams merged, "\r\n" line ends,
// partial pieces with no separator but the next stamp) is kept as exactly.
func TestKeepsTTYLog(t *testing.T) {
	c := testenv.Client(t)
	_, label := testenv.Label(t, c)
	dir := t.TempDir()
	startKeeper(t, dir, logtail.Options{})
	id := runTTY(t, c, label, testenv.Name("logs-tty"), "sh", "-c", mixed)
	waitEngine(t, c, id, true, "no newline")
	waitSame(t, c, dir, id, true)
}
