// Checkout: the cart becomes an order, its units are held and its first payment
// attempt is written, in one transaction of one round trip (two statements in one
// batch), before Orchestrate is called; then the payment is created. A checkout that meets a product sold out changes nothing and names
// what is short.

package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrEmptyCart is returned by a checkout of a cart with nothing in it.
var ErrEmptyCart = fmt.Errorf("the cart is empty: %w", ErrInvalid)

// Checkout turns the cart into an order (PlaceOrder) and starts its payment,
// returning the order and the payment link. On an error of the payment (see
// Start) the order is returned with it, for the order's page to explain.
func (p *Payments) Checkout(ctx context.Context, cartID, currency string, c Customer) (*Order, string, error) {
	o, a, err := p.PlaceOrder(ctx, cartID, currency, c)
	if err != nil {
		return nil, "", err
	}
	if a == nil {
		link, err := p.Start(ctx, o.ID)
		return o, link, err
	}
	// The work outlives a cancelled request, as Start's does: the attempt is
	// written, and a shopper who clicked again waits on it through another.
	payCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.startTimeout())
	defer cancel()
	link, err := p.create(payCtx, o, a)
	if errors.Is(err, errSuperseded) {
		link, err = p.Start(ctx, o.ID) // the customer changed meanwhile: the attempt that carries them
	}
	return o, link, err
}

// PlaceOrder turns the cart into an order in currency (the shopper's) and returns
// it with its first payment attempt, creating, for the caller to create its
// payment: one transaction copies the items at the catalog's prices in that
// currency, holds the units of tracked products until the payment's expiry plus
// the hold grace, writes the attempt, and links the cart to the order.
//
// The order ships to c.Address by c.Method, priced in SQL from the merchant's
// shipping_rates: free when the items add up to at least the rate's
// free_over_minor. The total, and so the payment's amount, includes it.
//
// While the cart is unchanged and checked out in the same currency, address and
// shipping method, a repeated checkout (a double click, a second tab) returns the
// same payable order and no attempt, with the customer c now gives (see
// changeCustomer); the caller then Starts its payment, which holds its units
// again if they were released. A changed address or method makes a new order, as
// a changed currency does: its total may differ, and a payment's amount cannot
// change. It returns ErrEmptyCart for an empty cart, ErrNotOffered when a
// line's product has no price in currency, ErrNoShipping when c.Method is not
// offered in currency, a *ShortageError (ErrSoldOut) naming the short lines when
// the database refuses to hold them, ErrBusy when units were refused and freed
// again five times over, and ErrInvalid when the cart changed while it was being
// priced.
func (p *Payments) PlaceOrder(ctx context.Context, cartID, currency string, c Customer) (*Order, *Attempt, error) {
	if !ValidMethodCode(c.Method) {
		return nil, nil, fmt.Errorf("shipping method %q: %w", c.Method, ErrNoShipping)
	}
	for range 5 {
		o, a, err := p.placeOrder(ctx, cartID, currency, c)
		if !holdRefused(err) {
			return o, a, err
		}
		short, serr := cartShortages(ctx, p.pool, cartID)
		if serr != nil {
			return nil, nil, serr
		}
		if len(short) > 0 {
			return nil, nil, &ShortageError{Lines: short}
		}
		// Released between the refusal and the read: try again.
	}
	return nil, nil, fmt.Errorf("checkout of a cart whose stock keeps changing: %w", ErrBusy)
}

// placed is the order the checkout's statement made, with its attempt's id.
type placed struct {
	Order
	AttemptID string  `db:"attempt_id"`
	Held      bool    `db:"held"`    // whether it held any units
	GaveUp    []int64 `db:"gave_up"` // the cart's earlier orders whose holds it took over
}

