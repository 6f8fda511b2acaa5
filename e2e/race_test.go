//go:build race

package e2e

// raceEnabled says the tests run with -race: the dockman binary under test
// is then built with -race too, so a data race in the real shell fails the
// test that triggered it.
const raceEnabled = true
