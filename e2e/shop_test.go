package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Test cards of the sandbox's hosted page (README, "The built-in Orchestrate sandbox").
const (
	cardSuccess = "4242 4242 4242 4242"
	cardDecline = "4000 0000 0000 0002"
	cardPending = "4000 0000 0000 0077"
)

// confirmTimeout is how long a page may take to show a payment's final state:
// the success page reads the payment at once and then polls every 2 s.
const confirmTimeout = 30 * time.Second

// product is a product as the catalog page shows it.
type product struct {
	Name  string `json:"name"`
	Price string `json:"price"`
}

// minor returns the price in minor units.
func (p product) minor() int64 { return minorUnits(p.Price) }

// minorUnits reads an amount as the shop and the sandbox print it ("$1,234.50",
// "USD 34.00", "34.00") into minor units: every amount has two decimals, so its
// digits are the amount in cents.
func minorUnits(s string) int64 {
	var digits strings.Builder
	for _, r := range s {
		if unicode.IsDigit(r) {
			digits.WriteRune(r)
		}
	}
	n, err := strconv.ParseInt(digits.String(), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// catalog opens the shop's front page and returns the products it lists.
func (b *browser) catalog() []product {
	b.t.Helper()
	b.open("/")
	b.waitVisible("ul.products li.product", stepTimeout)
	ps := eval[[]product](b, "read the catalog", `[...document.querySelectorAll("li.product")].map(li => ({
		name: li.querySelector("h2").textContent.trim(),
		price: li.querySelector(".price").textContent.trim()}))`)
	if len(ps) < 2 {
		b.t.Fatalf("the catalog lists %d products, want at least 2", len(ps))
	}
	return ps
}

// addToCart clicks the product's "Add to cart" button on the catalog page and
// expects to land on the cart.
func (b *browser) addToCart(p product) {
	b.t.Helper()
	if status := b.click(fmt.Sprintf(`button[aria-label=%q]`, "Add to cart: "+p.Name)); status != 200 {
		b.t.Fatalf("adding %s to the cart: status %d", p.Name, status)
	}
	if got := b.path(); got != "/cart" {
		b.t.Fatalf("after adding %s the page is %s, want /cart", p.Name, got)
	}
}

// cartLine is one row of the cart table.
type cartLine struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Quantity string `json:"quantity"`
	Total    string `json:"total"`
}

// cartLines reads the cart table.
func (b *browser) cartLines() []cartLine {
	b.t.Helper()
	return eval[[]cartLine](b, "read the cart", `[...document.querySelectorAll("tbody tr[data-product-id]")].map(tr => ({
		id: tr.dataset.productId,
		name: tr.querySelector(".name").textContent.trim(),
		quantity: tr.querySelector("input.qty").value,
		total: tr.querySelector(".line-total").textContent.trim()}))`)
}

// checkoutFromCart clicks "Check out" on the cart page, fills in the form and
// submits it. It returns the status of the page the submit lands on.
func (b *browser) checkoutFromCart(name, email string) int64 {
	b.t.Helper()
	if status := b.click(`.actions a[href="/checkout"]`); status != 200 {
		b.t.Fatalf("opening the checkout: status %d", status)
	}
	b.checkpoint("checkout")
	b.typeInto("#name", name)
	b.typeInto("#email", email)
	b.fillAddress()
	b.checkoutTotal = b.text("#checkout-grand-total")
	return b.click(`form[action="/checkout"] button[type="submit"]`)
}

// shippingAddresses are valid addresses in the countries a checkout's country
// list may start on (the cart's currency's).
var shippingAddresses = map[string][3]string{ // region, postal code, city
	"US": {"TX", "78701", "Austin"},
	"CA": {"ON", "K1A 0B1", "Ottawa"},
	"GB": {"", "SW1A 1AA", "London"},
}

// fillAddress types a valid address for the country the checkout form shows
// and leaves its first shipping method chosen.
func (b *browser) fillAddress() {
	b.t.Helper()
	country := b.value("#country")
	addr, ok := shippingAddresses[country]
	if !ok {
		b.t.Fatalf("no test address for %q", country)
	}
	b.typeInto("#line1", "1 Main St")
	b.typeInto("#city", addr[2])
	if addr[0] != "" {
		b.do("choose the region", evalVoid(`document.querySelector("#region").value = "`+addr[0]+`"`))
	}
	b.typeInto("#postal_code", addr[1])
}

// onHostedPage checks that the browser is on the sandbox's hosted payment page
// and returns its URL.
func (b *browser) onHostedPage() string {
	b.t.Helper()
	loc := b.location()
	if !strings.HasPrefix(loc, b.app.SandboxURL+"/payments/") || !strings.HasSuffix(loc, "/collection") {
		b.t.Fatalf("expected the sandbox's hosted payment page (%s/payments/…/collection), the page is %s", b.app.SandboxURL, loc)
	}
	b.waitVisible("#card_number", stepTimeout)
	return loc
}

// paymentID returns the payment's id from the URL of its hosted page.
func paymentID(hostedURL string) string {
	id := strings.TrimSuffix(hostedURL, "/collection")
	return id[strings.LastIndexByte(id, '/')+1:]
}

// pay types card on the hosted page and presses Pay. It returns the status of
// the page that loads (the shop's success page, or the hosted page again when
// the card is declined).
func (b *browser) pay(card string) int64 {
	b.t.Helper()
	b.typeInto("#card_number", card)
	return b.click(`.pay-form button[type="submit"]`)
}

// waitStatus waits until the order page's status box shows status (paid,
// failed, expired, awaiting_payment…) — by itself, through htmx polling, or at
// once — and returns its text.
func (b *browser) waitStatus(status string) string {
	b.t.Helper()
	sel := fmt.Sprintf(`#payment-status[data-status=%q]`, status)
	b.waitVisible(sel, confirmTimeout)
	return b.text(sel)
}

// orderRef returns the order's public reference from an /orders/<ref>[/…] path.
func orderRef(path string) string {
	rest, ok := strings.CutPrefix(path, "/orders/")
	if !ok {
		return ""
	}
	ref, _, _ := strings.Cut(rest, "/")
	return ref
}

// orderItem is one row of the order page's item table.
type orderItem struct {
	Name     string `json:"name"`
	Quantity string `json:"quantity"`
	Total    string `json:"total"`
}

// orderItems reads the item table of the order page.
func (b *browser) orderItems() []orderItem {
	b.t.Helper()
	return eval[[]orderItem](b, "read the order's items", `[...document.querySelectorAll("main table tbody tr")].map(tr => ({
		name: tr.cells[0].textContent.trim(),
		quantity: tr.cells[1].textContent.trim(),
		total: tr.cells[tr.cells.length - 1].textContent.trim()}))`)
}
