package apptest_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

var bin apptest.Binary

func TestMain(m *testing.M) {
	code := m.Run()
	bin.Remove()
	os.Exit(code)
}

// answers reports whether the app answers /healthz with 200.
func answers(in *apptest.Instance) bool {
	resp, err := http.Get(in.URL + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestInstanceStopsRestartsAndKills runs one instance through its life: ready,
// stopped by SIGTERM, started again on the same address with the same log,
// killed. The test's own environment must not reach the app: it holds a value
// the app refuses.
func TestInstanceStopsRestartsAndKills(t *testing.T) {
	t.Setenv("ORCHESTRATE_MCC", "not-a-number")
	db := testdb.New(t)
	logPath := filepath.Join(t.TempDir(), "app.log")
	in := apptest.Start(t, &bin, apptest.Options{DatabaseURL: db.URL, LogPath: logPath, Env: []string{
		"ORCHESTRATE_API_KEY=sk_apptest", "ORCHESTRATE_WEBHOOK_SECRET=whsec_apptest", "LOG_LEVEL=info",
	}})
	if !answers(in) {
		t.Fatal("the started app does not answer /healthz")
	}
	if err := in.Stop(); err != nil {
		t.Fatal(err)
	}
	if answers(in) {
		t.Fatal("the app still answers after Stop")
	}
	url := in.URL
	if err := in.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if in.URL != url || !answers(in) {
		t.Fatalf("the restarted app does not answer at %s", url)
	}
	if err := in.Kill(); err != nil {
		t.Fatal(err)
	}
	if answers(in) {
		t.Fatal("the app still answers after Kill")
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// Both runs wrote to the one log; only the Stop shut down gracefully.
	for msg, want := range map[string]int{`msg="checkout started"`: 2, `msg="shutting down" server=shop`: 1} {
		if n := strings.Count(string(log), msg); n != want {
			t.Errorf("the log holds %s %d times, want %d:\n%s", msg, n, want, log)
		}
	}
}

// TestStartReportsAnAppThatExits checks that an app refusing its configuration
// fails Start at once, with the app's own words.
func TestStartReportsAnAppThatExits(t *testing.T) {
	_, err := bin.Start(context.Background(), apptest.Options{
		DatabaseURL: "postgres://nobody@127.0.0.1:1/none",
		Env:         []string{"ORCHESTRATE_MCC=not-a-number"},
	})
	if err == nil {
		t.Fatal("Start returned no error for an app that exits at once")
	}
	for _, want := range []string{"the process exited", "ORCHESTRATE_MCC"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start's error lacks %q:\n%v", want, err)
		}
	}
}
