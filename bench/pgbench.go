package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// pgbenchResult is one pgbench run.
type pgbenchResult struct {
	TPS     float64
	Latency time.Duration // average per transaction
}

var (
	tpsRe     = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	latencyRe = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
	lagRe     = regexp.MustCompile(`rate limit schedule lag: avg ([0-9.]+)`)
)

// pgbench runs script (pgbench's own script language) against the bench database
// with clients connections for about d (whole seconds, at least one), using
// prepared statements like pgx does.
func (e *env) pgbench(ctx context.Context, script string, clients int, d time.Duration) (pgbenchResult, error) {
	return e.pgbenchAt(ctx, script, clients, d, 0)
}

// pgbenchAt is pgbench throttled to rate transactions per second in all (0: as
// fast as it can). A throttled run's latency leaves out the schedule lag, so it
// is the transaction's own, as at that rate.
func (e *env) pgbenchAt(ctx context.Context, script string, clients int, d time.Duration, rate int) (pgbenchResult, error) {
	dir, err := os.MkdirTemp("", "bench-pgbench")
	if err != nil {
		return pgbenchResult{}, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "script.sql")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		return pgbenchResult{}, err
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	threads := min(clients, 2)
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(threads),
		"-T", strconv.Itoa(secs), "-f", file}
	if rate > 0 {
		args = append(args, "-R", strconv.Itoa(rate))
	}
	cmd := exec.CommandContext(ctx, pgbenchPath(), append(args, e.dbURL)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return pgbenchResult{}, fmt.Errorf("pgbench: %w: %s", err, out)
	}
	t := tpsRe.FindSubmatch(out)
	l := latencyRe.FindSubmatch(out)
	if t == nil || l == nil {
		return pgbenchResult{}, fmt.Errorf("pgbench: unexpected output: %s", out)
	}
	tps, _ := strconv.ParseFloat(string(t[1]), 64)
	lat, _ := strconv.ParseFloat(string(l[1]), 64)
	if lag := lagRe.FindSubmatch(out); rate > 0 && lag != nil {
		v, _ := strconv.ParseFloat(string(lag[1]), 64)
		lat -= v
	}
	return pgbenchResult{TPS: tps, Latency: time.Duration(lat * float64(time.Millisecond))}, nil
}

// pgbenchMedian runs pgbench opts.runs times and returns the median tps and latency.
func (e *env) pgbenchMedian(ctx context.Context, script string, clients int) (pgbenchResult, error) {
	return e.pgbenchMedianAt(ctx, script, clients, 0)
}

// pgbenchMedianAt is pgbenchMedian throttled to rate transactions per second.
func (e *env) pgbenchMedianAt(ctx context.Context, script string, clients, rate int) (pgbenchResult, error) {
	var tps, lat []float64
	for range e.opts.runs {
		r, err := e.pgbenchAt(ctx, script, clients, e.opts.dur, rate)
		if err != nil {
			return pgbenchResult{}, err
		}
		tps = append(tps, r.TPS)
		lat = append(lat, float64(r.Latency))
	}
	return pgbenchResult{TPS: median(tps), Latency: time.Duration(median(lat))}, nil
}

// pgbenchPath is PGBENCH, or pgbench on PATH, or the Debian location.
func pgbenchPath() string {
	if p := os.Getenv("PGBENCH"); p != "" {
		return p
	}
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p
	}
	return "/usr/bin/pgbench"
}
