package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
)

// TestCheckoutErrorSummary: a checkout that comes back with problems opens with
// a summary announced as an alert, counting them in proper English and linking
// each to its field in the form's order; the page loads the script that moves
// focus to the first field in error.
func TestCheckoutErrorSummary(t *testing.T) {
	a := newApp(t)
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["enamel-mug"], "1")
	tests := []struct {
		name, fullName, email string
		wantLead              string
		wantLinks             []string
	}{
		{"one problem", "Ada Lovelace", "ada@example", "Please fix 1 problem:", []string{"#email"}},
		{"two problems", "", "", "Please fix 2 problems:", []string{"#name", "#email"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := s.checkout(tc.fullName, tc.email)
			if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/checkout" {
				t.Fatalf("checkout = %d to %q, want 303 to /checkout", p.StatusCode, p.Header.Get("Location"))
			}
			if p = s.get("/checkout"); p.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("the checkout page after a refused checkout = %d, want 422", p.StatusCode)
			}
			summary := p.doc.Find("#error-summary")
			if role, _ := summary.Attr("role"); role != "alert" {
				t.Errorf("the error summary's role = %q, want alert (announced)", role)
			}
			if got := strings.TrimSpace(summary.Find("p").First().Text()); got != tc.wantLead {
				t.Errorf("the summary says %q, want %q", got, tc.wantLead)
			}
			var links []string
			summary.Find("li a").Each(func(_ int, a *goquery.Selection) {
				href, _ := a.Attr("href")
				links = append(links, href)
				field := p.doc.Find(href)
				if inv, _ := field.Attr("aria-invalid"); inv != "true" {
					t.Errorf("the summary links to %s, which is not a field in error", href)
				}
				if msg := strings.TrimSpace(p.doc.Find(href + "-error").Text()); msg != strings.TrimSpace(a.Text()) {
					t.Errorf("the summary says %q for %s, the field says %q", a.Text(), href, msg)
				}
			})
			if diff := cmp.Diff(tc.wantLinks, links); diff != "" {
				t.Errorf("the summary's links (-want +got):\n%s", diff)
			}
			if strings.Contains(p.body, "problem(s)") {
				t.Error(`the page still says "problem(s)"`)
			}
			if src, _ := p.doc.Find(`script[src^="/static/js/forms.js"]`).Attr("src"); src == "" {
				t.Error("the page does not load forms.js, which moves focus to the first field in error")
			}
		})
	}
}

// TestStatusFragmentUpdatesCartBadge: the poll that finds the order paid also
// sends the header's cart link, out of band, with the emptied cart's count; a
// poll that keeps polling sends no cart link.
func TestStatusFragmentUpdatesCartBadge(t *testing.T) {
	a := newApp(t)
	// No webhook at all, not even payment.created, whose job could be reading
	// the payment when the poll below asks: the poll alone confirms the payment,
	// as it does when webhooks are late.
	a.setFaults(t, `{"webhooks_disabled": true}`)
	o := a.checkoutOne(t)
	page := o.get("/orders/" + o.ref + "/success")
	if got := page.doc.Find("#cart-link .cart-count").Text(); got != "1" {
		t.Fatalf("the header's cart count before paying = %q, want 1", got)
	}
	if got := strings.TrimSpace(page.doc.Find("#cart-link").Text()); got != "Cart 1 item" {
		t.Errorf("the cart link reads %q, want %q", got, "Cart 1 item")
	}
	frag := o.get("/orders/" + o.ref + "/status?return=success")
	if n := frag.doc.Find("#cart-link").Length(); n != 0 {
		t.Errorf("a fragment that keeps polling carries %d cart links, want none", n)
	}

	payOnHostedPage(t, o.link, "4242 4242 4242 4242")
	if _, err := a.pool.Exec(context.Background(), `UPDATE payment_attempts SET last_checked_at = NULL`); err != nil {
		t.Fatal(err) // let the poll ask Orchestrate now
	}
	frag = o.get("/orders/" + o.ref + "/status?return=success")
	if got := statusOf(frag); got != "paid" {
		t.Fatalf("status fragment after paying = %q, want paid", got)
	}
	link := frag.doc.Find("#cart-link")
	if oob, _ := link.Attr("data-hx-swap-oob"); oob != "true" {
		t.Fatalf("the paid fragment has no out-of-band cart link (data-hx-swap-oob %q):\n%s", oob, frag.body)
	}
	if got := link.Find(".cart-count").Text(); got != "0" {
		t.Errorf("the cart link sent with the paid fragment counts %q, want 0 (the paid cart is emptied)", got)
	}
}

