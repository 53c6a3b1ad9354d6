package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// runB11CSV runs the real binary as a child process with b9Orders orders in the
// database (seeded once, shared with B9 and B10), signs in to its admin over
// HTTP, downloads the whole /admin/orders.csv, parsing and discarding it as it
// streams, checks it holds every order, and reads the process's peak resident set
// size (VmHWM) at the end.
func runB11CSV(ctx context.Context, e *env) ([]Row, error) {
	if err := e.ensureOrders(ctx, b9Orders); err != nil {
		return nil, err
	}
	a, err := e.baseApp(ctx) // its sandbox is the instance's Orchestrate
	if err != nil {
		return nil, err
	}
	var want int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM orders`).Scan(&want); err != nil {
		return nil, err
	}
	in, err := e.startInstance(ctx, a.SandboxURL)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	cookies, err := adminSignIn(ctx, in.URL)
	if err != nil {
		return nil, err
	}
	before, err := peakRSS(in)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	rows, bytes, err := downloadCSV(ctx, in.URL+"/admin/orders.csv", cookies)
	if err != nil {
		return nil, err
	}
	took := time.Since(t0)
	peak, err := peakRSS(in)
	if err != nil {
		return nil, err
	}
	e.logf("  CSV export: %d rows + header, %.0f MB in %s; peak RSS %.1f MB (%.1f MB before the export)",
		rows, float64(bytes)/(1<<20), took.Round(100*time.Millisecond), float64(peak)/(1<<20), float64(before)/(1<<20))
	if rows != want {
		return nil, fmt.Errorf("CSV export: %d rows, want %d orders", rows, want)
	}
	return []Row{{
		ID: "B11", What: fmt.Sprintf("peak RSS of the app binary during a %s-order CSV export", count(want)),
		Figure:   fmt.Sprintf("%.1f MB", float64(peak)/(1<<20)),
		Baseline: fmt.Sprintf("%.1f MB before; %d rows, %.0f MB in %s", float64(before)/(1<<20), rows, float64(bytes)/(1<<20), took.Round(100*time.Millisecond)),
		Ratio:    "—", Target: "≤ 100 MB", Verdict: verdict(peak <= rssLimit),
	}}, nil
}

// downloadCSV GETs u and parses the CSV as it arrives; it returns the data rows
// (the header excluded) and the bytes read.
func downloadCSV(ctx context.Context, u string, cookies []*http.Cookie) (rows int, n int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	cr := &countingReader{r: resp.Body}
	r := csv.NewReader(bufio.NewReaderSize(cr, 64<<10))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return 0, cr.n, fmt.Errorf("CSV header: %w", err)
	}
	if header[0] != "order_number" {
		return 0, cr.n, fmt.Errorf("CSV header starts with %q", header[0])
	}
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, cr.n, nil
		}
		if err != nil {
			return rows, cr.n, fmt.Errorf("CSV row %d: %w", rows+1, err)
		}
		rows++
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
