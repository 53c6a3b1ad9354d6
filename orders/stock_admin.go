// The merchant's side of stock: the on-hand count they set on a product's admin
// page, and the products running low that the overview lists. A count is what
// the merchant counted on the shelf, held units included, so setting it never
// touches what orders awaiting payment hold.

package orders

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// MaxOnHand is the largest on-hand count the merchant may set (the stock
// table's CHECK).
const MaxOnHand = 1_000_000

// FieldStock is the ProductChange field of a product's on-hand count: from and
// to are the count, or StockUntracked.
const FieldStock = "stock"

// StockUntracked is how product_changes records a product whose stock is not
// tracked (unlimited).
const StockUntracked = "untracked"

// Errors of an on-hand count as typed, each wrapping ErrInvalid.
var (
	// ErrStockFormat: not a plain whole number (signs, decimals, separators, letters).
	ErrStockFormat = fmt.Errorf("stock is not a whole number: %w", ErrInvalid)
	// ErrStockRange: above MaxOnHand.
	ErrStockRange = fmt.Errorf("stock is above the maximum: %w", ErrInvalid)
)

var wholeNumber = regexp.MustCompile(`^[0-9]+$`)

// ParseOnHand reads an on-hand count as the merchant typed it (surrounding spaces
// ignored): track false for an empty field (stop tracking), else the count. It
// returns ErrStockFormat for anything but digits and ErrStockRange above
// MaxOnHand.
func ParseOnHand(s string) (count int, track bool, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false, nil
	}
	if !wholeNumber.MatchString(s) {
		return 0, false, ErrStockFormat
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > MaxOnHand { // a parse error here is only ever too many digits
		return 0, false, ErrStockRange
	}
	return n, true, nil
}

// Stock is product p's stock level as the admin shows it.
func (p AdminProduct) Stock() Level {
	if p.OnHand == nil {
		return Level{}
	}
	return Level{Tracked: true, OnHand: *p.OnHand, Held: p.Held}
}

// StockChange is what SetStock did: the level before and after. They are equal
// when the product already had that count (nothing was written).
type StockChange struct {
	From, To Level
}

// Changed reports whether the count or tracking changed.
func (c StockChange) Changed() bool {
	return c.From.Tracked != c.To.Tracked || c.From.OnHand != c.To.OnHand
}

// SetStock sets product id's on-hand count to onHand (track true), or stops
// tracking its stock (track false: the shop sells any quantity, and the holds on
// it go with its stock row). The count replaces on_hand only: units held by
// orders awaiting payment stay held, however many were held meanwhile, and a
// count below what is held is accepted (the merchant's count is never refused;
// those orders may then be paid short). The change is recorded in the same
// transaction; setting the count the product already has writes nothing. It
// returns ErrNotFound for an unknown product and ErrInvalid for a count outside
// 0..MaxOnHand.
func (s *Orders) SetStock(ctx context.Context, id int64, onHand int, track bool, by Change) (StockChange, error) {
	if track && (onHand < 0 || onHand > MaxOnHand) {
		return StockChange{}, fmt.Errorf("product %d: on hand %d: %w", id, onHand, ErrInvalid)
	}
	var ch StockChange
	set := func(tx pgx.Tx) error {
		ch = StockChange{}
		if !track {
			err := tx.QueryRow(ctx, `DELETE FROM stock WHERE product_id = $1 RETURNING on_hand, held`, id).
				Scan(&ch.From.OnHand, &ch.From.Held)
			if errors.Is(err, pgx.ErrNoRows) {
				return productExists(ctx, tx, id)
			}
			if err != nil {
				return fmt.Errorf("product %d: untrack stock: %w", id, err)
			}
			ch.From.Tracked = true
			return recordProductChange(ctx, tx, id, by, FieldStock, new(stockText(ch.From)), new(stockText(ch.To)))
		}
		// Lock the row, if any, so the count recorded as "from" is the one replaced.
		err := tx.QueryRow(ctx, `SELECT on_hand, held FROM stock WHERE product_id = $1 FOR UPDATE`, id).
			Scan(&ch.From.OnHand, &ch.From.Held)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			tag, err := tx.Exec(ctx, `
				INSERT INTO stock (product_id, on_hand, updated_at) SELECT id, $2, $3 FROM products WHERE id = $1
				ON CONFLICT (product_id) DO NOTHING`, id, onHand, by.At)
			if err != nil {
				return fmt.Errorf("product %d: track stock: %w", id, err)
			}
			if tag.RowsAffected() == 0 {
				if err := productExists(ctx, tx, id); err != nil {
					return err
				}
				// Tracked by someone else meanwhile: the caller's retry sees their row.
				return fmt.Errorf("product %d: stock tracked meanwhile: %w", id, ErrConflict)
			}
		case err != nil:
			return fmt.Errorf("product %d: read stock: %w", id, err)
		default:
			ch.From.Tracked = true
			if ch.From.OnHand == onHand {
				ch.To = ch.From
				return nil
			}
			if _, err := tx.Exec(ctx, `UPDATE stock SET on_hand = $2, updated_at = $3 WHERE product_id = $1`,
				id, onHand, by.At); err != nil {
				return fmt.Errorf("product %d: set stock: %w", id, err)
			}
		}
		ch.To = Level{Tracked: true, OnHand: onHand, Held: ch.From.Held}
		return recordProductChange(ctx, tx, id, by, FieldStock, new(stockText(ch.From)), new(stockText(ch.To)))
	}
	err := pgx.BeginFunc(ctx, s.pool, set)
	if errors.Is(err, ErrConflict) {
		// Two first counts of one product raced; the second is a recount now.
		err = pgx.BeginFunc(ctx, s.pool, set)
	}
	return ch, err
}