// TestCancelPageSaysCancelled: a shopper who cancels on the hosted page comes
// back to a page that says the payment was cancelled, not that it failed; the
// order is failed all the same, and its plain page words it so.
func TestCancelPageSaysCancelled(t *testing.T) {
	a := newApp(t)
	a.setFaults(t, `{"webhooks_disabled": true}`) // the return page alone reads the cancel
	o := a.checkoutOne(t)
	cancelOnHostedPage(t, o.link)
	p := o.get("/orders/" + o.ref + "/cancel")
	if got := statusOf(p); got != "failed" {
		t.Fatalf("cancel page status = %q, want failed (the order's state)", got)
	}
	box := p.doc.Find("#payment-status")
	if got := box.Find(".badge").Text(); got != "Payment cancelled" {
		t.Errorf("the cancel page's badge says %q, want Payment cancelled", got)
	}
	if text := box.Text(); strings.Contains(text, "did not go through") || strings.Contains(text, "failed") {
		t.Errorf("the cancel page words a cancel as a failure: %q", strings.Join(strings.Fields(text), " "))
	}
	if got := p.doc.Find("#pay-button").Text(); got != "Pay again" {
		t.Errorf("the cancel page's button says %q, want Pay again", got)
	}
	if got := statusOf(o.get("/orders/" + o.ref + "/status?return=cancel")); got != "failed" {
		t.Errorf("the cancel page's fragment status = %q, want failed", got)
	}
	if got := o.get("/orders/" + o.ref + "/status?return=cancel").doc.Find(".badge").Text(); got != "Payment cancelled" {
		t.Errorf("the cancel page's polled fragment says %q, want Payment cancelled", got)
	}
	if got := o.get("/orders/" + o.ref).doc.Find("#payment-status .badge").Text(); got != "Payment failed" {
		t.Errorf("the order's own page says %q, want Payment failed", got)
	}
}

// TestAdminNavigation: signed in, every admin page leads to the overview,
// orders, products and webhooks; the sign-in page, signed out, shows none of them.
func TestAdminNavigation(t *testing.T) {
	a := newApp(t)
	signedOut := a.newShopper(t).get("/admin/login")
	if signedOut.StatusCode != http.StatusOK {
		t.Fatalf("sign-in page = %d", signedOut.StatusCode)
	}
	nav := signedOut.doc.Find("header nav")
	for _, href := range []string{"/admin", "/admin/orders", "/admin/products", "/admin/webhooks"} {
		if nav.Find(`a[href="`+href+`"]`).Length() > 0 {
			t.Errorf("the signed-out sign-in page links to %s in its navigation", href)
		}
	}
	if nav.Find(`form[action="/admin/logout"]`).Length() > 0 {
		t.Error("the signed-out sign-in page offers to sign out")
	}

	admin := a.newAdmin(t)
	for _, path := range []string{"/admin", "/admin/orders", "/admin/products", "/admin/webhooks"} {
		p := admin.get(path)
		if p.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, p.StatusCode)
		}
		var links []string
		p.doc.Find("header nav a").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			links = append(links, strings.TrimSpace(a.Text())+" "+href)
		})
		want := []string{"Overview /admin", "Orders /admin/orders", "Products /admin/products", "Webhooks /admin/webhooks", "Outgoing webhooks /admin/outgoing-webhooks", "Shop /"}
		if diff := cmp.Diff(want, links); diff != "" {
			t.Errorf("navigation of %s (-want +got):\n%s", path, diff)
		}
	}
}

