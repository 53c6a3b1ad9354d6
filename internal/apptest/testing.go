package apptest

import (
	"context"
	"os"
	"testing"
)

// Start starts an instance of b for the test t, which fails if it cannot.
// When the test ends the instance is closed — an app that does not stop within
// StopTimeout of SIGTERM fails the test — and if the test failed its log is
// printed: whole when it is a temporary file, else its last 300 lines.
func Start(t testing.TB, b *Binary, o Options) *Instance {
	t.Helper()
	in, err := b.Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := in.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() && in.tempLog {
			log, err := os.ReadFile(in.LogPath)
			if err != nil {
				log = []byte(err.Error())
			}
			t.Logf("%s:\n%s", in.logName(), log)
		} else if t.Failed() {
			t.Logf("%s:\n%s", in.logName(), tailFile(in.LogPath, 300))
		}
		in.Close() //nolint:errcheck // stopped above
	})
	return in
}
