package e2e

import (
	"context"
	"net/http"
	"strconv"
	"testing"
)

// stockCard reads the catalog card of the product named name: its stock note
// ("Sold out", "Only 1 left" or "") and whether it offers an add button.
type stockCard struct {
	Stock  string `json:"stock"`
	CanAdd bool   `json:"canAdd"`
}

func (b *browser) stockCard(name string) stockCard {
	b.t.Helper()
	b.open("/")
	b.waitVisible("ul.products li.product", stepTimeout)
	return eval[stockCard](b, "read the card of "+name, `(() => {
		const li = [...document.querySelectorAll("li.product")].find(li => li.querySelector("h2").textContent.trim() === `+strconv.Quote(name)+`);
		if (!li) return {stock: "missing", canAdd: false};
		const s = li.querySelector(".stock");
		return {stock: s ? s.textContent.trim() : "", canAdd: !!li.querySelector("button[aria-label^='Add to cart']")};
	})()`)
}

// signIn signs the merchant in to the admin from its sign-in page.
func (b *browser) signIn() {
	b.t.Helper()
	b.open("/admin/login")
	b.typeInto("#username", adminUser)
	b.typeInto("#password", adminPassword)
	if status := b.click(`form[action="/admin/login"] button[type="submit"]`); status != http.StatusOK {
		b.t.Fatalf("signing in: the page answered %d", status)
	}
}

// TestStockJourney: the merchant sets a product's stock to 1; one shopper holds
// it by checking out; a second shopper sees it sold out, with no way to add it;
// the first shopper cancels on the hosted page, so the payment fails and the unit
// is released; the second shopper can now buy it, and the merchant's product page
// shows it sold.
func TestStockJourney(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	const kettle = "Gooseneck kettle"
	var id int64
	if err := a.DB.Pool.QueryRow(context.Background(), `SELECT id FROM products WHERE slug = 'gooseneck-kettle'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	productPage := "/admin/products/" + strconv.FormatInt(id, 10)

	merchant := newBrowser(t, a)
	merchant.signIn()
	merchant.open(productPage)
	merchant.mustHave("#stock-untracked")
	merchant.typeInto("#stock-input", "1")
	if status := merchant.click("#save-stock"); status != http.StatusOK {
		t.Fatalf("saving the stock: the page answered %d", status)
	}
	merchant.checkpoint("product-stock-set")
	if got := merchant.text("#stock-on-hand"); got != "1" {
		t.Errorf("after setting the stock to 1 the product page says %q on hand", got)
	}

	first := newBrowser(t, a)
	if card := first.stockCard(kettle); card.Stock != "Only 1 left" || !card.CanAdd {
		t.Errorf("the first shopper sees the kettle as %+v, want Only 1 left with an add button", card)
	}
	first.checkpoint("catalog-only-one-left")
	first.addToCart(product{Name: kettle})
	if status := first.checkoutFromCart("Ada Lovelace", "ada@example.com"); status != http.StatusOK {
		t.Fatalf("the first shopper's checkout: the hosted page answered %d", status)
	}
	first.onHostedPage()

	second := newBrowser(t, a)
	if card := second.stockCard(kettle); card.Stock != "Sold out" || card.CanAdd {
		t.Errorf("while the unit is held, the second shopper sees the kettle as %+v, want Sold out without an add button", card)
	}
	second.checkpoint("catalog-sold-out")
	merchant.open(productPage)
	if held := merchant.text("#stock-held"); held == "" || held[0] != '1' {
		t.Errorf("while the first shopper pays, the product page says %q held, want 1", held)
	}

	// The first shopper gives up on the hosted page: the payment fails and the
	// unit goes back.
	if status := first.click(`.cancel-form button[type="submit"]`); status != http.StatusOK {
		t.Fatalf("cancel: the shop's cancel page answered %d", status)
	}
	first.waitStatus("failed")

	if card := second.stockCard(kettle); card.Stock != "Only 1 left" || !card.CanAdd {
		t.Errorf("after the first payment failed, the second shopper sees the kettle as %+v, want Only 1 left", card)
	}
	second.addToCart(product{Name: kettle})
	if status := second.checkoutFromCart("Grace Hopper", "grace@example.com"); status != http.StatusOK {
		t.Fatalf("the second shopper's checkout: the hosted page answered %d", status)
	}
	second.onHostedPage()
	if status := second.pay(cardSuccess); status != http.StatusOK {
		t.Fatalf("paying: the success page answered %d", status)
	}
	second.waitStatus("paid")
	second.checkpoint("sold-the-last-one")

	if card := first.stockCard(kettle); card.Stock != "Sold out" || card.CanAdd {
		t.Errorf("once sold, the kettle shows as %+v, want Sold out", card)
	}
	merchant.open(productPage)
	if on, held := merchant.text("#stock-on-hand"), merchant.text("#stock-held"); on != "0" || held == "" || held[0] != '0' {
		t.Errorf("once sold, the product page says %q on hand and %q held, want 0 and 0", on, held)
	}
	merchant.checkpoint("product-sold")
}