// TestAdminBadRequestLeadsBack: a 400 in the admin (a date range backwards, a
// broken page link) says what is wrong and links back to the admin, inside the
// admin's frame; the shop's 404 still leads to the shop.
func TestAdminBadRequestLeadsBack(t *testing.T) {
	a := newApp(t)
	admin := a.newAdmin(t)
	tests := []struct {
		name, path, wantMessage string
	}{
		{"from after to", "/admin/orders?from=2026-03-10&to=2026-03-01", "The from date (2026-03-10) is after the to date (2026-03-01)."},
		{"totals, from after to", "/admin/orders/totals?from=2026-03-10&to=2026-03-01", "after the to date"},
		{"broken page link", "/admin/orders?after=garbage", "That page link is broken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := admin.get(tc.path)
			if p.StatusCode != http.StatusBadRequest {
				t.Fatalf("GET %s = %d, want 400", tc.path, p.StatusCode)
			}
			if got := p.doc.Find("main").Text(); !strings.Contains(got, tc.wantMessage) {
				t.Errorf("the page says %q, want %q", strings.Join(strings.Fields(got), " "), tc.wantMessage)
			}
			back := p.doc.Find(`main .actions a`)
			if href, _ := back.Attr("href"); href != "/admin" || strings.TrimSpace(back.Text()) != "Back to the admin" {
				t.Errorf("the page's way back is %q %q, want Back to the admin (/admin)", back.Text(), href)
			}
			if p.doc.Find(`header nav a[href="/admin/orders"]`).Length() == 0 {
				t.Error("the admin's 400 page has no admin navigation")
			}
		})
	}
	// One day is a range: from == to is fine.
	if p := admin.get("/admin/orders?from=2026-03-01&to=2026-03-01"); p.StatusCode != http.StatusOK {
		t.Errorf("a one-day range = %d, want 200", p.StatusCode)
	}
	shop := a.newShopper(t).get("/orders/no-such-order")
	if href, _ := shop.doc.Find(`main .actions a`).Attr("href"); shop.StatusCode != http.StatusNotFound || href != "/" {
		t.Errorf("the shop's 404 = %d leading to %q, want 404 leading to /", shop.StatusCode, href)
	}
}

// TestAdminFlagFilterSaysWhatItDoes: the flag filter's empty choice reads as
// what it does — every order — not as "orders without a flag".
func TestAdminFlagFilterSaysWhatItDoes(t *testing.T) {
	a := newApp(t)
	p := a.newAdmin(t).get("/admin/orders")
	opt := p.doc.Find(`#flag option[value=""]`)
	if got := strings.TrimSpace(opt.Text()); got != "Any order, flagged or not" {
		t.Errorf("the flag filter's empty choice says %q, want %q", got, "Any order, flagged or not")
	}
}

// TestShopPagesHaveDescriptions: every shop page carries a meta description of
// its own, as search results and link previews show it.
func TestShopPagesHaveDescriptions(t *testing.T) {
	a := newApp(t)
	o := a.checkoutOne(t)
	o.addToCart(a.productIDs(t)["enamel-mug"], "1")
	seen := map[string]string{}
	for _, path := range []string{"/", "/cart", "/checkout", "/orders/" + o.ref, "/orders/no-such-order"} {
		p := o.get(path)
		desc, ok := p.doc.Find(`head meta[name="description"]`).Attr("content")
		if !ok || len(desc) < 30 {
			t.Errorf("%s has the description %q, want a sentence", path, desc)
			continue
		}
		if other, dup := seen[desc]; dup && path != "/orders/no-such-order" {
			t.Errorf("%s has the same description as %s: %q", path, other, desc)
		}
		seen[desc] = path
	}
}