func (p *Payments) placeOrder(ctx context.Context, cartID, currency string, c Customer) (*Order, *Attempt, error) {
	now := p.cfg.Clock.Now()
	// Two statements sent as one batch: one round trip, run in the one implicit
	// transaction of a pipeline and committed at its end, or rolled back whole
	// when either fails.
	//
	// The first locks the cart, so concurrent checkouts of it queue there and the
	// second finds the order the first created. Every writer of a cart locks its
	// row first, so the second statement, in a snapshot taken after this lock,
	// sees the cart's lines (and its order) as they are.
	//
	// The second makes, in one snapshot of the prices, the order and its items,
	// the holds, the attempt, the events and the cart's link to the order. No
	// order is made when a line has no price or the method no rate in currency.
	//
	// The holds: the cart's earlier orders that can still be paid give theirs
	// up (the shopper changed the cart, or its currency, and checks out what it
	// holds now, so a unit they held is not refused to them), skipping any a
	// payment is taking or releasing this instant; the change in each product's
	// held is the new order's units less those given up, applied to the stock
	// rows locked in product order, as every writer of several locks them. The
	// trigger refuses a hold that grows past on_hand, and the statement, and so
	// the whole checkout, fails.
	//
	// While the cart is unchanged, it stands for a payable order in currency,
	// shipping as c asks, which a checkout reuses: then the statement makes nothing.
	b := &pgx.Batch{}
	var existing *int64
	b.Queue(`SELECT order_id FROM carts WHERE id = $1 FOR UPDATE`, cartID).QueryRow(func(row pgx.Row) error {
		if err := row.Scan(&existing); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("lock cart: %w", err)
		}
		return nil
	})
	var pl *placed
	b.Queue(`
			WITH priced AS MATERIALIZED (
				SELECT p.id, p.name, pp.amount_minor, ci.quantity
				FROM cart_items ci JOIN products p ON p.id = ci.product_id AND p.active
				LEFT JOIN product_prices pp ON pp.product_id = ci.product_id AND pp.currency = $3
				WHERE ci.cart_id = $2
			), ship AS (
				SELECT m.code, m.name,
				       CASE WHEN r.free_over_minor <= (SELECT sum(amount_minor * quantity) FROM priced)
				            THEN 0 ELSE r.amount_minor END AS amount_minor
				FROM shipping_methods m JOIN shipping_rates r ON r.method = m.code AND r.currency = $3
				WHERE m.code = $11 AND m.active
			), o AS (
				INSERT INTO orders (public_ref, cart_id, currency, total_minor, customer_name, customer_email,
				                    ship_recipient, ship_line1, ship_line2, ship_city, ship_region, ship_postal_code,
				                    ship_country, shipping_method, shipping_method_name, shipping_minor)
				SELECT $1, $2, $3, sum(priced.amount_minor * priced.quantity) + ship.amount_minor, $4, $5,
				       $12, $13, $14, $15, $16, $17, $18, ship.code, ship.name, ship.amount_minor
				FROM priced, ship
				GROUP BY ship.code, ship.name, ship.amount_minor
				HAVING count(*) > 0 AND count(*) = count(priced.amount_minor)
				   AND NOT EXISTS (SELECT 1 FROM carts c JOIN orders r ON r.id = c.order_id
				                   WHERE c.id = $2 AND r.status = ANY($10) AND r.currency = $3
				                     AND (r.ship_recipient, r.ship_line1, r.ship_line2, r.ship_city, r.ship_region,
				                          r.ship_postal_code, r.ship_country, r.shipping_method)
				                       = ($12, $13, $14, $15, $16, $17, $18, $11))
				RETURNING `+orderColumns+`
			), items AS (
				INSERT INTO order_items (order_id, product_id, name, unit_price_minor, quantity)
				SELECT o.id, priced.id, priced.name, priced.amount_minor, priced.quantity
				FROM o, priced
			), given_up AS (
				DELETE FROM stock_holds h
				WHERE (h.order_id, h.product_id) IN (
					SELECT gh.order_id, gh.product_id
					FROM stock_holds gh JOIN orders g ON g.id = gh.order_id
					WHERE g.cart_id = $2 AND g.status <> ALL($9) AND EXISTS (SELECT 1 FROM o)
					FOR UPDATE OF gh SKIP LOCKED)
				RETURNING h.order_id, h.product_id, h.quantity
			), change AS (
				SELECT product_id, sum(quantity)::integer AS quantity FROM (
					SELECT priced.id AS product_id, priced.quantity FROM priced WHERE EXISTS (SELECT 1 FROM o)
					UNION ALL
					SELECT product_id, -quantity FROM given_up) c
				GROUP BY product_id
			), locked AS (
				SELECT s.product_id, change.quantity
				FROM stock s JOIN change ON change.product_id = s.product_id
				ORDER BY s.product_id
				FOR UPDATE OF s
			), held AS (
				UPDATE stock s SET held = s.held + locked.quantity, updated_at = now()
				FROM locked WHERE s.product_id = locked.product_id AND locked.quantity <> 0
			), need AS (
				SELECT priced.id AS product_id, priced.quantity, priced.name
				FROM priced JOIN locked ON locked.product_id = priced.id
			), holds AS (
				INSERT INTO stock_holds (order_id, product_id, quantity, expires_at)
				SELECT o.id, need.product_id, need.quantity, $8 FROM o, need
			), a AS (
				INSERT INTO payment_attempts (id, order_id, amount_minor, currency, created_at, next_check_at)
				SELECT gen_random_uuid(), o.id, o.total_minor, o.currency, $6, $6::timestamptz + $7::interval FROM o
				RETURNING id
			), events AS (
				INSERT INTO order_events (order_id, attempt_id, subject, to_status, cause, detail)
				SELECT o.id, NULL::uuid, 'order', 'awaiting_payment', 'checkout', '' FROM o
				UNION ALL
				SELECT o.id, a.id, 'attempt', 'creating', 'checkout', '' FROM o, a
				UNION ALL
				SELECT o.id, NULL, 'stock', 'held', 'checkout',
				       string_agg(need.quantity || ' × ' || need.name, ', ' ORDER BY need.name)
				FROM o, need GROUP BY o.id
				UNION ALL
				SELECT g.order_id, NULL, 'stock', 'released', 'new order from the same cart',
				       string_agg(g.quantity || ' × ' || oi.name, ', ' ORDER BY oi.name)
				FROM given_up g JOIN order_items oi ON oi.order_id = g.order_id AND oi.product_id = g.product_id
				GROUP BY g.order_id
			), linked AS (
				UPDATE carts SET order_id = (SELECT id FROM o) WHERE id = $2 AND EXISTS (SELECT 1 FROM o)
			)
			SELECT o.*, a.id::text AS attempt_id, EXISTS (SELECT 1 FROM need) AS held,
			       ARRAY(SELECT DISTINCT order_id FROM given_up) AS gave_up
			FROM o, a`,
		randomToken(16), cartID, currency, c.Name, c.Email, now, p.cfg.RecheckYoung, p.holdUntil(now),
		finalStatuses(), payableStatuses(), c.Method, c.Address.Recipient, c.Address.Line1, c.Address.Line2,
		c.Address.City, c.Address.Region, c.Address.PostalCode, c.Address.Country).Query(func(rows pgx.Rows) error {
		got, err := pgx.CollectRows(rows, pgx.RowToAddrOfStructByName[placed])
		if err != nil {
			return fmt.Errorf("place order: %w", err)
		}
		if len(got) == 1 {
			pl = got[0]
		}
		return nil
	})
	if err := p.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, err
	}

	if pl == nil {
		if existing != nil {
			o, err := scanOrder(p.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, *existing))
			if err != nil {
				return nil, nil, err
			}
			if o.Status.Payable() && o.Currency == currency && o.Address == c.Address && o.ShippingMethod == c.Method {
				if o.CustomerName != c.Name || o.CustomerEmail != c.Email {
					// Its own transaction, locking the order only after the cart's
					// is over: reconciliation locks an order before its cart.
					o, err = p.changeCustomer(ctx, o.ID, c)
				}
				return o, nil, err
			}
		}
		return nil, nil, p.whyNoOrder(ctx, cartID, currency, c.Method)
	}
	events := []Event{
		{OrderID: pl.ID, Subject: "order", ToStatus: string(StatusAwaitingPayment), Cause: "checkout"},
		{OrderID: pl.ID, AttemptID: &pl.AttemptID, Subject: "attempt", ToStatus: string(AttemptCreating), Cause: "checkout"},
	}
	if pl.Held {
		events = append(events, Event{OrderID: pl.ID, Subject: "stock", ToStatus: "held", Cause: "checkout"})
	}
	for _, id := range pl.GaveUp {
		events = append(events, Event{OrderID: id, Subject: "stock", ToStatus: "released", Cause: "new order from the same cart"})
	}
	p.cfg.Metrics.committed(events)
	return &pl.Order, &Attempt{ID: pl.AttemptID, OrderID: pl.ID, Status: AttemptCreating,
		AmountMinor: pl.TotalMinor, Currency: pl.Currency, CreatedAt: now}, nil
}

