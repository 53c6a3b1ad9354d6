package main

import (
	"context"
	"fmt"
	"time"
)

// b10Sizes are the orders (and webhook deliveries) present at each step of B10.
var b10Sizes = []int{10_000, 100_000, b9Orders}

// b10Senders is B5's concurrency B10 repeats at each size.
const b10Senders = 8

// growthPoint is B10's figures with n rows present.
type growthPoint struct {
	B5RPS     float64
	B5P50     time.Duration
	Page1P99  time.Duration
	SearchP99 time.Duration
	// the constant rates of those (listRate of the statements' time)
	Page1Rate, SearchRate float64
}

// noteGrowth records a B9 figure measured with n orders present.
func (e *env) noteGrowth(n int, name string, p99 time.Duration, rate float64) {
	if adminState.growth == nil {
		adminState.growth = map[int]growthPoint{}
	}
	g := adminState.growth[n]
	if name == "page 1" {
		g.Page1P99, g.Page1Rate = p99, rate
	} else {
		g.SearchP99, g.SearchRate = p99, rate
	}
	adminState.growth[n] = g
}

// measureGrowth seeds up to each size in turn and measures what B10 compares:
// B5 at 8 senders, and B9's page 1 and email search p99 (unless B9 already did).
func (e *env) measureGrowth(ctx context.Context, sizes []int) error {
	for _, n := range sizes {
		if g, ok := adminState.growth[n]; ok && g.B5RPS > 0 && g.Page1P99 > 0 && g.SearchP99 > 0 {
			continue
		}
		if adminState.seeded > n {
			return fmt.Errorf("B10 at %d orders: %d are already seeded", n, adminState.seeded)
		}
		if err := e.ensureOrders(ctx, n); err != nil {
			return err
		}
		a, err := e.adminApp(ctx)
		if err != nil {
			return err
		}
		base, err := e.baseApp(ctx)
		if err != nil {
			return err
		}
		if adminState.growth == nil {
			adminState.growth = map[int]growthPoint{}
		}
		g := adminState.growth[n]
		for _, c := range b9Cases() {
			p, rate := &g.Page1P99, &g.Page1Rate
			switch c.Name {
			case "page 1":
			case "search an email, page 1":
				p, rate = &g.SearchP99, &g.SearchRate
			default:
				continue
			}
			if *p > 0 {
				continue
			}
			u, err := e.listURL(ctx, a, c)
			if err != nil {
				return err
			}
			sqlT, err := e.explainRequest(ctx, a, u)
			if err != nil {
				return err
			}
			*rate = listRate(sqlT.Time)
			if _, *p, err = e.listLatency(ctx, a, u, *rate); err != nil {
				return err
			}
		}
		// B5 after the list: its inserts wake autovacuum on the small tables of
		// the 10k step, which would otherwise run during the list's runs.
		if g.B5RPS == 0 {
			if g.B5RPS, g.B5P50, err = e.webhookLoad(ctx, []string{base.URL + "/webhooks/orchestrate"}, b10Senders, 1); err != nil {
				return err
			}
		}
		adminState.growth[n] = g
		e.logf("  %7d rows: B5 %.0f req/s (p50 %s); list page 1 p99 %s at %.0f/s; email search p99 %s at %.0f/s",
			n, g.B5RPS, ms(g.B5P50), ms(g.Page1P99), g.Page1Rate, ms(g.SearchP99), g.SearchRate)
	}
	return nil
}

func runB10(ctx context.Context, e *env) ([]Row, error) {
	if err := e.measureGrowth(ctx, b10Sizes); err != nil {
		return nil, err
	}
	small := adminState.growth[b10Sizes[0]]
	var rows []Row
	for _, n := range b10Sizes[1:] {
		g := adminState.growth[n]
		figures := []struct {
			what      string
			fig, base string
			slowdown  float64 // how many times worse than at 10k
		}{
			{fmt.Sprintf("B5 webhook ack, %d senders", b10Senders), fmt.Sprintf("%.0f req/s", g.B5RPS), fmt.Sprintf("%.0f req/s", small.B5RPS), small.B5RPS / g.B5RPS},
			{"B9 list page 1 p99", fmt.Sprintf("%s at %.0f/s", ms(g.Page1P99), g.Page1Rate), fmt.Sprintf("%s at %.0f/s", ms(small.Page1P99), small.Page1Rate), float64(g.Page1P99) / float64(small.Page1P99)},
			{"B9 email search p99", fmt.Sprintf("%s at %.0f/s", ms(g.SearchP99), g.SearchRate), fmt.Sprintf("%s at %.0f/s", ms(small.SearchP99), small.SearchRate), float64(g.SearchP99) / float64(small.SearchP99)},
		}
		for _, f := range figures {
			row := Row{
				ID: "B10", What: fmt.Sprintf("growth: %s with %s rows", f.what, count(n)),
				Figure: f.fig, Baseline: f.base + " at 10k",
				Ratio:  fmt.Sprintf("%.2f× slower", f.slowdown),
				Target: "1M within 1.5× of 10k", Verdict: "—",
			}
			if n == b9Orders {
				row.Verdict = verdict(f.slowdown <= 1.5)
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// count formats 10000 as 10k and 1000000 as 1M.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
