// The admin's orders list, with its filters, totals and CSV export. The list is
// ordered by (created_at DESC, id DESC) and paged by keyset on that pair, so page
// 5,000 costs what page 1 costs; every filter is backed by an index (migrations
// 00004 and 00005).

package orders

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Flags narrow the orders list beyond its status.
const (
	// FlagRefundNeeded: a paid order that received a second payment.
	FlagRefundNeeded = "refund_needed"
	// FlagStuck: an order with an attempt open past its expiry or of unknown outcome.
	FlagStuck = "stuck"
	// FlagOversold: a paid order that took units no longer in stock
	// (OrderItem.Short says which).
	FlagOversold = "oversold"
)

// Fulfilment narrows the orders list to where the goods stand.
const (
	// FulfilmentToShip: paid and not shipped, the merchant's to-do list.
	FulfilmentToShip = "to_ship"
	// FulfilmentShipped: shipped at least once.
	FulfilmentShipped = "shipped"
)

// Currencies lists the currencies an order may be in.
var Currencies = []string{"USD", "EUR", "GBP", "CAD"}

// Statuses lists every order status, in the order the admin shows them.
var Statuses = []Status{StatusAwaitingPayment, StatusPaid, StatusFailed, StatusExpired, StatusNeedsReview, StatusCancelled}

// Filter selects orders for the admin's list, totals and export. The zero Filter
// selects every order.
type Filter struct {
	Status   Status
	Currency string
	// From and To bound created_at: From <= created_at < To. Zero means unbounded.
	From, To time.Time
	// PaidSince selects orders paid at or after it (the overview's revenue links).
	PaidSince time.Time
	Flag      string // "", FlagRefundNeeded, FlagStuck or FlagOversold
	// Fulfilment is "", FulfilmentToShip or FulfilmentShipped.
	Fulfilment string
	// Now is the moment FlagStuck is judged at: an attempt open past its expiry
	// at Now is stuck. Required with FlagStuck.
	Now time.Time
	// Query matches an order number exactly ("FK-100042" or "100042"), an
	// Orchestrate payment id exactly, or — from three characters — a substring of
	// the customer's email or name, ignoring case. A whole email address (one
	// ValidEmail accepts) is a lookup of that customer instead: it matches the
	// orders whose email is that address, ignoring case, and not those whose email
	// merely contains it (ann@example.com does not find joann@example.com).
	Query string
}

// Validate returns ErrInvalid for a status, currency or flag the admin does not
// know, and ErrBadText for a query CheckText refuses.
func (f Filter) Validate() error {
	if err := CheckText(f.Query); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		return fmt.Errorf("status %q: %w", f.Status, ErrInvalid)
	}
	if f.Currency != "" && !slices.Contains(Currencies, f.Currency) {
		return fmt.Errorf("currency %q: %w", f.Currency, ErrInvalid)
	}
	if f.Flag != "" && f.Flag != FlagRefundNeeded && f.Flag != FlagStuck && f.Flag != FlagOversold {
		return fmt.Errorf("flag %q: %w", f.Flag, ErrInvalid)
	}
	if f.Fulfilment != "" && f.Fulfilment != FulfilmentToShip && f.Fulfilment != FulfilmentShipped {
		return fmt.Errorf("fulfilment %q: %w", f.Fulfilment, ErrInvalid)
	}
	if f.Flag == FlagStuck && f.Now.IsZero() {
		return fmt.Errorf("flag %q without the time to judge it at: %w", f.Flag, ErrInvalid)
	}
	return nil
}

// queryArgs collects positional arguments while a statement is built.
type queryArgs []any

