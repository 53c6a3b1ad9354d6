// Stock: the units an order holds while it can still be paid, and where they go
// when its payment ends. Checkout (checkout.go) and paying again (newAttempt) hold
// them; Apply takes them when the order is paid and releases them when its payment
// fails or expires; the sweeper releases the holds of orders that got no payment
// in time. The database refuses a hold larger than what is on hand (the trigger
// stock_held_within_on_hand, migration 00009): that refusal, never a read made
// beforehand, is how a checkout learns a product sold out.

package orders

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// LowStock is the availability at or below which the shop says "Only N left" and
// the admin's overview lists the product.
const LowStock = 5

// Level is a product's stock: untracked (unlimited), or units on hand and held.
type Level struct {
	Tracked bool
	OnHand  int // what the merchant counted, less what paid orders took since
	Held    int // held by orders awaiting payment
}

// Available is what a new checkout may hold: never below zero.
func (l Level) Available() int {
	if !l.Tracked {
		return MaxQuantity
	}
	return max(0, l.OnHand-l.Held)
}

// SoldOut reports whether a tracked product has nothing left to hold.
func (l Level) SoldOut() bool { return l.Tracked && l.Available() == 0 }

// Low reports whether a tracked product has only a few units left, for "Only N
// left".
func (l Level) Low() bool { return l.Tracked && l.Available() > 0 && l.Available() <= LowStock }

// ErrSoldOut: a product the shopper wants is not available in the quantity they
// want. Returned wrapped in a *ShortageError that names each short line.
var ErrSoldOut = errors.New("not enough in stock")

// Shortage is one line that cannot be held: how many were wanted, how many are
// available now.
type Shortage struct {
	ProductID int64  `db:"product_id"`
	Name      string `db:"name"`
	Wanted    int    `db:"wanted"`
	Available int    `db:"available"`
}

// ShortageError names the lines a checkout or a payment could not hold.
type ShortageError struct {
	Lines []Shortage
}

func (e *ShortageError) Error() string {
	parts := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		parts[i] = fmt.Sprintf("%s: %d wanted, %d available", l.Name, l.Wanted, l.Available)
	}
	return "not enough in stock: " + strings.Join(parts, "; ")
}

func (e *ShortageError) Unwrap() error { return ErrSoldOut }

// holdRefused reports whether err is the database refusing a hold larger than
// what is on hand.
func holdRefused(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.ConstraintName == "stock_held_within_on_hand"
}

