package orders_test

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
	"github.com/orchestrate-checkout/checkout/orders"
)

const sandboxKey = "sk_orders_test"

// stockSandbox is an Orchestrate sandbox over HTTP and payments that use it.
type stockSandbox struct {
	url      string
	payments *orders.Payments
}

// newStockSandbox starts a sandbox for the test and returns Payments on db that
// create their payments there, with cfg's clock, expiry and grace. The client
// does not retry, so one injected error is one failed create.
func newStockSandbox(t *testing.T, db *testdb.DB, cfg orders.PaymentsConfig) *stockSandbox {
	t.Helper()
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	sb, err := sandbox.New(sandbox.Config{APIKey: sandboxKey, BaseURL: srv.URL, MerchantName: "Field Kettle"})
	if err != nil {
		t.Fatal(err)
	}
	handler = sb.Handler()
	client, err := orchestrate.NewClient(srv.URL, sandboxKey, orchestrate.WithRetry(1, time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	origin, _ := url.Parse(srv.URL)
	cfg.PublicURL, _ = url.Parse("http://shop.test")
	cfg.LinkOrigin = origin
	cfg.MCC = 5999
	cfg.Description = "Field Kettle"
	return &stockSandbox{url: srv.URL, payments: orders.NewPayments(db.Pool, client, cfg, nil)}
}

// setFaults replaces the sandbox's fault settings (JSON as its control endpoint
// takes).
func (s *stockSandbox) setFaults(t *testing.T, faults string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, s.url+"/_sandbox/faults", strings.NewReader(faults))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+sandboxKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("set sandbox faults %s = %d", faults, resp.StatusCode)
	}
}

// heldBy returns the units each order holds, by order id.
func heldBy(t *testing.T, db *testdb.DB) map[int64]int {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT order_id, sum(quantity)::int FROM stock_holds GROUP BY order_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	held := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		held[id] = n
	}
	return held
}