// whyNoOrder says why the checkout's statement made no order: an empty cart, a
// line without a price in currency, a shipping method not offered in currency,
// or (when none is true now) a cart whose prices changed while it was checked
// out.
func (p *Payments) whyNoOrder(ctx context.Context, cartID, currency, method string) error {
	var lines, unpriced int
	var shippable bool
	err := p.pool.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE pp.amount_minor IS NULL),
		       EXISTS (SELECT 1 FROM shipping_methods m JOIN shipping_rates r ON r.method = m.code AND r.currency = $2
		               WHERE m.code = $3 AND m.active)
		FROM cart_items ci JOIN products p ON p.id = ci.product_id AND p.active
		LEFT JOIN product_prices pp ON pp.product_id = ci.product_id AND pp.currency = $2
		WHERE ci.cart_id = $1`, cartID, currency, method).Scan(&lines, &unpriced, &shippable)
	switch {
	case err != nil:
		return fmt.Errorf("price cart: %w", err)
	case lines == 0:
		return ErrEmptyCart
	case unpriced > 0:
		return fmt.Errorf("%d of the cart's products in %s: %w", unpriced, currency, ErrNotOffered)
	case !shippable:
		return fmt.Errorf("%q in %s: %w", method, currency, ErrNoShipping)
	}
	return fmt.Errorf("the cart's prices changed while it was checked out: %w", ErrInvalid)
}

// holdGraceDefault is the hold grace when the configuration sets none.
const holdGraceDefault = 10 * time.Minute
