// Command bench is `make bench`: every performance claim of the checkout measured
// side by side against its physical baseline, in one process run on one machine
// (issue #8). It prints one table and writes it, with the machine and database
// settings and the method, to docs/BENCHMARKS.md.
//
//	go run ./bench -server postgres://postgres@127.0.0.1:54320/postgres
//
// -only B3,B1 (or BENCH_ONLY) runs a subset, whose rows replace theirs in the
// report (the other rows are kept, and a line says when the subset ran); -quick
// (or BENCH_QUICK=1) shortens every run for development (a quick subset leaves
// the report alone).
// scripts/bench.sh finds PostgreSQL and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	server     string // URL of a PostgreSQL server database on which we may create databases
	only       map[string]bool
	quick      bool
	runs       int           // runs per figure; the figure is their median
	dur        time.Duration // length of one load run
	out        string        // Markdown report; "" writes none
	cpuProfile string        // write a CPU profile of the whole run here
}

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", firstNonEmpty(getenv("BENCH_SERVER_URL"), getenv("PG_SERVER_URL")), "PostgreSQL server URL (its postgres database); the bench creates its own databases there")
	only := fs.String("only", getenv("BENCH_ONLY"), "comma-separated benchmarks to run, e.g. B3,B1 (default: all)")
	quick := fs.Bool("quick", getenv("BENCH_QUICK") != "" && getenv("BENCH_QUICK") != "0", "short runs for development (figures are not comparable)")
	runs := fs.Int("runs", 3, "runs per figure (median); at least 3 for a report")
	out := fs.String("out", "docs/BENCHMARKS.md", "Markdown report to write (empty: none)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (load generator included, for in-process benchmarks)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *server == "" {
		return nil, fmt.Errorf("no PostgreSQL server: pass -server or set BENCH_SERVER_URL (scripts/bench.sh does)")
	}
	o := &options{server: *server, quick: *quick, runs: *runs, out: *out, cpuProfile: *cpuProfile, dur: 2 * time.Second}
	if o.quick {
		o.dur = 500 * time.Millisecond
	}
	if o.runs < 1 {
		return nil, fmt.Errorf("-runs must be at least 1")
	}
	if *only != "" {
		o.only = map[string]bool{}
		for _, id := range strings.Split(*only, ",") {
			if id = strings.ToUpper(strings.TrimSpace(id)); id != "" {
				o.only[id] = true
			}
		}
	}
	return o, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	start := time.Now()
	env, err := newEnv(ctx, opts, stderr)
	if err != nil {
		return err
	}
	defer env.Close()
	if opts.cpuProfile != "" {
		f, err := os.Create(opts.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	var rows []Row
	for _, b := range registry() {
		if opts.only != nil && !opts.only[b.ID] {
			continue
		}
		if b.NotRun != "" {
			rows = append(rows, Row{ID: b.ID, What: b.What, Target: b.Target, Verdict: "not run: " + b.NotRun})
			continue
		}
		env.logf("%s: %s", b.ID, b.What)
		t0 := time.Now()
		got, err := b.Run(ctx, env)
		if err != nil {
			env.logf("%s failed: %v", b.ID, err)
			rows = append(rows, Row{ID: b.ID, What: b.What, Target: b.Target, Verdict: "ERROR: " + err.Error()})
		} else {
			rows = append(rows, got...)
		}
		env.logf("%s done in %s", b.ID, time.Since(t0).Round(100*time.Millisecond))
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	total := time.Since(start)
	rep := report{Machine: env.machine(ctx), Rows: rows, Total: total, Quick: opts.quick, Runs: opts.runs, Dur: opts.dur}
	fmt.Fprint(stdout, rep.text())
	if opts.out != "" && (opts.only == nil) {
		if err := os.MkdirAll(filepath.Dir(opts.out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(opts.out, []byte(rep.markdown()), 0o644); err != nil {
			return err
		}
		env.logf("wrote %s", opts.out)
	} else if opts.out != "" {
		old, err := os.ReadFile(opts.out)
		if err != nil {
			env.logf("a subset ran and %s cannot be read (%v): left unchanged", opts.out, err)
			return nil
		}
		if err := os.WriteFile(opts.out, []byte(rep.mergeInto(string(old), opts.only)), 0o644); err != nil {
			return err
		}
		env.logf("a subset ran: its rows replaced theirs in %s, the other rows kept", opts.out)
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
