// Orders: the Order, its items, attempts and events, the Orders store that turns a
// cart into an order and reads them back, and the column lists and scanning the
// other files share.

package orders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Order is a shopper's order: what they bought, for how much, and where its payment
// stands.
type Order struct {
	ID            int64  `db:"id"`
	Number        string `db:"number"`
	PublicRef     string `db:"public_ref"`
	Status        Status `db:"status"`
	Currency      string `db:"currency"`
	TotalMinor    int64  `db:"total_minor"`
	CustomerName  string `db:"customer_name"`
	CustomerEmail string `db:"customer_email"`
	RefundNeeded  bool   `db:"refund_needed"`
	// Oversold: paid after its hold was released and its units sold; the
	// items' Short says what is missing.
	Oversold bool `db:"oversold"`
	// Address, the method and its price are the shipping as chosen at checkout;
	// TotalMinor includes ShippingMinor. Empty for orders made before shipping.
	Address
	ShippingMethod     string     `db:"shipping_method"`
	ShippingMethodName string     `db:"shipping_method_name"`
	ShippingMinor      int64      `db:"shipping_minor"`
	CreatedAt          time.Time  `db:"created_at"`
	UpdatedAt          time.Time  `db:"updated_at"`
	PaidAt             *time.Time `db:"paid_at"`
	// ShippedAt is when its first shipment left, nil until then.
	ShippedAt *time.Time `db:"shipped_at"`
}

// Total is the order's amount, shipping included.
func (o *Order) Total() Money { return Money{o.TotalMinor, o.Currency} }

// ShipsTo is the name the order ships to: the recipient, or the customer.
func (o *Order) ShipsTo() string {
	if o.Recipient != "" {
		return o.Recipient
	}
	return o.CustomerName
}

// Shipping is the order's shipping cost.
func (o *Order) Shipping() Money { return Money{o.ShippingMinor, o.Currency} }

// OrderItem is one line of an order as it was sold.
type OrderItem struct {
	ProductID int64  `db:"product_id"`
	Name      string `db:"name"`
	UnitMinor int64  `db:"unit_price_minor"`
	Quantity  int    `db:"quantity"`
	// Short is how many of Quantity were not in stock when the order was paid.
	Short int `db:"short"`
}

// LineTotal is the unit price times the quantity, in the order's currency.
func (i OrderItem) LineTotal(currency string) Money {
	return Money{i.UnitMinor * int64(i.Quantity), currency}
}

// Attempt is one attempt to collect an order's money through Orchestrate.
type Attempt struct {
	ID            string        `db:"id"`
	OrderID       int64         `db:"order_id"`
	Status        AttemptStatus `db:"status"`
	AmountMinor   int64         `db:"amount_minor"`
	Currency      string        `db:"currency"`
	PaymentID     *string       `db:"orchestrate_payment_id"`
	PaymentLink   *string       `db:"payment_link"`
	ExpiresAt     *time.Time    `db:"expires_at"`
	CompletedAt   *time.Time    `db:"completed_at"`
	LastError     *string       `db:"last_error"`
	Applied       bool          `db:"applied"`
	LastCheckedAt *time.Time    `db:"last_checked_at"`
	// SupersededAt is set when the order's customer changed while this attempt's
	// payment was live: it is still reconciled, but never offered again.
	SupersededAt *time.Time `db:"superseded_at"`
	CreatedAt    time.Time  `db:"created_at"`
	UpdatedAt    time.Time  `db:"updated_at"`
}

// Event is one applied transition in an order's history.
type Event struct {
	ID         int64   `db:"id"`
	OrderID    int64   `db:"order_id"`
	AttemptID  *string `db:"attempt_id"`
	Subject    string  `db:"subject"`
	FromStatus *string `db:"from_status"`
	ToStatus   string  `db:"to_status"`
	Cause      string  `db:"cause"`
	SourceID   *string `db:"source_id"`
	Detail     string  `db:"detail"`
	// Actor is who did it: "" or ActorSystem for the app, the admin's username
	// for the merchant.
	Actor     string    `db:"actor"`
	CreatedAt time.Time `db:"created_at"`
}

// ActorSystem is the actor of the app's own changes.
const ActorSystem = "system"

// Customer is who pays for an order, where it ships and how: Address as
// Address.Normalize returns it, Method a shipping method's code.
type Customer struct {
	Name    string
	Email   string
	Address Address
	Method  string
}

// ValidEmail reports whether s is a bare email address (no display name, no
// surrounding space) whose domain has a dot: what the checkout accepts from a
// shopper, and what the admin's search treats as a whole address.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	return at > 0 && strings.Contains(domain, ".") && !strings.HasSuffix(domain, ".")
}