// stockText is a stock level as product_changes keeps it: the on-hand count, or
// StockUntracked.
func stockText(l Level) string {
	if !l.Tracked {
		return StockUntracked
	}
	return strconv.Itoa(l.OnHand)
}

// LowStockProduct is a product the overview lists as running low.
type LowStockProduct struct {
	ID     int64  `db:"id"`
	Name   string `db:"name"`
	OnHand int    `db:"on_hand"`
	Held   int    `db:"held"`
}

// Level is the product's stock.
func (p LowStockProduct) Level() Level { return Level{Tracked: true, OnHand: p.OnHand, Held: p.Held} }

// lowStockLimit is how many low products the overview lists.
const lowStockLimit = 50

// lowStock returns the listed products whose stock is tracked and has at most
// LowStock available: sold out first, then the fewest available, by name.
func lowStock(ctx context.Context, q querier) ([]LowStockProduct, error) {
	rows, err := q.Query(ctx, `
		SELECT p.id, p.name, s.on_hand, s.held
		FROM stock s JOIN products p ON p.id = s.product_id AND p.active
		WHERE s.on_hand - s.held <= $1
		ORDER BY greatest(s.on_hand - s.held, 0), p.name, p.id
		LIMIT $2`, LowStock, lowStockLimit)
	if err != nil {
		return nil, fmt.Errorf("low stock: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[LowStockProduct])
}

// ShortSummary names what an oversold order's lines are short, "1 × Enamel camp
// mug, 2 × Tea towel", or "" when none is.
func ShortSummary(items []OrderItem) string {
	var parts []string
	for _, it := range items {
		if it.Short > 0 {
			parts = append(parts, strconv.Itoa(it.Short)+" × "+it.Name)
		}
	}
	return strings.Join(parts, ", ")
}

// shortItems returns the short lines of the given orders, by order, by name.
func shortItems(ctx context.Context, q querier, orderIDs []int64) (map[int64][]OrderItem, error) {
	rows, err := q.Query(ctx, `
		SELECT order_id, product_id, name, unit_price_minor, quantity, short
		FROM order_items WHERE order_id = ANY($1) AND short > 0
		ORDER BY order_id, name, product_id`, orderIDs)
	if err != nil {
		return nil, fmt.Errorf("short items: %w", err)
	}
	out := map[int64][]OrderItem{}
	var orderID int64
	var it OrderItem
	_, err = pgx.ForEachRow(rows, []any{&orderID, &it.ProductID, &it.Name, &it.UnitMinor, &it.Quantity, &it.Short}, func() error {
		out[orderID] = append(out[orderID], it)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("short items: %w", err)
	}
	return out, nil
}
