// The admin's overview: today's and this week's paid revenue, the orders by status
// the attempts and oversold orders that need a look, the products running low, for the admin's front page.

package orders

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// StatusCount is how many orders are in one status.
type StatusCount struct {
	Status Status `db:"status"`
	Count  int64  `db:"count"`
}

// Overview is the admin's front page: revenue, orders by status, trouble.
type Overview struct {
	// TodayStart and WeekStart are midnight today and midnight of this week's
	// Monday, in the location of the time Overview was given.
	TodayStart, WeekStart time.Time
	Today, Week           []CurrencyTotal
	ByStatus              []StatusCount // every status, zero counts included
	RefundNeeded          int64
	ToShip                int64 // paid orders waiting to ship
	StuckOpen             int64 // attempts still open after their expiry
	StuckUnknown          int64 // attempts whose create outcome is unknown
	// Oversold counts the orders paid short; OversoldLatest is the newest of
	// them, each with its short lines (OrderItem.Short).
	Oversold       int64
	OversoldLatest []OversoldOrder
	// LowStock lists the listed products with at most LowStock available, sold
	// out first.
	LowStock []LowStockProduct
}

// OversoldOrder is an order paid after its units were sold, with the lines it
// is short of.
type OversoldOrder struct {
	Order
	Short []OrderItem
}

// oversoldLatest is how many oversold orders the overview names.
const oversoldLatest = 10

// Overview returns today's and this week's paid revenue (by paid_at), the orders
// by status and the stuck attempts, as of now. Days and weeks (from Monday) are
// the calendar's in now's location: pass now.In(the store's time zone).
func (s *Orders) Overview(ctx context.Context, now time.Time) (*Overview, error) {
	loc := now.Location()
	y, m, d := now.Date()
	weekday := (int(now.Weekday()) + 6) % 7 // Monday is 0
	// time.Date, not Add: a day is not 24 hours when the clocks change.
	ov := &Overview{TodayStart: time.Date(y, m, d, 0, 0, 0, 0, loc), WeekStart: time.Date(y, m, d-weekday, 0, 0, 0, 0, loc)}
	var err error
	// On the primary, like the counts beside them.
	if ov.Today, err = s.totals(ctx, Filter{Status: StatusPaid, PaidSince: ov.TodayStart}, nil); err != nil {
		return nil, err
	}
	if ov.Week, err = s.totals(ctx, Filter{Status: StatusPaid, PaidSince: ov.WeekStart}, nil); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) AS count FROM orders GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("orders by status: %w", err)
	}
	counts, err := pgx.CollectRows(rows, pgx.RowToStructByName[StatusCount])
	if err != nil {
		return nil, fmt.Errorf("orders by status: %w", err)
	}
	for _, st := range Statuses {
		sc := StatusCount{Status: st}
		for _, c := range counts {
			if c.Status == st {
				sc.Count = c.Count
			}
		}
		ov.ByStatus = append(ov.ByStatus, sc)
	}
	err = s.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM orders WHERE refund_needed),
		       (SELECT count(*) FROM orders WHERE oversold),
		       (SELECT count(*) FROM orders WHERE status = 'paid' AND shipped_at IS NULL),
		       (SELECT count(*) FROM payment_attempts WHERE status = 'open' AND expires_at < $1),
		       (SELECT count(*) FROM payment_attempts WHERE status = 'unknown')`, now).
		Scan(&ov.RefundNeeded, &ov.Oversold, &ov.ToShip, &ov.StuckOpen, &ov.StuckUnknown)
	if err != nil {
		return nil, fmt.Errorf("stuck attempts: %w", err)
	}
	if ov.Oversold > 0 {
		page, err := s.ListOrders(ctx, Filter{Flag: FlagOversold}, PageRequest{Limit: oversoldLatest})
		if err != nil {
			return nil, err
		}
		for _, o := range page.Orders {
			ov.OversoldLatest = append(ov.OversoldLatest, OversoldOrder{Order: o, Short: page.Short[o.ID]})
		}
	}
	if ov.LowStock, err = lowStock(ctx, s.pool); err != nil {
		return nil, err
	}
	return ov, nil
}
