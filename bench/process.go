package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
)

// startInstance starts the real app binary as a child process on a free port,
// configured through its environment as in production, against the bench
// database and talking to orchestrateURL. Close stops it.
func (e *env) startInstance(ctx context.Context, orchestrateURL string) (*apptest.Instance, error) {
	return e.startInstanceOn(ctx, orchestrateURL, e.dbURL)
}

// startInstanceOn is startInstance reaching the bench database at dbURL (a
// pooler's, say), with env (NAME=value) overriding appEnv.
func (e *env) startInstanceOn(ctx context.Context, orchestrateURL, dbURL string, env ...string) (*apptest.Instance, error) {
	return e.binary.Start(ctx, apptest.Options{
		DatabaseURL: dbURL,
		Env:         append(appEnv(orchestrateURL), env...),
		StopTimeout: 20 * time.Second,
	})
}

// peakRSS is the running instance's peak resident set size (VmHWM) in bytes.
func peakRSS(in *apptest.Instance) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", in.Pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", in.Pid())
}