// add appends v and returns its placeholder.
func (a *queryArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// where returns the filter as SQL conditions on orders o (always at least "true").
func (f Filter) where(args *queryArgs) string {
	w := f.whereExceptSearch(args)
	if search := f.search(args); search != "" {
		w += " AND " + search
	}
	return w
}

// whereExceptSearch is where without the search term: conditions that an index in
// list order (or a small index lookup) answers.
func (f Filter) whereExceptSearch(args *queryArgs) string {
	conds := []string{"true"}
	if f.Status != "" {
		conds = append(conds, "o.status = "+args.add(string(f.Status)))
	}
	if f.Currency != "" {
		conds = append(conds, "o.currency = "+args.add(f.Currency))
	}
	if !f.From.IsZero() {
		conds = append(conds, "o.created_at >= "+args.add(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, "o.created_at < "+args.add(f.To))
	}
	if !f.PaidSince.IsZero() {
		conds = append(conds, "o.paid_at >= "+args.add(f.PaidSince))
	}
	// Written as the partial indexes' predicates (migration 00014), so the
	// planner can read them in list order.
	switch f.Fulfilment {
	case FulfilmentToShip:
		conds = append(conds, "o.status = 'paid' AND o.shipped_at IS NULL")
	case FulfilmentShipped:
		conds = append(conds, "o.shipped_at IS NOT NULL")
	}
	switch f.Flag {
	case FlagRefundNeeded:
		conds = append(conds, "o.refund_needed")
	case FlagOversold:
		conds = append(conds, "o.oversold")
	case FlagStuck:
		conds = append(conds, `o.id = ANY(ARRAY(
			SELECT order_id FROM payment_attempts
			WHERE status IN ('open', 'unknown') AND (status = 'unknown' OR expires_at < `+args.add(f.Now)+`)))`)
	}
	return strings.Join(conds, " AND ")
}

// wholeEmail reports whether the search term is a whole email address, which the
// list answers as an exact lookup of that customer.
func (f Filter) wholeEmail() bool { return ValidEmail(strings.TrimSpace(f.Query)) }

// search returns the search term as one SQL condition on orders o, or "".
func (f Filter) search(args *queryArgs) string {
	q := strings.TrimSpace(f.Query)
	if q == "" {
		return ""
	}
	if f.wholeEmail() {
		// Merchants paste a customer's address to find that customer, so it is
		// not a substring (every address shares "@example.com"-like trigrams, and
		// a trigram search reads them all). It cannot be an order number or a
		// payment id. orders_customer_email_lower_idx answers this in list order.
		return "lower(o.customer_email) = lower(" + args.add(q) + ")"
	}
	number := strings.ToUpper(q)
	if isDigits(number) {
		number = "FK-" + number
	}
	// Each alternative is an index lookup; the planner ORs their bitmaps.
	alts := []string{
		"o.number = " + args.add(number),
		"o.id = ANY(ARRAY(SELECT order_id FROM payment_attempts WHERE orchestrate_payment_id = " + args.add(q) + "))",
	}
	if utf8.RuneCountInString(q) >= 3 { // trigrams need three characters
		p := args.add("%" + escapeLike(q) + "%")
		alts = append(alts, "o.customer_email ILIKE "+p, "o.customer_name ILIKE "+p)
	}
	return "(" + strings.Join(alts, " OR ") + ")"
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// escapeLike makes s match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// Cursor is a position in the orders list: the (created_at, id) of an order.
type Cursor struct {
	CreatedAt time.Time
	ID        int64
}

// String encodes the cursor for a URL: microseconds since the epoch (PostgreSQL's
// precision, so nothing is lost) and the id.
func (c Cursor) String() string {
	return strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "-" + strconv.FormatInt(c.ID, 10)
}

// ParseCursor decodes a cursor made by String. It returns ErrInvalid for anything
// else.
func ParseCursor(s string) (Cursor, error) {
	ts, id, ok := strings.Cut(s, "-")
	micros, err1 := strconv.ParseInt(ts, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 {
		return Cursor{}, fmt.Errorf("cursor %q: %w", s, ErrInvalid)
	}
	return Cursor{CreatedAt: time.UnixMicro(micros).UTC(), ID: n}, nil
}

// PageRequest asks for one page of the list: the newest orders (both cursors nil),
// those older than After, or those newer than Before.
type PageRequest struct {
	After  *Cursor
	Before *Cursor
	Limit  int
}

// OrdersPage is one page of the list, newest first, with the cursors of its
// neighbours (nil when there is no such page).
type OrdersPage struct {
	Orders []Order
	// Short holds the short lines (OrderItem.Short) of the page's oversold
	// orders, by order id.
	Short map[int64][]OrderItem
	Next  *Cursor // older orders: pass as After
	Prev  *Cursor // newer orders: pass as Before
}

// ListOrders returns one page of the orders f selects, newest first. It returns
// ErrInvalid for an invalid filter.
func (s *Orders) ListOrders(ctx context.Context, f Filter, page PageRequest) (*OrdersPage, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if page.Limit <= 0 || page.Limit > 500 {
		page.Limit = 50
	}
	plan := firstPlan(f)
	list, err := s.listPage(ctx, f, page, plan)
	if err == nil && plan == planWindow && len(list) <= page.Limit {
		// Not a page of matches among the next searchWindow orders: the term is
		// selective (or the list ends). Collect its matches from the search
		// indexes instead of walking on.
		list, err = s.listPage(ctx, f, page, planMatches)
	}
	if err != nil {
		return nil, err
	}
	more := len(list) > page.Limit
	if more {
		list = list[:page.Limit]
	}
	out := &OrdersPage{Orders: list}
	var oversold []int64
	for _, o := range list {
		if o.Oversold {
			oversold = append(oversold, o.ID)
		}
	}
	if len(oversold) > 0 {
		if out.Short, err = shortItems(ctx, s.pool, oversold); err != nil {
			return nil, err
		}
	}
	backwards := page.Before != nil
	if backwards {
		slices.Reverse(list)
	}
	if len(list) == 0 {
		return out, nil
	}
	first, last := cursorOf(list[0]), cursorOf(list[len(list)-1])
	switch {
	case backwards:
		out.Next = &last // the page we came from is older
		if more {
			out.Prev = &first
		}
	default:
		if more {
			out.Next = &last
		}
		if page.After != nil {
			out.Prev = &first
		}
	}
	return out, nil
}

// listPlan is how listOrdersQuery looks for a page.
type listPlan int

const (
	// planIndexed walks the list order, (created_at, id), from the cursor: every
	// filter but a substring search is answered by an index in that order.
	planIndexed listPlan = iota
	// planWindow looks for a search's matches among the next searchWindow orders
	// only: fast for a broad term, whose matches are everywhere.
	planWindow
	// planMatches collects every match of a search from the search indexes and
	// sorts them: fast for a selective term, whose few matches may all sit far
	// from the cursor (walking there would read most of the table).
	planMatches
)

// firstPlan is the plan ListOrders tries first for f: planWindow for a search
// term, then planMatches when the window holds no page of matches; planIndexed
// otherwise. A whole email address is an equality on an index in list order
// (migration 00005), so planIndexed answers it in one statement.
func firstPlan(f Filter) listPlan {
	if strings.TrimSpace(f.Query) == "" || f.wholeEmail() {
		return planIndexed
	}
	return planWindow
}

// searchWindow is how many orders planWindow looks at.
const searchWindow = 2000

func (s *Orders) listPage(ctx context.Context, f Filter, page PageRequest, plan listPlan) ([]Order, error) {
	query, args := listOrdersQuery(f, page, plan)
	rows, err := s.pool.Query(ctx, query, customPlan(args)...)
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[Order])
	if err != nil {
		return nil, fmt.Errorf("list orders: %w", err)
	}
	return list, nil
}

// listOrdersQuery is a statement behind ListOrders: one page plus one row (to
// know whether another page follows), down the (created_at, id) key from After,
// or up from Before, found as plan says.
func listOrdersQuery(f Filter, page PageRequest, plan listPlan) (string, []any) {
	var args queryArgs
	where := f.whereExceptSearch(&args)
	order := "o.created_at DESC, o.id DESC"
	// The same order, in a form no index provides: the planner then finds the
	// rows first and sorts them, rather than walking an index in this order.
	sortOnly := "o.created_at + interval '0' DESC, o.id DESC"
	switch {
	case page.Before != nil:
		where += " AND (o.created_at, o.id) > (" + args.add(page.Before.CreatedAt) + ", " + args.add(page.Before.ID) + ")"
		order = "o.created_at, o.id"
		sortOnly = "o.created_at + interval '0', o.id"
	case page.After != nil:
		where += " AND (o.created_at, o.id) < (" + args.add(page.After.CreatedAt) + ", " + args.add(page.After.ID) + ")"
	}
	cols := prefixed("o.", orderColumns)
	search := f.search(&args)
	limit := args.add(page.Limit + 1)
	switch {
	case search == "":
		return `SELECT ` + cols + ` FROM orders o WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ` + limit, args
	case plan == planWindow:
		return `SELECT ` + cols + ` FROM (
			SELECT ` + cols + ` FROM orders o WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ` + strconv.Itoa(searchWindow) + `
		) o WHERE ` + search + ` ORDER BY ` + order + ` LIMIT ` + limit, args
	case plan == planMatches:
		return `SELECT ` + cols + ` FROM orders o WHERE ` + where + ` AND ` + search + ` ORDER BY ` + sortOnly + ` LIMIT ` + limit, args
	}
	// planIndexed with a search: a whole email address, read in list order.
	return `SELECT ` + cols + ` FROM orders o WHERE ` + where + ` AND ` + search + ` ORDER BY ` + order + ` LIMIT ` + limit, args
}

func cursorOf(o Order) Cursor { return Cursor{CreatedAt: o.CreatedAt, ID: o.ID} }

// customPlan runs a statement unprepared (pgx's QueryExecModeExec), so PostgreSQL
// plans it for these very values every time. A cached generic plan cannot know
// that a status is rare or that a search term is selective, and could pick a
// plan that walks the whole table.
func customPlan(args []any) []any {
	return append([]any{pgx.QueryExecModeExec}, args...)
}

// prefixed qualifies each column of a comma-separated list with p.
func prefixed(p, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// CurrencyTotal is the number and sum of a set of orders in one currency.
type CurrencyTotal struct {
	Currency string `db:"currency"`
	Count    int64  `db:"count"`
	Minor    int64  `db:"total"`
}

// Total is the sum as Money.
func (t CurrencyTotal) Total() Money { return Money{t.Minor, t.Currency} }

// Totals returns the count and sum of the orders f selects, per currency (by
// currency code), from the read replica when there is one. It returns
// ErrInvalid for an invalid filter.
func (s *Orders) Totals(ctx context.Context, f Filter) ([]CurrencyTotal, error) {
	return s.totals(ctx, f, s.reads)
}

// totals is Totals read from reads (nil: the primary).
func (s *Orders) totals(ctx context.Context, f Filter, reads *pgxpool.Pool) ([]CurrencyTotal, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var args queryArgs
	var totals []CurrencyTotal
	var t CurrencyTotal
	err := s.forEachOn(ctx, reads, `
		SELECT o.currency, count(*) AS count, coalesce(sum(o.total_minor), 0)::bigint AS total
		FROM orders o WHERE `+f.where(&args)+` GROUP BY o.currency ORDER BY o.currency`, customPlan(args),
		[]any{&t.Currency, &t.Count, &t.Minor}, func() error {
			totals = append(totals, t)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("order totals: %w", err)
	}
	return totals, nil
}

// ExportRow is one order as the CSV export writes it.
type ExportRow struct {
	Order
	Items int // units bought
	// PaymentID is the Orchestrate payment that paid the order, else its latest.
	PaymentID string
	// Short names what an oversold order is short ("1 × Enamel camp mug"), as
	// ShortSummary does; empty for any other order.
	Short string
}

// ExportOrders calls fn for every order f selects, newest first, as the rows
// arrive from the database: memory stays constant however many orders there are.
// It stops at fn's first error and returns it; ErrInvalid for an invalid filter.
func (s *Orders) ExportOrders(ctx context.Context, f Filter, fn func(*ExportRow) error) error {
	if err := f.Validate(); err != nil {
		return err
	}
	var args queryArgs
	var r ExportRow
	o := &r.Order
	err := s.forEachOn(ctx, s.reads, `
		SELECT o.id, o.number, o.public_ref, o.status, o.currency, o.total_minor, o.customer_name,
		       o.customer_email, o.refund_needed, o.created_at, o.updated_at, o.paid_at, o.shipped_at,
		       (SELECT coalesce(sum(quantity), 0) FROM order_items i WHERE i.order_id = o.id),
		       coalesce((SELECT orchestrate_payment_id FROM payment_attempts a
		                 WHERE a.order_id = o.id AND orchestrate_payment_id IS NOT NULL
		                 ORDER BY applied DESC, created_at DESC LIMIT 1), ''),
		       o.oversold,
		       CASE WHEN o.oversold THEN coalesce((SELECT string_agg(i.short || ' × ' || i.name, ', ' ORDER BY i.name, i.product_id)
		                                          FROM order_items i WHERE i.order_id = o.id AND i.short > 0), '') ELSE '' END,
		       o.shipping_method, o.shipping_method_name, o.shipping_minor, o.ship_recipient, o.ship_line1,
		       o.ship_line2, o.ship_city, o.ship_region, o.ship_postal_code, o.ship_country
		FROM orders o WHERE `+f.where(&args)+`
		ORDER BY o.created_at DESC, o.id DESC`, customPlan(args), []any{&o.ID, &o.Number, &o.PublicRef, &o.Status, &o.Currency, &o.TotalMinor,
		&o.CustomerName, &o.CustomerEmail, &o.RefundNeeded, &o.CreatedAt, &o.UpdatedAt, &o.PaidAt, &o.ShippedAt,
		&r.Items, &r.PaymentID, &o.Oversold, &r.Short, &o.ShippingMethod, &o.ShippingMethodName, &o.ShippingMinor,
		&o.Recipient, &o.Line1, &o.Line2, &o.City, &o.Region, &o.PostalCode, &o.Country}, func() error { return fn(&r) })
	if err != nil {
		return fmt.Errorf("export orders: %w", err)
	}
	return nil
}
