package orders_test

import (
	"context"
	"errors"
	"testing"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// usAddress is a valid address for the orders' tests.
var usAddress = orders.Address{Recipient: "Ann Lee", Line1: "1 Main St", City: "Austin", Region: "TX", PostalCode: "78701", Country: "US"}

// shopper is a customer shipping Standard to usAddress.
func shopper(name, email string) orders.Customer {
	return orders.Customer{Name: name, Email: email, Address: usAddress, Method: "standard"}
}

// TestShippingInEachCurrency: the order's total is its items plus the chosen
// method's price in the order's currency; Standard is free when the items add up
// to at least its threshold (just below pays, at and above do not), Express never
// is; and the order keeps the address and method.
func TestShippingInEachCurrency(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	carts := orders.NewCarts(db.Pool)
	payments := orders.NewPayments(db.Pool, nil, orders.PaymentsConfig{}, nil)
	dripper := productID(t, db, "pour-over-dripper")
	price := map[string]int64{"USD": 3400, "EUR": 3200, "GBP": 2800, "CAD": 4600}
	standard := map[string]int64{"USD": 599, "EUR": 499, "GBP": 449, "CAD": 799}
	express := map[string]int64{"USD": 1499, "EUR": 1299, "GBP": 1199, "CAD": 1999}

	place := func(t *testing.T, currency, method string) *orders.Order {
		t.Helper()
		cart := orders.NewCartID()
		if err := carts.Add(ctx, cart, dripper, 1, currency); err != nil {
			t.Fatal(err)
		}
		c := shopper("Ann", "ann@example.com")
		c.Method = method
		o, _, err := payments.PlaceOrder(ctx, cart, currency, c)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	setThreshold := func(t *testing.T, currency string, free int64) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, `UPDATE shipping_rates SET free_over_minor = $2 WHERE method = 'standard' AND currency = $1`, currency, free); err != nil {
			t.Fatal(err)
		}
	}
	for _, currency := range orders.Currencies {
		t.Run(currency, func(t *testing.T) {
			for _, tt := range []struct {
				name     string
				method   string
				free     int64 // Standard's threshold, relative to the items' subtotal
				shipping int64
			}{
				{"standard just below the threshold", "standard", price[currency] + 1, standard[currency]},
				{"standard at the threshold", "standard", price[currency], 0},
				{"standard above the threshold", "standard", price[currency] - 1, 0},
				{"express", "express", price[currency] - 1, express[currency]},
			} {
				setThreshold(t, currency, tt.free)
				o := place(t, currency, tt.method)
				if o.ShippingMinor != tt.shipping || o.TotalMinor != price[currency]+tt.shipping || o.Currency != currency {
					t.Errorf("%s: shipping %d, total %d %s; want shipping %d, total %d %s", tt.name,
						o.ShippingMinor, o.TotalMinor, o.Currency, tt.shipping, price[currency]+tt.shipping, currency)
				}
				if o.Address != usAddress || o.ShippingMethod != tt.method || o.ShippingMethodName == "" {
					t.Errorf("%s: order ships to %+v by %q (%q)", tt.name, o.Address, o.ShippingMethod, o.ShippingMethodName)
				}
				opts, err := payments.ShippingOptions(ctx, currency, price[currency])
				if err != nil {
					t.Fatal(err)
				}
				offered := false
				for _, opt := range opts {
					if opt.Code == tt.method {
						offered = true
						if opt.Price.Minor != tt.shipping {
							t.Errorf("%s: the form offers %s at %v, the order charged %d", tt.name, opt.Code, opt.Price, tt.shipping)
						}
					}
				}
				if !offered {
					t.Errorf("%s: the form does not offer %s, which the order was charged for", tt.name, tt.method)
				}
			}
		})
	}

	// A method not offered in the currency makes no order.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM shipping_rates WHERE method = 'express' AND currency = 'GBP'`); err != nil {
		t.Fatal(err)
	}
	cart := orders.NewCartID()
	if err := carts.Add(ctx, cart, dripper, 1, "GBP"); err != nil {
		t.Fatal(err)
	}
	c := shopper("Ann", "ann@example.com")
	c.Method = "express"
	if o, _, err := payments.PlaceOrder(ctx, cart, "GBP", c); !errors.Is(err, orders.ErrNoShipping) {
		t.Errorf("express without a GBP rate: %v, %v; want ErrNoShipping", o, err)
	}
}

// TestChangedShippingMakesANewOrder: a re-checkout of an unchanged cart reuses
// its order only while the address and method are the same; a changed one makes
// a new order priced with the new method.
func TestChangedShippingMakesANewOrder(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	carts := orders.NewCarts(db.Pool)
	payments := orders.NewPayments(db.Pool, nil, orders.PaymentsConfig{}, nil)
	cart := orders.NewCartID()
	if err := carts.Add(ctx, cart, productID(t, db, "pour-over-dripper"), 1, "USD"); err != nil {
		t.Fatal(err)
	}
	c := shopper("Ann", "ann@example.com")
	first, _, err := payments.PlaceOrder(ctx, cart, "USD", c)
	if err != nil {
		t.Fatal(err)
	}
	again, a, err := payments.PlaceOrder(ctx, cart, "USD", c)
	if err != nil || again.ID != first.ID || a != nil {
		t.Fatalf("same shipping: order %v, attempt %v, %v; want order %d reused", again, a, err, first.ID)
	}
	c.Method = "express"
	express, a, err := payments.PlaceOrder(ctx, cart, "USD", c)
	if err != nil || express.ID == first.ID || a == nil || express.TotalMinor != 3400+1499 || a.AmountMinor != express.TotalMinor {
		t.Fatalf("changed method: %+v, attempt %+v, %v; want a new order of 48.99", express, a, err)
	}
	c.Address.Line1 = "2 Main St"
	moved, _, err := payments.PlaceOrder(ctx, cart, "USD", c)
	if err != nil || moved.ID == express.ID || moved.Line1 != "2 Main St" {
		t.Fatalf("changed address: %+v, %v; want a new order shipping to 2 Main St", moved, err)
	}
}

// TestPaymentAmountIncludesShipping: the payment Orchestrate creates, read back
// from the sandbox over HTTP, is for the items plus shipping.
func TestPaymentAmountIncludesShipping(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	sb := newStockSandbox(t, db, orders.PaymentsConfig{})
	carts := orders.NewCarts(db.Pool)
	cart := orders.NewCartID()
	if err := carts.Add(ctx, cart, productID(t, db, "pour-over-dripper"), 1, "EUR"); err != nil {
		t.Fatal(err)
	}
	c := shopper("Ann", "ann@example.com")
	c.Method = "express"
	o, _, err := sb.payments.Checkout(ctx, cart, "EUR", c)
	if err != nil {
		t.Fatal(err)
	}
	var paymentID string
	if err := db.Pool.QueryRow(ctx, `SELECT orchestrate_payment_id FROM payment_attempts WHERE order_id = $1`, o.ID).Scan(&paymentID); err != nil {
		t.Fatal(err)
	}
	client, err := orchestrate.NewClient(sb.url, sandboxKey)
	if err != nil {
		t.Fatal(err)
	}
	p, err := client.GetPayment(ctx, paymentID)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(3200 + 1299); p.Amount != want || p.Currency != "EUR" || o.TotalMinor != want {
		t.Errorf("Orchestrate's payment is %d %s, order total %d; want %d EUR (items 3200 + Express 1299)", p.Amount, p.Currency, o.TotalMinor, want)
	}
}
