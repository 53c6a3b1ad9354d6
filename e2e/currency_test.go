package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestCurrencyJourney: on a phone, a shopper switches the shop to euros with the
// header's switcher, pays, and sees € on the shop, on the sandbox's hosted page
// and on the order page; the merchant then sees the order in € in the admin.
func TestCurrencyJourney(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	b := newBrowser(t, a, phoneViewport)

	before := b.catalog()
	b.checkpoint("catalog")
	if !strings.HasPrefix(before[0].Price, "US$") {
		t.Errorf("an English browser first sees %q, want a US$ price", before[0].Price)
	}

	// The switcher: pick EUR and submit; the same page comes back in euros.
	b.do("choose EUR", chromedp.SetValue(chromedp.CSS("#currency-select"), "EUR"))
	if status := b.click(`form.currency-switcher button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("switching currency: status %d", status)
	}
	if got := b.path(); got != "/" {
		t.Errorf("after switching the page is %s, want the catalog again", got)
	}
	b.checkpoint("catalog-in-euros")
	if got := b.value("#currency-select"); got != "EUR" {
		t.Errorf("the switcher shows %q after switching, want EUR", got)
	}
	products := b.catalog() // opened again: the choice is remembered
	for _, p := range products {
		if !strings.HasPrefix(p.Price, "€") {
			t.Errorf("%s costs %q after switching to EUR, want a € price", p.Name, p.Price)
		}
	}

	b.addToCart(products[0])
	b.checkpoint("cart")
	total := b.text("#cart-total")
	if !strings.HasPrefix(total, "€") || minorUnits(total) != products[0].minor() {
		t.Errorf("the cart's total is %q, want %s", total, products[0].Price)
	}
	if status := b.checkoutFromCart("Ada Lovelace", "ada@example.com"); status != http.StatusOK {
		t.Fatalf("checkout: the hosted page answered %d", status)
	}
	b.onHostedPage()
	b.checkpoint("hosted-payment-page")
	if got := b.text(".amount"); got != b.checkoutTotal || minorUnits(got) < minorUnits(total) {
		t.Errorf("the hosted page asks for %q, want %q (the cart's %s and shipping)", got, b.checkoutTotal, total)
	}
	total = b.checkoutTotal // what the order is for from here on: the items and shipping

	if status := b.pay(cardSuccess); status != http.StatusOK {
		t.Fatalf("paying: the success page answered %d", status)
	}
	ref := orderRef(b.path())
	b.waitStatus("paid")
	b.checkpoint("success-paid")
	b.open("/orders/" + ref)
	b.waitStatus("paid")
	b.checkpoint("order-page")
	if got := b.text("#order-total"); got != total {
		t.Errorf("the order page's total is %q, want %q", got, total)
	}

	// The merchant, on a phone too.
	m := newBrowser(t, a, phoneViewport)
	m.open("/admin/login")
	m.typeInto("#username", adminUser)
	m.typeInto("#password", adminPassword)
	if status := m.click(`form[action="/admin/login"] button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("signing in: the page answered %d", status)
	}
	m.checkpoint("admin-overview")
	if got := m.text("#revenue-today .totals .value"); got != total {
		t.Errorf("the overview's revenue today is %q, want %q", got, total)
	}
	if status := m.click(`.site-nav a[href="/admin/orders"]`); status != http.StatusOK {
		t.Fatalf("opening the orders list: status %d", status)
	}
	m.waitVisible("#totals .total", stepTimeout)
	m.checkpoint("admin-orders")
	rows := m.adminOrders()
	if len(rows) != 1 || rows[0].Total != total {
		t.Errorf("the admin lists %+v, want one order of %s", rows, total)
	}
	if got := m.text(`#totals .total[data-currency="EUR"]`); !strings.HasPrefix(got, total) {
		t.Errorf("the list's EUR total reads %q, want %s", got, total)
	}
	if status := m.click(`#orders tbody tr a`); status != http.StatusOK {
		t.Fatalf("opening the order: status %d", status)
	}
	m.checkpoint("admin-order")
	if got := m.text("#order-total"); got != total {
		t.Errorf("the admin's order page shows %q, want %q", got, total)
	}
}
