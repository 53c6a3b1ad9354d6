package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestShopFormsRedirectWhenRefused: every shop form that cannot be done answers
// 303 to a page (never a page of its own, which the browser could only show again
// by resending the form: Chrome's "Confirm Form Resubmission"). That page, read
// once, answers with the refusal's status and message, the shopper's input kept;
// read again it is the plain page. Nothing the shopper typed is in the
// redirect's URL or in the flash cookie, and the flash is gone once shown.
func TestShopFormsRedirectWhenRefused(t *testing.T) {
	a := newApp(t)
	ids := a.productIDs(t)

	tests := []struct {
		name string
		// post makes the refused request, after any setup, and returns the order
		// reference the redirect may name.
		post         func(t *testing.T, s *shopper) (*page, string)
		wantLocation string // {ref} stands for the order's reference
		wantStatus   int    // of the page the redirect leads to, read once
		wantText     string // on that page
		wantValue    map[string]string
		againStatus  int // of that page read again
	}{
		{
			name: "checkout with an invalid email",
			post: func(t *testing.T, s *shopper) (*page, string) {
				s.addToCart(ids["enamel-mug"], "1")
				return s.checkout("Ada Lovelace", "ada@example"), ""
			},
			wantLocation: "/checkout", wantStatus: http.StatusUnprocessableEntity,
			wantText:    "Enter an email address like name@example.com.",
			wantValue:   map[string]string{"#name": "Ada Lovelace", "#email": "ada@example"},
			againStatus: http.StatusOK,
		},
		{
			name: "cart quantity out of range",
			post: func(t *testing.T, s *shopper) (*page, string) {
				s.addToCart(ids["enamel-mug"], "1")
				return s.post("/cart/items/"+ids["enamel-mug"], url.Values{"quantity": {"250"}}), ""
			},
			wantLocation: "/cart", wantStatus: http.StatusUnprocessableEntity,
			wantText:    "Enter a quantity from 0 to 99",
			wantValue:   map[string]string{"#qty-" + ids["enamel-mug"]: "250"},
			againStatus: http.StatusOK,
		},
		{
			name: "a product no longer sold",
			post: func(t *testing.T, s *shopper) (*page, string) {
				a.exec(t, `UPDATE products SET active = false WHERE id = $1`, ids["gooseneck-kettle"])
				t.Cleanup(func() { a.exec(t, `UPDATE products SET active = true WHERE id = $1`, ids["gooseneck-kettle"]) })
				return s.post("/cart/items", url.Values{"product_id": {ids["gooseneck-kettle"]}}), ""
			},
			wantLocation: "/cart", wantStatus: http.StatusUnprocessableEntity,
			wantText:    "That product is not available.",
			againStatus: http.StatusOK,
		},
		{
			name: "checkout while Orchestrate is down",
			post: func(t *testing.T, s *shopper) (*page, string) {
				s.addToCart(ids["enamel-mug"], "1")
				a.setFaults(t, `{"create_errors": 5, "error_status": 500}`)
				t.Cleanup(func() { a.setFaults(t, `{}`) })
				p := s.checkout("Ada Lovelace", "ada@example.com")
				return p, a.latestRef(t)
			},
			wantLocation: "/orders/{ref}", wantStatus: http.StatusServiceUnavailable,
			wantText:    "The payment service is unavailable",
			againStatus: http.StatusOK,
		},
		{
			name: "pay again while Orchestrate is down",
			post: func(t *testing.T, s *shopper) (*page, string) {
				s.addToCart(ids["enamel-mug"], "1")
				first := s.checkout("Ada Lovelace", "ada@example.com")
				cancelOnHostedPage(t, first.Header.Get("Location"))
				ref := a.latestRef(t)
				eventually(t, "the cancel to fail the order", func() bool { return a.orderStatus(t, ref) == "failed" })
				a.setFaults(t, `{"create_errors": 5, "error_status": 500}`)
				t.Cleanup(func() { a.setFaults(t, `{}`) })
				return s.post("/orders/"+ref+"/pay", nil), ref
			},
			wantLocation: "/orders/{ref}", wantStatus: http.StatusServiceUnavailable,
			wantText:    "The payment service is unavailable",
			againStatus: http.StatusOK,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := a.newShopper(t)
			p, ref := tc.post(t, s)
			want := strings.ReplaceAll(tc.wantLocation, "{ref}", ref)
			if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != want {
				t.Fatalf("the refused POST = %d to %q, want 303 to %q; body %.300s", p.StatusCode, p.Header.Get("Location"), want, p.body)
			}
			var flash *http.Cookie
			for _, c := range p.Cookies() {
				if c.Name == "flash" {
					flash = c
				}
			}
			if flash == nil || !flash.HttpOnly || flash.SameSite != http.SameSiteLaxMode || flash.MaxAge <= 0 || flash.MaxAge > 300 {
				t.Fatalf("flash cookie = %+v, want HttpOnly, SameSite=Lax, gone within 5 minutes", flash)
			}
			if strings.Contains(flash.Value, "ada") || strings.Contains(flash.Value, "Ada") {
				t.Errorf("the flash cookie %q carries the shopper's input", flash.Value)
			}

			shown := s.get(want)
			if shown.StatusCode != tc.wantStatus {
				t.Errorf("GET %s = %d, want %d", want, shown.StatusCode, tc.wantStatus)
			}
			if got := shown.Header.Get("Cache-Control"); !strings.Contains(got, "no-store") {
				t.Errorf("GET %s Cache-Control = %q, want no-store", want, got)
			}
			if !strings.Contains(shown.doc.Text(), tc.wantText) {
				t.Errorf("GET %s does not say %q", want, tc.wantText)
			}
			for sel, v := range tc.wantValue {
				if got, _ := shown.doc.Find(sel).Attr("value"); got != v {
					t.Errorf("%s holds %q, want the shopper's %q kept", sel, got, v)
				}
			}
			if n := a.count(t, `SELECT count(*) FROM sessions`); n != 0 {
				t.Errorf("%d sessions left once the flash was shown, want 0", n)
			}

			again := s.get(want)
			if again.StatusCode != tc.againStatus || strings.Contains(again.doc.Text(), tc.wantText) {
				t.Errorf("GET %s again = %d, still saying %q: %v; want %d without it", want, again.StatusCode, tc.wantText,
					strings.Contains(again.doc.Text(), tc.wantText), tc.againStatus)
			}
		})
	}
}

// latestRef returns the reference of the newest order.
func (a *app) latestRef(t *testing.T) string {
	t.Helper()
	var ref string
	if err := a.pool.QueryRow(t.Context(), `SELECT public_ref FROM orders ORDER BY id DESC LIMIT 1`).Scan(&ref); err != nil {
		t.Fatal(err)
	}
	return ref
}
