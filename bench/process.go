package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// appBinary builds the real checkout binary once per run and returns its path.
func (e *env) appBinary(ctx context.Context) (string, error) {
	if e.binary != "" {
		return e.binary, nil
	}
	dir, err := os.MkdirTemp("", "bench-checkout")
	if err != nil {
		return "", err
	}
	e.closers = append(e.closers, func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "checkout")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build the app: %w: %s", err, out)
	}
	e.binary = bin
	return bin, nil
}

// instance is the real app binary running as a child process, configured
// through its environment like in production, talking to orchestrateURL.
type instance struct {
	URL string
	cmd *exec.Cmd
	log *os.File
}

func (e *env) startInstance(ctx context.Context, orchestrateURL string) (*instance, error) {
	bin, err := e.appBinary(ctx)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logFile, err := os.CreateTemp("", "bench-app-*.log")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"APP_ENV=development", "ADDR="+addr, "PUBLIC_URL=http://"+addr, "METRICS_ADDR=off",
		"COOKIE_SECRET="+cookieSecret,
		"DATABASE_URL="+e.dbURL, "DATABASE_MAX_CONNS="+strconv.Itoa(poolSize),
		"ORCHESTRATE_API_KEY="+sandboxKey, "ORCHESTRATE_BASE_URL="+orchestrateURL,
		"ORCHESTRATE_WEBHOOK_SECRET="+webhookSecret, "LOG_LEVEL=info",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	in := &instance{URL: "http://" + addr, cmd: cmd, log: logFile}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(in.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return in, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			in.Stop()
			b, _ := os.ReadFile(logFile.Name())
			return nil, fmt.Errorf("the app did not become ready: %s", tail(string(b), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// PeakRSS is the process's peak resident set size (VmHWM) in bytes.
func (in *instance) PeakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", in.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", in.cmd.Process.Pid)
}

// Stop sends SIGTERM (graceful shutdown) and waits; SIGKILL after 20 s.
func (in *instance) Stop() {
	_ = in.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = in.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = in.cmd.Process.Kill()
		<-done
	}
	in.log.Close()
	os.Remove(in.log.Name())
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