// TestReleaseExpiredHoldsFollowsTheClock: the sweeper releases, by the payments'
// clock, exactly the holds past their expiry (the attempt's time plus the
// payment expiry plus the hold grace) of orders that can still be paid: not a
// younger order's, not those of an order under review, not those a second
// payment extended; a second run releases nothing more. The clock is pinned years
// before the real date, so the database's now() would find every hold long due.
func TestReleaseExpiredHoldsFollowsTheClock(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	t0 := time.Date(2021, time.March, 1, 12, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(t0)
	sb := newStockSandbox(t, db, orders.PaymentsConfig{Clock: clock, Expiry: time.Hour, HoldGrace: 10 * time.Minute})
	p := sb.payments
	kettle := productID(t, db, "gooseneck-kettle")
	if _, err := db.Pool.Exec(ctx, `INSERT INTO stock (product_id, on_hand) VALUES ($1, 10)`, kettle); err != nil {
		t.Fatal(err)
	}
	carts := orders.NewCarts(db.Pool)
	checkout := func(quantity int) *orders.Order {
		t.Helper()
		cart := orders.NewCartID()
		if err := carts.Add(ctx, cart, kettle, quantity, "USD"); err != nil {
			t.Fatal(err)
		}
		o, _, err := p.Checkout(ctx, cart, "USD", shopper("Ann", "ann@example.com"))
		if o == nil {
			t.Fatalf("checkout: %v", err)
		}
		return o
	}

	// Under review: a payment of the wrong amount completed, which took its
	// unit. Placed first, and given back a lapsed hold as an order under review
	// from before units were taken then would still have, so a sweep that
	// picked orders without looking at their status would meet it first.
	review := checkout(1)
	var reviewPay string
	if err := db.Pool.QueryRow(ctx, `SELECT orchestrate_payment_id FROM payment_attempts WHERE order_id = $1`, review.ID).Scan(&reviewPay); err != nil {
		t.Fatal(err)
	}
	attempt := attemptOf(t, db, review.ID)
	if _, err := p.Apply(ctx, attempt, payment(reviewPay, orchestrate.StatusCompleted, review.TotalMinor-1, "USD"), "webhook", ""); err != nil {
		t.Fatal(err)
	}
	if got := heldBy(t, db); got[review.ID] != 0 {
		t.Fatalf("the order under review still holds %d", got[review.ID])
	}
	if _, err := db.Pool.Exec(ctx, `
		WITH h AS (INSERT INTO stock_holds (order_id, product_id, quantity, expires_at) VALUES ($1, $2, 1, $3))
		UPDATE stock SET held = held + 1 WHERE product_id = $2`, review.ID, kettle, t0.Add(70*time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Abandoned: its payment is open and no news of its end ever comes.
	abandoned := checkout(2)
	// Extended: its first create failed (the order stays payable, its units held);
	// the shopper pays again at +50 min, which extends its holds to +2 h.
	sb.setFaults(t, `{"create_errors": 1, "error_status": 503}`)
	extended, _, err := p.Checkout(ctx, func() string {
		cart := orders.NewCartID()
		if err := carts.Add(ctx, cart, kettle, 3, "USD"); err != nil {
			t.Fatal(err)
		}
		return cart
	}(), "USD", shopper("Bo", "bo@example.com"))
	if extended == nil || err == nil {
		t.Fatalf("checkout with a failing create = %v, %v; want the order and an error", extended, err)
	}
	clock.Advance(30 * time.Minute)
	younger := checkout(1) // holds until +1 h 40 min
	clock.Advance(20 * time.Minute)
	if _, err := p.Start(ctx, extended.ID); err != nil {
		t.Fatalf("paying again: %v", err)
	}
	want := map[int64]int{review.ID: 1, abandoned.ID: 2, extended.ID: 3, younger.ID: 1}
	check := func(when string, released, wantReleased int) {
		t.Helper()
		if released != wantReleased {
			t.Errorf("%s: released %d orders, want %d", when, released, wantReleased)
		}
		if got := heldBy(t, db); !maps.Equal(got, want) {
			t.Errorf("%s: holds by order %v, want %v", when, got, want)
		}
		if _, held := stockOf(t, db.Pool, kettle); held != sum(want) {
			t.Errorf("%s: %d held, want %d", when, held, sum(want))
		}
		checkHolds(t, db.Pool)
	}
	sweep := func(limit int) int {
		t.Helper()
		n, err := p.ReleaseExpiredHolds(ctx, limit)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	clock.Advance(19*time.Minute + 59*time.Second) // +69 min 59 s: nothing is past its expiry
	check("just before the first holds lapse", sweep(100), 0)

	clock.Advance(2 * time.Second) // +70 min 1 s
	// One order at a time: the order under review, whose holds lapsed too, must
	// not take the abandoned order's turn.
	delete(want, abandoned.ID)
	check("once the first holds lapsed", sweep(1), 1)
	check("sweeping again", sweep(100), 0)

	clock.Advance(31 * time.Minute) // +1 h 41 min: the younger order's lapsed
	delete(want, younger.ID)
	check("once the younger order's holds lapsed", sweep(100), 1)

	clock.Advance(20 * time.Minute) // +2 h 1 min: the extended order's lapsed
	delete(want, extended.ID)
	check("once the extended holds lapsed", sweep(100), 1)
	check("sweeping again", sweep(100), 0)

	var events []string
	rows, err := db.Pool.Query(ctx, `
		SELECT order_id || ':' || cause FROM order_events WHERE subject = 'stock' AND to_status = 'released' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	wantEvents := []string{
		itoa(abandoned.ID) + ":sweep", itoa(younger.ID) + ":sweep", itoa(extended.ID) + ":sweep",
	}
	if strings.Join(events, " ") != strings.Join(wantEvents, " ") {
		t.Errorf("released events %v, want %v: one per order the sweeper released", events, wantEvents)
	}
}

// attemptOf returns the id of the order's latest attempt.
func attemptOf(t *testing.T, db *testdb.DB, orderID int64) string {
	t.Helper()
	var id string
	if err := db.Pool.QueryRow(context.Background(), `
		SELECT id::text FROM payment_attempts WHERE order_id = $1 ORDER BY created_at DESC, id LIMIT 1`, orderID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func sum(m map[int64]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
