package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestShopperJourney is the shopper's whole way through the shop, on a desktop
// screen and on a phone: catalog → two products in the cart → a quantity changed
// → checkout, first with an invalid email → the sandbox's hosted page → paid →
// back on the success page, which turns to paid by itself → the order page.
func TestShopperJourney(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []browserOption
	}{
		{"desktop", nil},
		{"phone", []browserOption{phoneViewport}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := startApp(t)
			b := newBrowser(t, a, tc.opts...)
			readme := tc.name == "desktop"
			shopperJourney(t, b, readme)
		})
	}
}

func shopperJourney(t *testing.T, b *browser, readme bool) {
	// The catalog: remember the first two products and their prices.
	products := b.catalog()
	b.checkpoint("catalog")
	if readme {
		b.readmeScreenshot("shop")
	}
	first, second := products[0], products[1]
	if first.minor() <= 0 || second.minor() <= 0 {
		t.Fatalf("cannot read the catalog's prices %q and %q", first.Price, second.Price)
	}

	b.addToCart(first)
	b.checkpoint("cart-one-product")
	if got := b.text(".cart-count"); got != "1" {
		t.Errorf("cart count in the header = %q after adding one product, want 1", got)
	}
	b.click(`.site-nav a[href="/"]`)
	b.addToCart(second)
	b.checkpoint("cart-two-products")

	// Three of the first product.
	lines := b.cartLines()
	if len(lines) != 2 {
		t.Fatalf("the cart shows %d lines, want 2: %+v", len(lines), lines)
	}
	var firstID string
	for _, l := range lines {
		if l.Name == first.Name {
			firstID = l.ID
		}
	}
	if firstID == "" {
		t.Fatalf("%s is not in the cart: %+v", first.Name, lines)
	}
	b.typeInto("#qty-"+firstID, "3")
	if status := b.click(fmt.Sprintf(`tr[data-product-id=%q] button.secondary`, firstID)); status != 200 {
		t.Fatalf("updating the quantity: status %d", status)
	}
	b.checkpoint("cart-quantity-changed")
	wantTotal := 3*first.minor() + second.minor()
	for _, l := range b.cartLines() {
		want := map[string]string{first.Name: "3", second.Name: "1"}[l.Name]
		if l.Quantity != want {
			t.Errorf("cart quantity of %s = %s, want %s", l.Name, l.Quantity, want)
		}
	}
	if got := minorUnits(b.text("#cart-total")); got != wantTotal {
		t.Errorf("cart total = %d cents, want %d (3 × %s + %s)", got, wantTotal, first.Price, second.Price)
	}

	// Checkout with an invalid email: the form comes back with the message beside
	// the field and the input kept.
	if status := b.checkoutFromCart("Ada Lovelace", "ada@example"); status != 422 {
		t.Errorf("checkout with an invalid email answered %d, want 422", status)
	}
	b.waitVisible("#email-error", stepTimeout)
	b.checkpoint("checkout-invalid-email")
	if msg := b.text("#email-error"); !strings.Contains(msg, "email address") {
		t.Errorf("the email error says %q, want a message about the email address", msg)
	}
	if got := b.value("#email"); got != "ada@example" {
		t.Errorf("the email field holds %q after the error, want the shopper's input kept", got)
	}
	if got := b.value("#name"); got != "Ada Lovelace" {
		t.Errorf("the name field holds %q after the error, want the shopper's input kept", got)
	}
	// Focus is on the field to fix, under a summary that counts the problem.
	if got := eval[string](b, "read the focused field", `document.activeElement ? document.activeElement.id : ""`); got != "email" {
		t.Errorf("after the error the focus is on %q, want the email field", got)
	}
	if got := b.text("#error-summary p"); got != "Please fix 1 problem:" {
		t.Errorf("the error summary says %q, want %q", got, "Please fix 1 problem:")
	}
	if got := minorUnits(b.text("#checkout-total")); got != wantTotal {
		t.Errorf("checkout total = %d cents, want %d", got, wantTotal)
	}
	// What the shopper pays: the items and the chosen method's shipping.
	payTotal := minorUnits(b.text("#checkout-grand-total"))
	if payTotal < wantTotal {
		t.Errorf("the total with shipping = %d cents, less than the items' %d", payTotal, wantTotal)
	}

	// Fixed: on to the sandbox's hosted page.
	b.typeInto("#email", "ada@example.com")
	if status := b.click(`form[action="/checkout"] button[type="submit"]`); status != 200 {
		t.Fatalf("checkout: the hosted page answered %d", status)
	}
	b.onHostedPage()
	b.checkpoint("hosted-payment-page")
	if readme {
		b.readmeScreenshot("hosted-payment-page")
	}
	if got := minorUnits(b.text(".amount")); got != payTotal {
		t.Errorf("the hosted page asks for %d cents (%q), want %d", got, b.text(".amount"), payTotal)
	}

	// Pay: back on the shop's success page, which reaches paid by itself.
	if status := b.pay(cardSuccess); status != 200 {
		t.Fatalf("paying: the success page answered %d", status)
	}
	path := b.path()
	ref := orderRef(path)
	if ref == "" || !strings.HasSuffix(path, "/success") {
		t.Fatalf("after paying the page is %s, want /orders/<ref>/success", path)
	}
	b.waitStatus("paid")
	b.checkpoint("success-paid")

	// The order page (the bookmarkable one) shows the items and the total.
	b.open("/orders/" + ref)
	b.waitStatus("paid")
	b.checkpoint("order-page")
	items := b.orderItems()
	want := []orderItem{
		{Name: first.Name, Quantity: "3"},
		{Name: second.Name, Quantity: "1"},
	}
	if len(items) != len(want) {
		t.Fatalf("the order page lists %d items, want %d: %+v", len(items), len(want), items)
	}
	for i, w := range want {
		if items[i].Name != w.Name || items[i].Quantity != w.Quantity {
			t.Errorf("order item %d = %s × %s, want %s × %s", i, items[i].Quantity, items[i].Name, w.Quantity, w.Name)
		}
	}
	if got := minorUnits(items[0].Total); got != 3*first.minor() {
		t.Errorf("line total of %s = %q, want 3 × %s", first.Name, items[0].Total, first.Price)
	}
	if got := minorUnits(b.text("#order-total")); got != payTotal {
		t.Errorf("order total = %d cents, want %d", got, payTotal)
	}
}
