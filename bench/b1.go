package main

import (
	"context"
	"fmt"
	"net/http"
)

// runB1 compares GET /healthz through the app's full middleware chain (trailing
// slash, request id, request log, metrics, recover, security headers, Echo's
// router and error handler) with a bare net/http hello handler.
func runB1(ctx context.Context, e *env) ([]Row, error) {
	a, err := e.baseApp(ctx)
	if err != nil {
		return nil, err
	}
	bareURL, stop, err := serveHTTP(bareHello())
	if err != nil {
		return nil, err
	}
	defer stop()
	app, bare, err := e.measurePair(ctx, target{"app GET /healthz", get(a.URL + "/healthz")}, target{"bare hello", get(bareURL + "/")})
	if err != nil {
		return nil, err
	}
	e.bareRPS = bare.MaxRPS
	ratio := app.MaxRPS / bare.MaxRPS
	p99Ratio := float64(app.P99) / float64(bare.P99)
	return []Row{{
		ID: "B1", What: "trivial route (/healthz) behind the full middleware chain",
		Figure:   fmt.Sprintf("%.0f req/s; p99 %s", app.MaxRPS, ms(app.P99)),
		Baseline: fmt.Sprintf("%.0f req/s; p99 %s (bare net/http hello)", bare.MaxRPS, ms(bare.P99)),
		Ratio:    fmt.Sprintf("%.2f× req/s; %.2f× p99", ratio, p99Ratio),
		Target:   "≥ 0.80× req/s; p99 ≤ 1.5×",
		Verdict:  verdict(ratio >= 0.80 && p99Ratio <= 1.5),
	}}, nil
}

// bareHello is the floor of any Go HTTP service on this machine.
func bareHello() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok"))
	})
}