// Orders stores orders, their items, attempts and events in PostgreSQL.
type Orders struct {
	pool    *pgxpool.Pool
	metrics *Metrics
	// reads, when set, is a read replica for the reads that may lag (totals,
	// the export); logger reports falling back from it to pool.
	reads  *pgxpool.Pool
	logger *slog.Logger
}

// NewOrders returns an Orders backed by pool.
func NewOrders(pool *pgxpool.Pool) *Orders { return &Orders{pool: pool} }

// WithMetrics counts the transitions Orders commits (new orders) in m.
func (s *Orders) WithMetrics(m *Metrics) *Orders {
	s.metrics = m
	return s
}

// WithReadPool sends the reads that may lag the primary by a replica's delay
// — the totals and the CSV export, never what a merchant acts on — to reads,
// a read replica. While the replica cannot be reached they go to the
// primary, and logger warns of it.
func (s *Orders) WithReadPool(reads *pgxpool.Pool, logger *slog.Logger) *Orders {
	s.reads, s.logger = reads, logger
	return s
}

// forEachOn runs a query whose answer may lag the primary, scanning each row
// into scans and calling fn, as pgx.ForEachRow does: on reads (a read
// replica) when it is not nil, and on the primary when reads is nil or fails
// before fn has seen a row (it cannot be reached, or its connection died).
func (s *Orders) forEachOn(ctx context.Context, reads *pgxpool.Pool, sql string, args []any, scans []any, fn func() error) error {
	if reads != nil {
		seen := false
		rows, err := reads.Query(ctx, sql, args...)
		if err == nil {
			_, err = pgx.ForEachRow(rows, scans, func() error {
				seen = true
				return fn()
			})
		}
		if err == nil || seen || ctx.Err() != nil {
			return err
		}
		s.logger.Warn("reading from the read replica failed; reading from the primary", "error", err)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	_, err = pgx.ForEachRow(rows, scans, fn)
	return err
}

const orderColumns = `id, number, public_ref, status, currency, total_minor, customer_name,
	customer_email, refund_needed, oversold, ship_recipient, ship_line1, ship_line2, ship_city, ship_region,
	ship_postal_code, ship_country, shipping_method, shipping_method_name, shipping_minor, created_at,
	updated_at, paid_at, shipped_at`

const attemptColumns = `id::text, order_id, status, amount_minor, currency, orchestrate_payment_id,
	payment_link, expires_at, completed_at, last_error, applied, last_checked_at, superseded_at, created_at, updated_at`

// ByRef returns the order with the given public reference, or ErrNotFound.
func (s *Orders) ByRef(ctx context.Context, ref string) (*Order, error) {
	if !validRef(ref) {
		return nil, fmt.Errorf("order %q: %w", ref, ErrNotFound)
	}
	return scanOrder(s.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE public_ref = $1`, ref))
}

// validRef reports whether ref could be a public reference: 22 to 64 characters
// of randomToken's URL-safe alphabet. Anything else is not worth a query, and a
// NUL or a byte that is not UTF-8 would have PostgreSQL refuse the query.
func validRef(ref string) bool {
	if len(ref) < 22 || len(ref) > 64 {
		return false
	}
	for i := 0; i < len(ref); i++ {
		switch c := ref[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// ByID returns the order with the given id, or ErrNotFound.
func (s *Orders) ByID(ctx context.Context, id int64) (*Order, error) {
	return scanOrder(s.pool.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, id))
}

// Items returns an order's items in a stable order.
func (s *Orders) Items(ctx context.Context, orderID int64) ([]OrderItem, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT product_id, name, unit_price_minor, quantity, short
		FROM order_items WHERE order_id = $1 ORDER BY name, product_id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("order items: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[OrderItem])
}

// Attempts returns an order's payment attempts, oldest first.
func (s *Orders) Attempts(ctx context.Context, orderID int64) ([]Attempt, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+attemptColumns+` FROM payment_attempts
		WHERE order_id = $1 ORDER BY created_at, id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("attempts: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[Attempt])
}

// Events returns an order's history, oldest first.
func (s *Orders) Events(ctx context.Context, orderID int64) ([]Event, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, order_id, attempt_id::text, subject, from_status, to_status, cause, source_id, detail, actor, created_at
		FROM order_events WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByName[Event])
}

// scanOrder collects exactly one order from rows, mapping no rows to ErrNotFound.
func scanOrder(rows pgx.Rows, err error) (*Order, error) {
	if err != nil {
		return nil, fmt.Errorf("query order: %w", err)
	}
	o, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Order])
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("order: %w", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("scan order: %w", err)
	}
	return o, nil
}

// ptr returns a pointer to s, or nil for the empty string.
func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
