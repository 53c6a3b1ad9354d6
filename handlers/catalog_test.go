package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestCatalog(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	if _, err := a.pool.Exec(ctx, `
		WITH p AS (
			INSERT INTO products (slug, name, description, image, position)
			VALUES ('test-item', '<script>alert(1)</script>', 'escaped?', 'img/mug.svg', 99)
			RETURNING id
		)
		INSERT INTO product_prices (product_id, currency, amount_minor) SELECT id, 'USD', 123456 FROM p`); err != nil {
		t.Fatal(err)
	}
	var want int
	if err := a.pool.QueryRow(ctx, "SELECT count(*) FROM products WHERE active").Scan(&want); err != nil {
		t.Fatal(err)
	}

	rec := a.get(t, "/")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET / = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", ct)
	}
	d := doc(t, rec)
	if got := d.Find(".product").Length(); got != want {
		t.Errorf("page shows %d products, want %d", got, want)
	}
	first := d.Find(".product").First()
	if got := first.Find("h2").Text(); got != "Ceramic pour-over dripper" {
		t.Errorf("first product = %q, want the dripper (position order)", got)
	}
	if got := first.Find(".price").Text(); got != "US$34.00" {
		t.Errorf("first price = %q, want US$34.00", got)
	}
	last := d.Find(".product").Last()
	if got := last.Find(".price").Text(); got != "US$1,234.56" {
		t.Errorf("the added product's price = %q, want US$1,234.56", got)
	}
	if strings.Contains(rec.Body.String(), "<script>alert(1)</script>") {
		t.Error("a product name was written unescaped")
	}
	if got := last.Find("h2").Text(); got != "<script>alert(1)</script>" {
		t.Errorf("escaped name reads %q", got)
	}
	src, _ := first.Find("img").Attr("src")
	if !strings.HasPrefix(src, "/static/img/dripper.svg?v=") {
		t.Errorf("image src = %q, want a versioned /static URL", src)
	}
	if rec := a.get(t, src); rec.Code != http.StatusOK {
		t.Errorf("GET %s = %d, want 200", src, rec.Code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	a := newApp(t)
	rec := a.get(t, "/")
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self' " + a.sandbox.URL} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	for header, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "strict-origin-when-cross-origin",
	} {
		if got := rec.Header().Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	if got := rec.Header().Get("Strict-Transport-Security"); got != "" {
		t.Errorf("HSTS %q sent outside production", got)
	}
	if rec.Header().Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on the response")
	}
}

func TestStatic(t *testing.T) {
	a := newApp(t)
	d := doc(t, a.get(t, "/"))
	css, ok := d.Find(`link[rel=stylesheet]`).Attr("href")
	if !ok {
		t.Fatal("no stylesheet link on /")
	}
	tests := []struct {
		name      string
		target    string
		method    string
		wantCode  int
		wantCache string
	}{
		{"versioned asset is immutable", css, http.MethodGet, 200, "public, max-age=31536000, immutable"},
		{"HEAD works", css, http.MethodHead, 200, "public, max-age=31536000, immutable"},
		{"unversioned asset is cached briefly", "/static/css/app.css", http.MethodGet, 200, "public, max-age=300"},
		{"stale version is cached briefly", "/static/css/app.css?v=old", http.MethodGet, 200, "public, max-age=300"},
		{"missing file", "/static/css/nope.css", http.MethodGet, 404, ""},
		{"no directory listing", "/static/css", http.MethodGet, 404, ""},
		{"no root listing", "/static/", http.MethodGet, 308, ""},
		{"no escape from the folder", "/static/../main.go", http.MethodGet, 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := a.do(t, tc.method, tc.target, nil)
			if rec.Code != tc.wantCode {
				t.Fatalf("%s %s = %d, want %d", tc.method, tc.target, rec.Code, tc.wantCode)
			}
			if got := rec.Header().Get("Cache-Control"); tc.wantCache != "" && got != tc.wantCache {
				t.Errorf("Cache-Control = %q, want %q", got, tc.wantCache)
			}
		})
	}
}

func TestNotFoundPage(t *testing.T) {
	a := newApp(t)
	rec := a.get(t, "/no-such-page")
	if rec.Code != http.StatusNotFound {
		t.Fatalf("GET /no-such-page = %d, want 404", rec.Code)
	}
	if got := doc(t, rec).Find("h1").Text(); got != "Page not found" {
		t.Errorf("404 heading = %q", got)
	}
	rec = a.get(t, "/healthz/nope")
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Header().Get("Content-Type"), "json") {
		t.Errorf("machine 404 = %d %q, want a JSON 404", rec.Code, rec.Header().Get("Content-Type"))
	}
}
