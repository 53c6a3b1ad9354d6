package handlers_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/orchestrate-checkout/checkout/handlers"
	"github.com/orchestrate-checkout/checkout/orders"
)

// Benchmarks of the app's own CPU per request (middleware, routing, templates),
// with in-memory stores so the database is not measured. Profile with
//
//	go test -run '^$' -bench Request -benchmem -cpuprofile cpu.out ./handlers

// memCatalog and memCarts are in-memory stores for the read-only pages.
type memCatalog []orders.Product

func (m memCatalog) List(context.Context, string) ([]orders.Product, error) { return m, nil }

type memCarts struct{ handlers.Carts }

func (memCarts) Count(context.Context, string) (int, error) { return 3, nil }

func (memCarts) Get(_ context.Context, id, currency string) (*orders.Cart, error) {
	c := &orders.Cart{ID: id, Currency: currency}
	for i := range 3 {
		c.Lines = append(c.Lines, orders.CartLine{ProductID: int64(i + 1), Name: "Enamel mug", Image: "img/mug.svg", UnitMinor: 1999, Currency: currency, Quantity: 1, LineMinor: 1999, Available: true})
	}
	return c, nil
}

func benchApp() http.Handler {
	products := make(memCatalog, 8)
	for i := range products {
		products[i] = orders.Product{ID: int64(i + 1), Name: "Enamel mug", Description: "A mug.", PriceMinor: 1999, Currency: "EUR", Image: "img/mug.svg"}
	}
	orch, _ := url.Parse("http://127.0.0.1:9")
	public, _ := url.Parse("http://localhost:8080")
	return handlers.New(handlers.Config{
		StoreName: "Field Kettle", PublicURL: public, OrchestrateURL: orch,
		// Request logging at info level into a discarding handler, as make bench runs it.
		Logger:       slog.New(slog.NewTextHandler(discard{}, nil)),
		Registry:     prometheus.NewRegistry(),
		CookieSecret: []byte(testCookieSecret),
	}, handlers.Deps{Catalog: products, Carts: memCarts{}})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func benchRequest(b *testing.B, path string, cookies ...*http.Cookie) {
	benchRequestWith(b, httptest.NewRequest(http.MethodGet, path, nil), cookies...)
}

func benchRequestWith(b *testing.B, req *http.Request, cookies ...*http.Cookie) {
	h := benchApp()
	path := req.URL.Path
	for _, c := range cookies {
		req.AddCookie(c)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("GET %s = %d", path, w.Code)
		}
	}
}

func BenchmarkRequestHealthz(b *testing.B) { benchRequest(b, "/healthz") }

// A first visit: no cookies, so the CSRF middleware issues a token.
func BenchmarkRequestCatalogFirstVisit(b *testing.B) { benchRequest(b, "/") }

// returningShopper is the cookies of a shopper with a cart and a CSRF token the
// app signed, as a returning shopper loads the pages.
func returningShopper(b *testing.B) []*http.Cookie {
	w := httptest.NewRecorder()
	benchApp().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	cookies := []*http.Cookie{{Name: "cart", Value: handlers.CartCookieValue([]byte(testCookieSecret), "0123456789abcdef0123456789abcdef01234567")}}
	for _, c := range w.Result().Cookies() {
		if c.Name == "_csrf" {
			return append(cookies, &http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	b.Fatal("GET / set no _csrf cookie")
	return nil
}

func BenchmarkRequestCatalog(b *testing.B) { benchRequest(b, "/", returningShopper(b)...) }

func BenchmarkRequestCart(b *testing.B) { benchRequest(b, "/cart", returningShopper(b)...) }

// A returning shopper's browser, which accepts gzip: the page is compressed.
func BenchmarkRequestCatalogGzip(b *testing.B) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	benchRequestWith(b, req, returningShopper(b)...)
}
