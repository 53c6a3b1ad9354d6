package main

import (
	"context"
	"fmt"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
)

// rssLimit is issue #8's memory target.
const rssLimit = 100 << 20

// runB11 runs the real binary as a child process (built with go build, configured
// by environment) under B3's and B5's load, a fresh process for each, and reads
// its peak resident set size (VmHWM in /proc/<pid>/status) at the end.
func runB11(ctx context.Context, e *env) ([]Row, error) {
	a, err := e.baseApp(ctx) // its sandbox is the instances' Orchestrate
	if err != nil {
		return nil, err
	}
	loads := []struct {
		name string
		run  func(in *apptest.Instance) error
	}{
		{"B3 load (GET / and GET /cart, closed loop)", func(in *apptest.Instance) error {
			cookies, err := e.shopperCookies(ctx, &app{App: a.App, URL: in.URL})
			if err != nil {
				return err
			}
			for range e.opts.runs {
				for _, p := range []string{"/", "/cart"} {
					if err := closedLoop(ctx, get(in.URL+p, cookies...), closedLoopWorkers, e.opts.dur).check("GET " + p); err != nil {
						return err
					}
				}
			}
			return nil
		}},
		{"B5 load (unique webhooks, 1/8/32 senders)", func(in *apptest.Instance) error {
			for range e.opts.runs {
				for _, n := range senders {
					if err := closedLoop(ctx, webhookTargeter([]string{in.URL + "/webhooks/orchestrate"}, 1), n, e.opts.dur).check("webhooks"); err != nil {
						return err
					}
				}
			}
			return nil
		}},
	}
	var rows []Row
	for _, l := range loads {
		in, err := e.startInstance(ctx, a.SandboxURL)
		if err != nil {
			return nil, err
		}
		err = l.run(in)
		peak, rerr := peakRSS(in)
		in.Close()
		if err != nil {
			return nil, err
		}
		if rerr != nil {
			return nil, rerr
		}
		e.logf("  %s: peak RSS %.1f MB", l.name, float64(peak)/(1<<20))
		rows = append(rows, Row{
			ID: "B11", What: "peak RSS of the app binary during " + l.name,
			Figure: fmt.Sprintf("%.1f MB", float64(peak)/(1<<20)), Baseline: "—", Ratio: "—",
			Target: "≤ 100 MB", Verdict: verdict(peak <= rssLimit),
		})
	}
	return rows, nil
}