// querier is what reads need: a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// cartShortages returns the cart's lines whose quantity is more than is
// available to it now (its own orders' holds counted as its own).
func cartShortages(ctx context.Context, q querier, cartID string) ([]Shortage, error) {
	rows, err := q.Query(ctx, `
		SELECT product_id, name, wanted, greatest(available, 0) AS available FROM (
			SELECT ci.product_id, p.name, ci.quantity AS wanted, ci.added_at,
			       s.on_hand - s.held + `+cartHeldSQL("$1", "ci.product_id")+` AS available
			FROM cart_items ci
			JOIN products p ON p.id = ci.product_id AND p.active
			JOIN stock s ON s.product_id = ci.product_id
			WHERE ci.cart_id = $1) lines
		WHERE wanted > available
		ORDER BY added_at, product_id`, cartID)
	if err != nil {
		return nil, fmt.Errorf("cart shortages: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[Shortage])
}

// orderShortages returns the order's lines that hold nothing and whose quantity
// is more than is available now.
func orderShortages(ctx context.Context, q querier, orderID int64) ([]Shortage, error) {
	rows, err := q.Query(ctx, `
		SELECT oi.product_id, oi.name, oi.quantity AS wanted, greatest(s.on_hand - s.held, 0) AS available
		FROM order_items oi
		JOIN stock s ON s.product_id = oi.product_id
		WHERE oi.order_id = $1 AND oi.quantity > s.on_hand - s.held
		  AND NOT EXISTS (SELECT 1 FROM stock_holds h WHERE h.order_id = oi.order_id AND h.product_id = oi.product_id)
		ORDER BY oi.name, oi.product_id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("order shortages: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[Shortage])
}

// holdOrder holds, until until, the order's tracked lines that hold nothing yet,
// and extends the holds it has: what paying again does. Stock rows are locked in
// product order, as every writer of several locks them. The database refuses a
// hold past what is on hand (holdRefused). It records a "held" event when it
// held anything.
func holdOrder(ctx context.Context, tx pgx.Tx, orderID int64, until time.Time, cause string) error {
	var detail *string
	err := tx.QueryRow(ctx, `
		WITH need AS (
			SELECT s.product_id, oi.quantity, oi.name
			FROM order_items oi JOIN stock s ON s.product_id = oi.product_id
			WHERE oi.order_id = $1
			  AND NOT EXISTS (SELECT 1 FROM stock_holds h WHERE h.order_id = $1 AND h.product_id = oi.product_id)
			ORDER BY s.product_id
			FOR UPDATE OF s
		), held AS (
			UPDATE stock s SET held = s.held + need.quantity, updated_at = now()
			FROM need WHERE s.product_id = need.product_id
		), holds AS (
			INSERT INTO stock_holds (order_id, product_id, quantity, expires_at)
			SELECT $1, product_id, quantity, $2 FROM need
		), extended AS (
			UPDATE stock_holds SET expires_at = greatest(expires_at, $2) WHERE order_id = $1
		)
		SELECT string_agg(quantity || ' × ' || name, ', ' ORDER BY name) FROM need`, orderID, until).Scan(&detail)
	if err != nil {
		return fmt.Errorf("hold stock: %w", err)
	}
	if detail == nil {
		return nil
	}
	return recordEvent(ctx, tx, Event{OrderID: orderID, Subject: "stock", ToStatus: "held", Cause: cause, Detail: *detail})
}

// releaseHolds gives back every unit the order holds, recording a "released"
// event when there were any. Deleting the holds is what releases them, so a replay
// or a concurrent release finds nothing and moves nothing.
func releaseHolds(ctx context.Context, tx pgx.Tx, orderID int64, ev Event) error {
	var detail *string
	err := tx.QueryRow(ctx, `
		WITH released AS (
			DELETE FROM stock_holds WHERE order_id = $1 RETURNING product_id, quantity
		), locked AS (
			SELECT s.product_id FROM stock s JOIN released r ON r.product_id = s.product_id
			ORDER BY s.product_id
			FOR UPDATE OF s
		), upd AS (
			UPDATE stock s SET held = s.held - r.quantity, updated_at = now()
			FROM released r JOIN locked l ON l.product_id = r.product_id
			WHERE s.product_id = r.product_id
		)
		SELECT string_agg(r.quantity || ' × ' || oi.name, ', ' ORDER BY oi.name)
		FROM released r JOIN order_items oi ON oi.order_id = $1 AND oi.product_id = r.product_id`, orderID).Scan(&detail)
	if err != nil {
		return fmt.Errorf("release stock: %w", err)
	}
	if detail == nil {
		return nil
	}
	ev.OrderID, ev.Subject, ev.ToStatus, ev.Detail = orderID, "stock", "released", *detail
	return recordEvent(ctx, tx, ev)
}

// takenLine is one line's units taken from stock when its order was paid.
type takenLine struct {
	Name     string
	Quantity int
	Short    int
}

// takeStock takes the paid order's units out of stock: the units it held, and
// any it no longer held (its hold was released before the money came). Money
// received wins, so nothing is refused: on_hand may go below zero, and the units
// that were not there to take are recorded per line (order_items.short) and the
// order flagged oversold, for the merchant to refund or back-order. Lines of
// untracked products take nothing.
func takeStock(ctx context.Context, tx pgx.Tx, o *Order, ev Event) error {
	rows, err := tx.Query(ctx, `
		WITH released AS (
			DELETE FROM stock_holds WHERE order_id = $1 RETURNING product_id, quantity
		), lines AS (
			SELECT oi.product_id, oi.name, oi.quantity, coalesce(r.quantity, 0) AS held
			FROM order_items oi
			JOIN stock s ON s.product_id = oi.product_id
			LEFT JOIN released r ON r.product_id = oi.product_id
			WHERE oi.order_id = $1
			ORDER BY s.product_id
			FOR UPDATE OF s
		), taken AS (
			UPDATE stock s SET on_hand = s.on_hand - l.quantity, held = s.held - l.held, updated_at = now()
			FROM lines l WHERE s.product_id = l.product_id
			-- The units not held were there only if neither held nor taken
			-- before: what is short is the rest.
			RETURNING l.product_id, l.name, l.quantity,
				greatest(0, (l.quantity - l.held) - greatest(0, (s.on_hand + l.quantity) - (s.held + l.held))) AS short
		), marked AS (
			UPDATE order_items oi SET short = t.short FROM taken t
			WHERE oi.order_id = $1 AND oi.product_id = t.product_id AND t.short > 0
		)
		SELECT name, quantity, short FROM taken ORDER BY name`, o.ID)
	if err != nil {
		return fmt.Errorf("take stock: %w", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowToStructByPos[takenLine])
	if err != nil {
		return fmt.Errorf("take stock: %w", err)
	}
	if len(lines) == 0 {
		return nil
	}
	var taken, short []string
	for _, l := range lines {
		taken = append(taken, strconv.Itoa(l.Quantity)+" × "+l.Name)
		if l.Short > 0 {
			short = append(short, strconv.Itoa(l.Short)+" × "+l.Name)
		}
	}
	took := ev
	took.OrderID, took.Subject, took.ToStatus, took.Detail = o.ID, "stock", "taken", strings.Join(taken, ", ")
	if err := recordEvent(ctx, tx, took); err != nil {
		return err
	}
	if len(short) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE orders SET oversold = true, updated_at = now() WHERE id = $1`, o.ID); err != nil {
		return fmt.Errorf("flag oversold: %w", err)
	}
	o.Oversold = true
	flag := ev
	flag.OrderID, flag.Subject, flag.FromStatus, flag.ToStatus = o.ID, "flag", ptr(string(o.Status)), "oversold"
	flag.Detail = "paid after its hold was released and the units sold: " + strings.Join(short, ", ") +
		" short; refund or back-order"
	return recordEvent(ctx, tx, flag)
}

// ReleaseExpiredHolds releases the holds of up to limit payable orders whose
// holds outlived every payment they could have got (the payment expiry plus a
// grace after the order's last attempt was made): the app stopped before the
// payment was created, or the create failed and the shopper left. Each order is
// released in its own transaction, locked first as every writer of an order does;
// a payment that completes later still pays its order (money wins, oversold if
// the units were sold meanwhile). It returns how many orders it released.
func (p *Payments) ReleaseExpiredHolds(ctx context.Context, limit int) (int, error) {
	// Only orders that can still be paid: an order under review took its units
	// when its money came, and any hold it still has must not take every turn
	// of a limited sweep.
	rows, err := p.pool.Query(ctx, `
		SELECT DISTINCT h.order_id FROM stock_holds h JOIN orders o ON o.id = h.order_id
		WHERE h.expires_at < $1 AND NOT o.status = ANY($3) LIMIT $2`,
		p.cfg.Clock.Now(), limit, finalStatuses())
	if err != nil {
		return 0, fmt.Errorf("expired holds: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("expired holds: %w", err)
	}
	released := 0
	for _, id := range ids {
		err := inTx(ctx, p.pool, p.cfg.Metrics, func(tx pgx.Tx) error {
			var status Status
			var due bool
			err := tx.QueryRow(ctx, `
				SELECT status, EXISTS (SELECT 1 FROM stock_holds WHERE order_id = o.id AND expires_at < $2)
				FROM orders o WHERE id = $1 FOR UPDATE`, id, p.cfg.Clock.Now()).Scan(&status, &due)
			if err != nil {
				return fmt.Errorf("lock order %d: %w", id, err)
			}
			if !status.Payable() || !due {
				// Under review: the merchant decides. Extended meanwhile: not due.
				return nil
			}
			released++
			return releaseHolds(ctx, tx, id, Event{Cause: "sweep"})
		})
		if err != nil {
			return released, err
		}
	}
	return released, nil
}

// holdUntil is when the holds of an attempt made now lapse: past the payment's
// expiry, with a grace for the news of its end to arrive.
func (p *Payments) holdUntil(now time.Time) time.Time {
	return now.Add(p.cfg.Expiry + p.cfg.HoldGrace)
}
