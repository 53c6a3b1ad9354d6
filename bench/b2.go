package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"testing"

	"github.com/orchestrate-checkout/checkout/views"
)

// cartPage is the cart page with n lines, shaped like views/cart_bench_test.go's.
func cartPage(n int) views.CartPage {
	p := views.CartPage{Layout: views.Layout{Title: "Cart", StoreName: "Field Kettle", CartCount: 2 * n}, Total: "$799.60", CSRFToken: "token"}
	for i := range n {
		p.Lines = append(p.Lines, views.CartLine{
			ProductID: int64(i + 1), Name: fmt.Sprintf("Product number %d", i+1), Image: "img/mug.svg",
			UnitPrice: "$19.99", Quantity: 2, LineTotal: "$39.98",
		})
	}
	return p
}

func renderBench(n int) func(b *testing.B) {
	page := cartPage(n)
	return func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		ctx := context.Background()
		for b.Loop() {
			buf.Reset()
			if err := views.Cart(page).Render(ctx, &buf); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func writeBench(n int) (func(b *testing.B), error) {
	var rendered bytes.Buffer
	if err := views.Cart(cartPage(n)).Render(context.Background(), &rendered); err != nil {
		return nil, err
	}
	want := rendered.Bytes()
	return func(b *testing.B) {
		b.ReportAllocs()
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			buf.Write(want)
		}
	}, nil
}

// runB2 runs the render benchmarks with testing.Benchmark in this process: the
// templ render of a 20-line cart against writing the same bytes, and the render
// at 20 and 40 lines to see whether allocations grow per line.
func runB2(ctx context.Context, e *env) ([]Row, error) {
	testing.Init()
	benchtime := "1s"
	if e.opts.quick {
		benchtime = "200ms"
	}
	if err := flag.Set("test.benchtime", benchtime); err != nil {
		return nil, err
	}
	base, err := writeBench(20)
	if err != nil {
		return nil, err
	}
	var ns20, nsBase, allocs20, allocs40 []float64
	for range e.opts.runs {
		r20 := testing.Benchmark(renderBench(20))
		rb := testing.Benchmark(base)
		r40 := testing.Benchmark(renderBench(40))
		if r20.N == 0 || rb.N == 0 || r40.N == 0 {
			return nil, fmt.Errorf("a render benchmark failed")
		}
		ns20 = append(ns20, float64(r20.NsPerOp()))
		nsBase = append(nsBase, float64(rb.T.Nanoseconds())/float64(rb.N))
		allocs20 = append(allocs20, float64(r20.AllocsPerOp()))
		allocs40 = append(allocs40, float64(r40.AllocsPerOp()))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	n20, nb, a20, a40 := median(ns20), median(nsBase), median(allocs20), median(allocs40)
	perLine := (a40 - a20) / 20
	e.logf("  render 20 lines %.0f ns/op %.0f allocs; 40 lines %.0f allocs; write same bytes %.1f ns/op", n20, a20, a40, nb)
	ratio := n20 / nb
	return []Row{
		{
			ID: "B2", What: "templ render of the cart page, 20 lines",
			Figure: fmt.Sprintf("%.1f µs/op", n20/1000), Baseline: fmt.Sprintf("%.2f µs/op (writing the same bytes)", nb/1000),
			Ratio: fmt.Sprintf("%.0f×", ratio), Target: "≤ 10× ns/op", Verdict: verdict(ratio <= 10),
		},
		{
			ID: "B2", What: "allocations per cart line (40 vs 20 lines)",
			Figure:   fmt.Sprintf("%.0f → %.0f allocs/op: %.2f per line", a20, a40, perLine),
			Baseline: "0 per line (buffer reused)", Ratio: "—",
			Target: "no growth per line", Verdict: verdict(perLine < 0.5),
		},
	}, nil
}
