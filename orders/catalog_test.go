package orders_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orders"
)

// productID returns the id of the seeded product with slug.
func productID(t *testing.T, db *testdb.DB, slug string) int64 {
	t.Helper()
	var id int64
	if err := db.Pool.QueryRow(context.Background(), `SELECT id FROM products WHERE slug = $1`, slug).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestCatalogPricesPerCurrency: the catalog is read in one currency at the
// merchant's price in it, and a product without one is not offered in it.
func TestCatalogPricesPerCurrency(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	catalog := orders.NewCatalog(db.Pool)
	dripper := productID(t, db, "pour-over-dripper")

	want := map[string]int64{"USD": 3400, "EUR": 3200, "GBP": 2800, "CAD": 4600}
	for code, minor := range want {
		products, err := catalog.List(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if len(products) != 6 {
			t.Errorf("%s: %d products, want the 6 seeded", code, len(products))
		}
		if got := products[0]; got.ID != dripper || got.Price() != (orders.Money{Minor: minor, Currency: code}) {
			t.Errorf("%s: first product %d at %v, want the dripper at %d %s", code, got.ID, got.Price(), minor, code)
		}
	}

	if _, err := db.Pool.Exec(ctx, `DELETE FROM product_prices WHERE product_id = $1 AND currency = 'GBP'`, dripper); err != nil {
		t.Fatal(err)
	}
	products, err := catalog.List(ctx, "GBP")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range products {
		if p.ID == dripper {
			t.Errorf("the dripper, which has no GBP price, is listed in GBP at %v", p.Price())
		}
	}
	if len(products) != 5 {
		t.Errorf("GBP lists %d products, want 5", len(products))
	}
	if _, err := catalog.Get(ctx, dripper, "GBP"); !errors.Is(err, orders.ErrNotFound) {
		t.Errorf("Get(dripper, GBP) = %v, want ErrNotFound", err)
	}
	if p, err := catalog.Get(ctx, dripper, "EUR"); err != nil || p.Price() != (orders.Money{Minor: 3200, Currency: "EUR"}) {
		t.Errorf("Get(dripper, EUR) = %v, %v; want €32.00", p.Price(), err)
	}
}

// TestCartAndOrderInTheShoppersCurrency: a cart is priced in the currency it is
// read in, a line not sold in it is unavailable and keeps the cart from being
// checked out, and an order is made in that currency at its prices — a new one
// when the cart's last order was in another currency.
func TestCartAndOrderInTheShoppersCurrency(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	carts := orders.NewCarts(db.Pool)
	store := orders.NewOrders(db.Pool)
	// PlaceOrder never calls Orchestrate, so no client is needed here.
	payments := orders.NewPayments(db.Pool, nil, orders.PaymentsConfig{}, nil)
	dripper, mug := productID(t, db, "pour-over-dripper"), productID(t, db, "enamel-mug")
	cartID := orders.NewCartID()
	if err := carts.Add(ctx, cartID, dripper, 1, "USD"); err != nil {
		t.Fatal(err)
	}
	if err := carts.Add(ctx, cartID, mug, 2, "EUR"); err != nil {
		t.Fatal(err)
	}
	customer := shopper("Ann", "ann@example.com")

	totals := map[string]int64{"USD": 3400 + 2*1999, "EUR": 3200 + 2*1900, "GBP": 2800 + 2*1600, "CAD": 4600 + 2*2700}
	seen := map[int64]string{}
	for _, code := range orders.Currencies {
		cart, err := carts.Get(ctx, cartID, code)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cart.Total(), (orders.Money{Minor: totals[code], Currency: code}); got != want {
			t.Errorf("cart in %s totals %v, want %v", code, got, want)
		}
		for _, l := range cart.Lines {
			if l.Currency != code || !l.Available {
				t.Errorf("cart in %s has a line in %s (available %v)", code, l.Currency, l.Available)
			}
		}
		o, _, err := payments.PlaceOrder(ctx, cartID, code, customer)
		if err != nil {
			t.Fatalf("checkout in %s: %v", code, err)
		}
		if o.Currency != code || o.TotalMinor != totals[code] {
			t.Errorf("order in %s: %d %s, want %d %s", code, o.TotalMinor, o.Currency, totals[code], code)
		}
		if other, ok := seen[o.ID]; ok {
			t.Errorf("checkout in %s reused the order made in %s", code, other)
		}
		seen[o.ID] = code
		again, _, err := payments.PlaceOrder(ctx, cartID, code, customer)
		if err != nil || again.ID != o.ID {
			t.Errorf("second checkout in %s = order %v, %v; want the same order %d", code, again, err, o.ID)
		}
		items, err := store.Items(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		var sum int64
		for _, it := range items {
			sum += it.LineTotal(o.Currency).Minor
		}
		if sum != o.TotalMinor {
			t.Errorf("order in %s: items add up to %d, total %d", code, sum, o.TotalMinor)
		}
	}

	// The mug loses its GBP price: in GBP its line is unavailable, the total is
	// the rest, and the cart cannot be checked out until the line goes.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM product_prices WHERE product_id = $1 AND currency = 'GBP'`, mug); err != nil {
		t.Fatal(err)
	}
	cart, err := carts.Get(ctx, cartID, "GBP")
	if err != nil {
		t.Fatal(err)
	}
	var unavailable []int64
	for _, l := range cart.Unavailable() {
		unavailable = append(unavailable, l.ProductID)
	}
	if diff := cmp.Diff([]int64{mug}, unavailable); diff != "" {
		t.Errorf("unavailable lines in GBP (-want +got):\n%s", diff)
	}
	if got := cart.Total(); got != (orders.Money{Minor: 2800, Currency: "GBP"}) {
		t.Errorf("GBP total with the mug unavailable = %v, want £28.00", got)
	}
	if err := carts.Add(ctx, cartID, dripper, 1, "USD"); err != nil { // a change: the cart's orders are not reused
		t.Fatal(err)
	}
	if _, _, err := payments.PlaceOrder(ctx, cartID, "GBP", customer); !errors.Is(err, orders.ErrNotOffered) {
		t.Errorf("checkout in GBP with the mug = %v, want ErrNotOffered", err)
	}
	if err := carts.Add(ctx, cartID, mug, 1, "GBP"); !errors.Is(err, orders.ErrNotOffered) {
		t.Errorf("adding the mug in GBP = %v, want ErrNotOffered", err)
	}
	if _, err := carts.SetQuantity(ctx, cartID, mug, 0); err != nil {
		t.Fatal(err)
	}
	o, _, err := payments.PlaceOrder(ctx, cartID, "GBP", customer)
	if err != nil || o.TotalMinor != 2*2800 || o.Currency != "GBP" {
		t.Fatalf("checkout in GBP without the mug = %+v, %v; want £56.00", o, err)
	}
}
