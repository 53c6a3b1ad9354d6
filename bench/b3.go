package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/orchestrate-checkout/checkout/orders"
)

// shopperCookies returns the cookies of a returning shopper: a cart holding three
// products and the CSRF cookie the app set on their first visit.
func (e *env) shopperCookies(ctx context.Context, a *app) ([]*http.Cookie, error) {
	cartID := orders.NewCartID()
	products, err := a.Catalog.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range products[:min(3, len(products))] {
		if err := a.Carts.Add(ctx, cartID, p.ID, 2); err != nil {
			return nil, err
		}
	}
	resp, err := http.Get(a.URL + "/")
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	cookies := []*http.Cookie{{Name: "cart", Value: cartID}}
	for _, c := range resp.Cookies() {
		if c.Name == "_csrf" {
			cookies = append(cookies, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	if len(cookies) != 2 {
		return nil, fmt.Errorf("GET / set no _csrf cookie")
	}
	return cookies, nil
}

// bareShop is B3's baseline: plain net/http running the same store calls as the
// catalog and cart pages (orders.Catalog.List + Carts.Count, Carts.Get), writing
// a few bytes instead of a template, with no middleware.
func bareShop(a *app) http.Handler {
	cartOf := func(r *http.Request) string {
		if c, err := r.Cookie("cart"); err == nil {
			return c.Value
		}
		return ""
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		products, err := a.Catalog.List(r.Context())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		n, err := a.Carts.Count(r.Context(), cartOf(r))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write([]byte(strconv.Itoa(len(products)) + " " + strconv.Itoa(n)))
	})
	mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		cart, err := a.Carts.Get(r.Context(), cartOf(r))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write([]byte(strconv.Itoa(len(cart.Lines))))
	})
	return mux
}

// p99Limit is issue #4's latency target at 70% of the maximum throughput.
const p99Limit = 50 * time.Millisecond

func runB3(ctx context.Context, e *env) ([]Row, error) {
	a, err := e.baseApp(ctx)
	if err != nil {
		return nil, err
	}
	cookies, err := e.shopperCookies(ctx, a)
	if err != nil {
		return nil, err
	}
	bareURL, stop, err := serveHTTP(bareShop(a))
	if err != nil {
		return nil, err
	}
	defer stop()
	var rows []Row
	for _, path := range []string{"/", "/cart"} {
		app, bare, err := e.measurePair(ctx,
			target{"app GET " + path, get(a.URL+path, cookies...)},
			target{"bare GET " + path, get(bareURL+path, cookies...)})
		if err != nil {
			return nil, err
		}
		ratio := app.MaxRPS / bare.MaxRPS
		rows = append(rows, Row{
			ID: "B3", What: "GET " + path + " end to end",
			Figure:   fmt.Sprintf("%.0f req/s; p99 %s at 70%%", app.MaxRPS, ms(app.P99)),
			Baseline: fmt.Sprintf("%.0f req/s; p99 %s (bare handler, same queries)", bare.MaxRPS, ms(bare.P99)),
			Ratio:    fmt.Sprintf("%.2f×", ratio),
			Target:   "≥ 0.70× req/s; p99 ≤ 50 ms at 70% of max",
			Verdict:  verdict(ratio >= 0.70 && app.P99 <= p99Limit),
		})
	}
	return rows, nil
}
