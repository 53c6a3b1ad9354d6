package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// sandboxAPIKey is the key of the built-in sandbox (internal/app/config.go), which also
// guards its control endpoints (/_sandbox/faults, force expire/complete).
const sandboxAPIKey = "sk_sandbox_dev"

// Admin credentials the app is started with (the development defaults).
const (
	adminUser     = "admin"
	adminPassword = "admin"
)

// app is one running instance of the real app binary with its built-in
// Orchestrate sandbox, on free loopback ports, against a fresh database.
type app struct {
	URL        string // the shop, e.g. http://127.0.0.1:41234
	SandboxURL string // the sandbox's public URL (hosted pages, dashboard)
	DB         *testdb.DB
	Artifacts  string // test-artifacts/e2e/<TestName>: screenshots, app.log, …
	testName   string // the test that started the app
}

// startApp starts the app as `make run` wires it — no ORCHESTRATE_API_KEY, so
// it serves the sandbox in-process on SANDBOX_ADDR and registers its own webhook
// URL there — with env (NAME=value) added, e.g. PAYMENT_EXPIRY=5s or
// SANDBOX_WEBHOOKS_DISABLED=true. It returns once /readyz answers 200, and stops
// the app when the test ends. The app's log goes to app.log in the test's
// artifacts folder and is printed when the test fails.
func startApp(t *testing.T, env ...string) *app {
	t.Helper()
	db := testdb.New(t)
	artifacts := artifactsDir(t)
	sandboxAddr := apptest.FreeAddr(t)
	a := &app{SandboxURL: "http://" + sandboxAddr, DB: db, Artifacts: artifacts, testName: t.Name()}
	in := apptest.Start(t, &appBinary, apptest.Options{
		DatabaseURL: db.URL,
		LogPath:     filepath.Join(artifacts, "app.log"),
		Env: append([]string{
			"DATABASE_MAX_CONNS=10",
			"ORCHESTRATE_API_KEY=",
			"SANDBOX_ADDR=" + sandboxAddr,
			"SANDBOX_PUBLIC_URL=" + a.SandboxURL,
			"ADMIN_USERNAME=" + adminUser,
			"ADMIN_PASSWORD=" + adminPassword,
			"LOG_LEVEL=info",
			"SHUTDOWN_TIMEOUT=3s",
		}, env...),
	})
	a.URL = in.URL
	return a
}

// sandboxControl calls one of the sandbox's operator endpoints (fault knobs,
// force expire/complete) with its API key, and fails the test unless it
// answers 2xx. It returns the body.
func (a *app) sandboxControl(t *testing.T, method, path, body string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.SandboxURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+sandboxAPIKey)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("%s %s = %d %s", method, path, resp.StatusCode, b)
	}
	return string(b)
}

// artifactsDir returns test-artifacts/e2e/<TestName> at the module root, emptied
// of what an earlier run left.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "test-artifacts", "e2e", filepath.FromSlash(t.Name()))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}
