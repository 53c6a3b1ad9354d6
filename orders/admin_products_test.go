package orders_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orders"
)

// mugID is the seeded enamel mug's id.
func mugID(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `SELECT id FROM products WHERE slug = 'enamel-mug'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// changeRows returns product id's recorded changes as "actor field from→to",
// oldest first.
func changeRows(t *testing.T, pool *pgxpool.Pool, id int64) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT actor || ' ' || field || ' ' || coalesce(from_value, '-') || '→' || coalesce(to_value, '-')
		FROM product_changes WHERE product_id = $1 ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return list
}

var at = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

func TestSetPricesAddChangeRemoveAndRecord(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	s := orders.NewOrders(db.Pool)
	id := mugID(t, db.Pool)
	by := orders.Change{Actor: "merchant", At: at}

	// The seed: USD 19.99, EUR 19.00, GBP 16.00, CAD 27.00.
	err := s.SetPrices(ctx, id, []orders.PriceChange{
		{Currency: "USD", From: 1999, To: 2100}, // change
		{Currency: "EUR", From: 1900, To: 1900}, // unchanged: nothing written
		{Currency: "GBP", From: 1600, To: 0},    // remove
	}, by)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.AdminProduct(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"USD": 2100, "EUR": 1900, "CAD": 2700}, p.Prices); diff != "" {
		t.Errorf("prices (-want +got):\n%s", diff)
	}
	// Add GBP back.
	if err := s.SetPrices(ctx, id, []orders.PriceChange{{Currency: "GBP", From: 0, To: 1500}}, by); err != nil {
		t.Fatal(err)
	}
	want := []string{"merchant price USD 19.99→21.00", "merchant price GBP 16.00→-", "merchant price GBP -→15.00"}
	if diff := cmp.Diff(want, changeRows(t, db.Pool, id)); diff != "" {
		t.Errorf("recorded changes (-want +got):\n%s", diff)
	}
	changes, err := s.ProductChanges(ctx, id, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 || changes[0].Field != "price GBP" || *changes[0].To != "15.00" || !changes[0].At.Equal(at) {
		t.Errorf("ProductChanges newest first = %+v, want the GBP addition at %s first", changes, at)
	}
}

// TestSetPricesIsAllOrNothing: one stale price among several changes fails the
// whole save with ErrConflict, and nothing — no price, no change record — is
// written.
func TestSetPricesIsAllOrNothing(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	s := orders.NewOrders(db.Pool)
	id := mugID(t, db.Pool)
	tests := []struct {
		name  string
		stale orders.PriceChange
	}{
		{"changed meanwhile", orders.PriceChange{Currency: "EUR", From: 1800, To: 2000}},
		{"removed meanwhile", orders.PriceChange{Currency: "EUR", From: 1800, To: 0}},
		{"added meanwhile", orders.PriceChange{Currency: "EUR", From: 0, To: 2000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.SetPrices(ctx, id, []orders.PriceChange{{Currency: "USD", From: 1999, To: 2500}, tt.stale}, orders.Change{Actor: "merchant", At: at})
			if !errors.Is(err, orders.ErrConflict) {
				t.Fatalf("SetPrices with a stale EUR = %v, want ErrConflict", err)
			}
			p, err := s.AdminProduct(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if p.Prices["USD"] != 1999 || p.Prices["EUR"] != 1900 {
				t.Errorf("prices after a refused save = %v, want USD 1999 and EUR 1900 as they were", p.Prices)
			}
			if got := changeRows(t, db.Pool, id); len(got) != 0 {
				t.Errorf("a refused save recorded %q", got)
			}
		})
	}
	if err := s.SetPrices(ctx, 999999, []orders.PriceChange{{Currency: "USD", From: 1999, To: 2500}}, orders.Change{}); !errors.Is(err, orders.ErrNotFound) {
		t.Errorf("SetPrices of an unknown product = %v, want ErrNotFound", err)
	}
	if err := s.SetPrices(ctx, 999999, []orders.PriceChange{{Currency: "USD", From: 0, To: 2500}}, orders.Change{}); !errors.Is(err, orders.ErrNotFound) {
		t.Errorf("adding a price to an unknown product = %v, want ErrNotFound", err)
	}
	for _, bad := range []orders.PriceChange{
		{Currency: "JPY", From: 0, To: 100},
		{Currency: "USD", From: 1999, To: -1},
		{Currency: "USD", From: 1999, To: 100_000_001},
	} {
		if err := s.SetPrices(ctx, id, []orders.PriceChange{bad}, orders.Change{}); !errors.Is(err, orders.ErrInvalid) {
			t.Errorf("SetPrices(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

// TestConcurrentPriceEditsOneWins: admins who all loaded EUR 19.00 save
// different prices at the same moment; exactly one save is made and recorded,
// and every other gets ErrConflict.
func TestConcurrentPriceEditsOneWins(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	s := orders.NewOrders(db.Pool)
	id := mugID(t, db.Pool)
	const admins = 8
	errs := make([]error, admins)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range admins {
		wg.Go(func() {
			<-start
			errs[i] = s.SetPrices(ctx, id, []orders.PriceChange{{Currency: "EUR", From: 1900, To: int64(2000 + i)}},
				orders.Change{Actor: "admin" + string(rune('a'+i)), At: at})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("admins %d and %d both saved", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, orders.ErrConflict):
			t.Errorf("admin %d: %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no save was made")
	}
	p, err := s.AdminProduct(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Prices["EUR"] != int64(2000+winner) {
		t.Errorf("EUR = %d, want the winner's %d", p.Prices["EUR"], 2000+winner)
	}
	if got := changeRows(t, db.Pool, id); len(got) != 1 {
		t.Errorf("recorded %q, want the one save", got)
	}
}

func TestSetActive(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	s := orders.NewOrders(db.Pool)
	id := mugID(t, db.Pool)
	by := orders.Change{Actor: "merchant", At: at}
	for _, step := range []struct {
		active, wantChanged bool
	}{{false, true}, {false, false}, {true, true}, {true, false}} {
		changed, err := s.SetActive(ctx, id, step.active, by)
		if err != nil || changed != step.wantChanged {
			t.Errorf("SetActive(%v) = %v, %v; want %v", step.active, changed, err, step.wantChanged)
		}
	}
	want := []string{"merchant status active→inactive", "merchant status inactive→active"}
	if diff := cmp.Diff(want, changeRows(t, db.Pool, id)); diff != "" {
		t.Errorf("recorded changes (-want +got):\n%s", diff)
	}
	if _, err := s.SetActive(ctx, 999999, false, by); !errors.Is(err, orders.ErrNotFound) {
		t.Errorf("SetActive of an unknown product = %v, want ErrNotFound", err)
	}
}

func TestCreateProduct(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	s := orders.NewOrders(db.Pool)
	by := orders.Change{Actor: "merchant", At: at}
	np := orders.NewProduct{
		Slug: "cold-brew-jar", Name: "Cold brew jar", Description: "One litre.", Image: "img/mug.svg", Active: true,
		Prices: map[string]int64{"EUR": 2400, "GBP": 2100},
	}
	id, err := s.CreateProduct(ctx, np, by)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.AdminProduct(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := orders.AdminProduct{ID: id, Slug: np.Slug, Name: np.Name, Description: np.Description, Image: np.Image, Active: true, Prices: np.Prices}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("created product (-want +got):\n%s", diff)
	}
	list, err := s.AdminProducts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 7 || list[6].ID != id {
		t.Errorf("AdminProducts lists %d products, the new one last: %+v", len(list), list)
	}
	wantChanges := []string{"merchant created -→Cold brew jar", "merchant price EUR -→24.00", "merchant price GBP -→21.00"}
	if diff := cmp.Diff(wantChanges, changeRows(t, db.Pool, id)); diff != "" {
		t.Errorf("recorded changes (-want +got):\n%s", diff)
	}

	// The slug is taken: ErrConflict, nothing written.
	var before int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM products) + (SELECT count(*) FROM product_changes) + (SELECT count(*) FROM product_prices)`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	dup := np
	dup.Name = "Another jar"
	if _, err := s.CreateProduct(ctx, dup, by); !errors.Is(err, orders.ErrConflict) {
		t.Errorf("CreateProduct with a taken slug = %v, want ErrConflict", err)
	}
	for _, bad := range []func(*orders.NewProduct){
		func(p *orders.NewProduct) { p.Slug = "Bad Slug" },
		func(p *orders.NewProduct) { p.Name = "Jar\x00" },
		func(p *orders.NewProduct) { p.Name = "  Jar" }, // not as CleanProductName leaves it
		func(p *orders.NewProduct) { p.Description = "A\tjar" },
		func(p *orders.NewProduct) { p.Prices = nil },
		func(p *orders.NewProduct) { p.Prices = map[string]int64{"JPY": 100} },
		func(p *orders.NewProduct) { p.Prices = map[string]int64{"USD": 0} },
	} {
		p := np
		p.Slug = "another-jar"
		bad(&p)
		if _, err := s.CreateProduct(ctx, p, by); !errors.Is(err, orders.ErrInvalid) {
			t.Errorf("CreateProduct(%+v) = %v, want ErrInvalid", p, err)
		}
	}
	var after int
	if err := db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM products) + (SELECT count(*) FROM product_changes) + (SELECT count(*) FROM product_prices)`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("refused creations wrote %d rows", after-before)
	}
}
