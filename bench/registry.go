package main

import "context"

// Benchmark is one row group of the table. Run returns its rows; NotRun, when
// set, says why the benchmark cannot run yet and the table shows that instead.
type Benchmark struct {
	ID     string
	What   string
	Target string
	Run    func(ctx context.Context, env *env) ([]Row, error)
	NotRun string
}

// Row is one line of the table. Verdict is PASS, MISS, "not run: …" or "ERROR: …".
type Row struct {
	ID, What, Figure, Baseline, Ratio, Target, Verdict string
}

// verdict is PASS when ok, else MISS.
func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

// registry lists every benchmark in the order of issue #8's table.
func registry() []Benchmark {
	return []Benchmark{
		{ID: "B1", What: "framework overhead: /healthz behind the full middleware chain", Target: "≥ 0.80× req/s; p99 ≤ 1.5×", Run: runB1},
		{ID: "B2", What: "templ render of the cart page, 20 lines (testing.B)", Target: "≤ 10× ns/op; allocs do not grow per line", Run: runB2},
		{ID: "B3", What: "GET / and GET /cart end to end", Target: "≥ 0.70× req/s; p99 ≤ 50 ms at 70% of max", Run: runB3},
		{ID: "B4", What: "order status poll (GET /orders/:ref/status)", Target: "≥ 0.70× of 1/(1/H + q/S)", Run: runB4},
		{ID: "B5", What: "webhook ack, unique signed events", Target: "≥ 0.70× pgbench; p50 overhead ≤ 0.5 ms", Run: runB5},
		{ID: "B6", What: "webhook storm, 95% duplicates", Target: "≥ 1.0× B5", Run: runB6},
		{ID: "B7", What: "checkout POST, sandbox latency 0 ms and 100 ms", Target: "overhead p50 ≤ 2 commits + 1 ms; at 100 ms ≥ 0.90× C÷L", Run: runB7},
		{ID: "B8", What: "sweeper confirming open attempts, sandbox latency L, K workers", Target: "≥ 0.80× K÷L", Run: runB8},
		// B9 seeds 10k, 100k (measuring B10 there when B10 runs) then 1M orders;
		// B10 and B11's CSV export reuse the 1M database.
		{ID: "B9", What: "admin orders list over 1,000,000 orders", Target: "HTTP p99 ≤ 2× SQL; no seq scan", Run: runB9},
		{ID: "B10", What: "growth: B5 and B9 at 10k/100k/1M rows", Target: "1M within 1.5× of 10k", Run: runB10},
		{ID: "B11", What: "peak RSS of the app binary during B3 and B5 load and a 1M-order CSV export", Target: "≤ 100 MB", Run: runB11All},
		{ID: "B12", What: "scale-out: B5 with three app instances on one database, directly and through PgBouncer", Target: "> 1.0× one instance; exactly-once", Run: runB12},
		{ID: "B13", What: "the drop: 500 shoppers, one unit each, 100 in stock, at once", Target: "≥ 0.70× pgbench; exactly 100 held, 400 sold out, 0 oversold, no 5xx", Run: runB13},
		{ID: "B14", What: "the burst: 2,000 payments completing at once, sandbox limited to 25 requests/s", Target: "≤ 1.2× (API requests ÷ 25/s); ≤ 25 requests in any second", Run: runB14},
	}
}

// runB11All is B11: RSS under B3's and B5's load, then during the CSV export.
func runB11All(ctx context.Context, e *env) ([]Row, error) {
	rows, err := runB11(ctx, e)
	if err != nil {
		return nil, err
	}
	csvRows, err := runB11CSV(ctx, e)
	if err != nil {
		e.logf("B11 CSV export failed: %v", err)
		csvRows = []Row{{ID: "B11", What: "peak RSS during a 1M-order CSV export", Target: "≤ 100 MB", Verdict: "ERROR: " + err.Error()}}
	}
	return append(rows, csvRows...), nil
}
