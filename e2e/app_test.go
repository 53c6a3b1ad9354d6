package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// sandboxAPIKey is the key of the built-in sandbox (config.go), which also
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
	logPath    string
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
	shopAddr, sandboxAddr := freeAddr(t), freeAddr(t)
	a := &app{
		URL:        "http://" + shopAddr,
		SandboxURL: "http://" + sandboxAddr,
		DB:         db,
		Artifacts:  artifacts,
		logPath:    filepath.Join(artifacts, "app.log"),
		testName:   t.Name(),
	}

	logFile, err := os.Create(a.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(appBinary)
	// Only what the app needs, so a developer's own DATABASE_URL or
	// ORCHESTRATE_API_KEY never leaks into a test.
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"APP_ENV=development",
		"ADDR=" + shopAddr,
		"METRICS_ADDR=off", // several apps run at once; the browser never scrapes
		"PUBLIC_URL=" + a.URL,
		"DATABASE_URL=" + db.URL,
		"DATABASE_MAX_CONNS=10",
		"ORCHESTRATE_API_KEY=",
		"SANDBOX_ADDR=" + sandboxAddr,
		"SANDBOX_PUBLIC_URL=" + a.SandboxURL,
		"ADMIN_USERNAME=" + adminUser,
		"ADMIN_PASSWORD=" + adminPassword,
		"LOG_LEVEL=info",
		"SHUTDOWN_TIMEOUT=3s",
	}, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting the app: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	t.Cleanup(func() {
		// SIGTERM first: the app shuts down gracefully (and lets go of its
		// database before testdb drops it); kill it if it hangs.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Error("the app did not stop within 10s of SIGTERM; killed it")
		}
		logFile.Close()
		if t.Failed() {
			t.Logf("app log (%s):\n%s", a.logPath, tailFile(a.logPath, 300))
		}
	})

	if err := waitReady(a.URL+"/readyz", exited, 60*time.Second); err != nil {
		t.Fatalf("the app did not become ready: %v\napp log:\n%s", err, tailFile(a.logPath, 100))
	}
	return a
}

// waitReady polls url until it answers 200, the process exits or timeout passes.
func waitReady(url string, exited <-chan error, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the status matters
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s = %d", url, resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %w", timeout, err)
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("the app exited: %v", werr)
		case <-tick.C:
		}
	}
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

// freeAddr returns a loopback address with a port nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
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

// tailFile returns the last n lines of the file at path.
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 2*n {
			lines = lines[len(lines)-n:]
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		lines = append(lines, fmt.Sprintf("(reading the log: %v)", err))
	}
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("… (the first lines are in %s)", path)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
