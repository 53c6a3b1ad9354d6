// Outbound webhooks: an order's changes POSTed to the merchant's systems
// (MERCHANT_WEBHOOK_URL), signed as the Standard Webhooks specification says.
// Each change writes one outbox row (table outbound_webhooks) in the transaction
// that records it, with its body frozen then and a webhook-id that stays the
// same on every attempt; a River job delivers it, retrying with backoff for
// about three days, and every attempt is kept (outbound_webhook_attempts).

package orders

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jonboulle/clockwork"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The delivery schedule: attempt n (1-based) that fails is retried after
// webhookRetryBase × 2^(n-1), at most webhookRetryCap: 15 s, 30 s, 1 min, 2 min,
// … 8.5 h, then every 12 h. WebhookMaxAttempts attempts span about 77 hours, a
// little over three days, before the webhook is marked failed.
const (
	webhookRetryBase   = 15 * time.Second
	webhookRetryCap    = 12 * time.Hour
	WebhookMaxAttempts = 18
)

// WebhookBackoff is the delay before retrying a delivery whose attempt-th
// attempt failed (the schedule above).
func WebhookBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := float64(webhookRetryBase) * math.Pow(2, float64(attempt-1))
	if d > float64(webhookRetryCap) {
		return webhookRetryCap
	}
	return time.Duration(d)
}

// responseSnippet is how much of a receiver's answer an attempt keeps.
const responseSnippet = 300

// Outbound webhook statuses.
const (
	WebhookPending   = "pending"   // waiting for its first or next attempt
	WebhookDelivered = "delivered" // a receiver answered 2xx
	WebhookFailed    = "failed"    // every attempt failed, or no URL is configured
)

// HooksConfig configures outbound webhooks.
type HooksConfig struct {
	// URL receives the webhooks; "" queues none.
	URL string
	// Secret is the signing secret, whsec_ and base64 (required with URL).
	Secret string
	// Timeout bounds one attempt (default 10 s).
	Timeout time.Duration
	// Backoff is the delay before the next attempt after the attempt-th failed;
	// nil is WebhookBackoff. Tests shorten it.
	Backoff func(attempt int) time.Duration
	// MaxAttempts per job (default WebhookMaxAttempts).
	MaxAttempts int
	// Client sends the requests (default: a client of its own).
	Client *http.Client
	Clock  clockwork.Clock
}

// Hooks writes, delivers and lists outbound webhooks.
type Hooks struct {
	pool   *pgxpool.Pool
	cfg    HooksConfig
	signer *standardwebhooks.Webhook // nil when no URL is configured
	jobs   hookJobs
	logger *slog.Logger
}

// hookJobs is what Resend needs of River's client.
type hookJobs interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// ParseWebhookSecret checks a Standard Webhooks secret: "whsec_" followed by the
// base64 of at least 24 bytes. The error never contains the secret.
func ParseWebhookSecret(secret string) error {
	raw, ok := strings.CutPrefix(secret, "whsec_")
	if !ok {
		return errors.New("must start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return errors.New("must be whsec_ followed by base64")
	}
	if len(key) < 24 {
		return fmt.Errorf("must hold at least 24 bytes of key, not %d", len(key))
	}
	return nil
}

// NewHooks returns the outbound webhooks of cfg. It returns ErrInvalid for a URL
// that is not absolute http(s) or a malformed secret.
func NewHooks(pool *pgxpool.Pool, cfg HooksConfig, logger *slog.Logger) (*Hooks, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Backoff == nil {
		cfg.Backoff = WebhookBackoff
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = WebhookMaxAttempts
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Clock == nil {
		cfg.Clock = clockwork.NewRealClock()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Hooks{pool: pool, cfg: cfg, logger: logger}
	if cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("webhook URL: %w", ErrInvalid)
		}
		if err := ParseWebhookSecret(cfg.Secret); err != nil {
			return nil, fmt.Errorf("webhook secret %v: %w", err, ErrInvalid)
		}
		if h.signer, err = standardwebhooks.NewWebhook(cfg.Secret); err != nil {
			return nil, fmt.Errorf("webhook secret: %w", ErrInvalid)
		}
	}
	return h, nil
}

// SetJobs gives Hooks the River client Resend queues with. Call it once, before
// the app serves.
func (h *Hooks) SetJobs(jobs hookJobs) { h.jobs = jobs }

// Enabled reports whether a URL is configured.
func (h *Hooks) Enabled() bool { return h.signer != nil }

// DeliverWebhookArgs queues delivering one outbound webhook.
type DeliverWebhookArgs struct {
	WebhookID string `json:"webhook_id"`
	// Resend tells an admin's resend (a distinct number each) from the job the
	// change queued, so each is a job of its own.
	Resend int64 `json:"resend,omitempty"`
}

// Kind names the job in River.
func (DeliverWebhookArgs) Kind() string { return "deliver_webhook" }

// InsertOpts keeps one job per webhook while it waits, runs or awaits a retry.
func (DeliverWebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: WebhookMaxAttempts, UniqueOpts: uniqueWhileQueued}
}

// Effect is the orders' Effect that writes an outbound webhook for every change
// (register it with Payments.AddEffect). It writes nothing when no URL is
// configured, and nothing a second time for the same order, change and detail.
func (h *Hooks) Effect(ctx context.Context, tx pgx.Tx, orderID int64, change OrderChange, detail string) ([]river.InsertManyParams, error) {
	if !h.Enabled() {
		return nil, nil
	}
	now := h.cfg.Clock.Now().UTC()
	order, err := webhookOrder(ctx, tx, orderID)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"order": order}
	if change == ChangeShipped && detail != "" {
		data["shipment_id"] = detail
	}
	body, err := json.Marshal(map[string]any{
		"type":      string(change),
		"timestamp": now.Format(time.RFC3339),
		"data":      data,
	})
	if err != nil {
		return nil, err
	}
	id, err := newWebhookID()
	if err != nil {
		return nil, err
	}
	tag, err := tx.Exec(ctx, `
		INSERT INTO outbound_webhooks (id, type, order_id, detail, payload, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)
		ON CONFLICT (order_id, type, detail) DO NOTHING`,
		id, string(change), orderID, detail, body, now)
	if err != nil {
		return nil, fmt.Errorf("write outbound webhook: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil, nil
	}
	opts := DeliverWebhookArgs{}.InsertOpts()
	opts.MaxAttempts = h.cfg.MaxAttempts
	return []river.InsertManyParams{{Args: DeliverWebhookArgs{WebhookID: id}, InsertOpts: &opts}}, nil
}

// WebhookOrder is the order as a webhook's data carries it: amounts in minor
// units and as decimal strings of the order's currency.
type WebhookOrder struct {
	Number     string           `json:"number"`
	Status     Status           `json:"status"`
	Currency   string           `json:"currency"`
	TotalMinor int64            `json:"total_minor"`
	Total      string           `json:"total"`
	Items      []WebhookItem    `json:"items"`
	Shipping   *WebhookShipping `json:"shipping,omitempty"`
}

// WebhookItem is one line of a webhook's order.
type WebhookItem struct {
	ProductID      int64  `json:"product_id"`
	Name           string `json:"name"`
	Quantity       int    `json:"quantity"`
	UnitPriceMinor int64  `json:"unit_price_minor"`
	UnitPrice      string `json:"unit_price"`
	TotalMinor     int64  `json:"total_minor"`
	Total          string `json:"total"`
}

// WebhookShipping is where and how a webhook's order ships; absent for an order
// made before shipping was collected.
type WebhookShipping struct {
	Method     string `json:"method"`
	MethodName string `json:"method_name"`
	PriceMinor int64  `json:"price_minor"`
	Price      string `json:"price"`
	Recipient  string `json:"recipient"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country"`
}

// webhookOrder reads the order as a webhook's data carries it, in tx.
func webhookOrder(ctx context.Context, tx pgx.Tx, orderID int64) (*WebhookOrder, error) {
	o, err := scanOrder(tx.Query(ctx, `SELECT `+orderColumns+` FROM orders WHERE id = $1`, orderID))
	if err != nil {
		return nil, fmt.Errorf("read order %d: %w", orderID, err)
	}
	out := &WebhookOrder{Number: o.Number, Status: o.Status, Currency: o.Currency,
		TotalMinor: o.TotalMinor, Total: o.Total().Decimal(), Items: []WebhookItem{}}
	if o.ShippingMethod != "" {
		out.Shipping = &WebhookShipping{Method: o.ShippingMethod, MethodName: o.ShippingMethodName,
			PriceMinor: o.ShippingMinor, Price: o.Shipping().Decimal(), Recipient: o.ShipsTo(),
			Line1: o.Line1, Line2: o.Line2, City: o.City, Region: o.Region, PostalCode: o.PostalCode, Country: o.Country}
	}
	rows, err := tx.Query(ctx, `
		SELECT product_id, name, unit_price_minor, quantity, short
		FROM order_items WHERE order_id = $1 ORDER BY product_id`, orderID)
	if err != nil {
		return nil, fmt.Errorf("read order %d items: %w", orderID, err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByName[OrderItem])
	if err != nil {
		return nil, fmt.Errorf("read order %d items: %w", orderID, err)
	}
	for _, it := range items {
		line := it.LineTotal(o.Currency)
		out.Items = append(out.Items, WebhookItem{ProductID: it.ProductID, Name: it.Name, Quantity: it.Quantity,
			UnitPriceMinor: it.UnitMinor, UnitPrice: Money{Minor: it.UnitMinor, Currency: o.Currency}.Decimal(),
			TotalMinor: line.Minor, Total: line.Decimal()})
	}
	return out, nil
}

// newWebhookID returns a fresh webhook-id: msg_ and 24 random base62 characters.
func newWebhookID() (string, error) {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "msg_" + string(b), nil
}

// signedRequest builds the POST of body for webhook id, signed at ts.
func (h *Hooks) signedRequest(ctx context.Context, id string, ts time.Time, body []byte) (*http.Request, error) {
	sig, err := h.signer.Sign(id, ts, body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.cfg.URL, strings.NewReader(string(body)))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "orchestrate-checkout-webhooks")
	req.Header.Set(standardwebhooks.HeaderWebhookID, id)
	req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	req.Header.Set(standardwebhooks.HeaderWebhookSignature, sig)
	return req, nil
}

// errDeliveryFailed is an attempt the receiver did not accept.
var errDeliveryFailed = errors.New("webhook not accepted")

// deliver makes one attempt at webhook id and records it. final says no retry
// follows a failure. It returns nil once the webhook is delivered (or was
// already), and an error River retries otherwise.
func (h *Hooks) deliver(ctx context.Context, id string, final bool, nextRetry time.Time) error {
	var status string
	var body []byte
	var typ string
	err := h.pool.QueryRow(ctx, `SELECT status, type, payload::text FROM outbound_webhooks WHERE id = $1`, id).Scan(&status, &typ, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("outbound webhook %s: %w", id, ErrNotFound))
	}
	if err != nil {
		return err
	}
	if status == WebhookDelivered {
		return nil
	}
	if !h.Enabled() {
		_, err := h.pool.Exec(ctx, `
			UPDATE outbound_webhooks SET status = 'failed', next_attempt_at = NULL,
			       last_result = 'not sent: MERCHANT_WEBHOOK_URL is not set'
			WHERE id = $1 AND status <> 'delivered'`, id)
		if err != nil {
			return err
		}
		return river.JobCancel(errors.New("MERCHANT_WEBHOOK_URL is not set"))
	}

	start := h.cfg.Clock.Now()
	actx, cancel := context.WithTimeout(ctx, h.cfg.Timeout)
	defer cancel()
	var (
		httpStatus *int
		errText    *string
		snippet    string
	)
	req, err := h.signedRequest(actx, id, start, body)
	if err != nil {
		return err
	}
	resp, err := h.cfg.Client.Do(req)
	if err != nil {
		// A url.Error repeats the URL, which may carry a token: keep only its cause.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s", h.cfg.Timeout)
		}
		s := err.Error()
		errText = &s
	} else {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, responseSnippet))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		code := resp.StatusCode
		httpStatus = &code
		snippet = TruncateText(string(b), responseSnippet)
	}
	elapsed := h.cfg.Clock.Since(start)
	ok := httpStatus != nil && *httpStatus >= 200 && *httpStatus < 300
	result := ""
	switch {
	case ok:
		result = "HTTP " + strconv.Itoa(*httpStatus)
	case httpStatus != nil:
		result = "HTTP " + strconv.Itoa(*httpStatus)
	default:
		result = *errText
	}
	newStatus, next := WebhookPending, &nextRetry
	switch {
	case ok:
		newStatus, next = WebhookDelivered, nil
	case final:
		newStatus, next = WebhookFailed, nil
	}
	now := h.cfg.Clock.Now()
	// The attempt is recorded even when the job's context ended meanwhile (a
	// shutdown): it was made, and the receiver may have acted on it.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	err = pgx.BeginFunc(rctx, h.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(rctx, `
			INSERT INTO outbound_webhook_attempts (webhook_id, attempted_at, http_status, error, duration_ms, response)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			id, start, httpStatus, errText, elapsed.Milliseconds(), snippet); err != nil {
			return err
		}
		_, err := tx.Exec(rctx, `
			UPDATE outbound_webhooks
			SET attempts = attempts + 1, last_attempt_at = $2, last_result = $3, status = $4,
			    next_attempt_at = $5, delivered_at = CASE WHEN $4 = 'delivered' THEN $6 ELSE delivered_at END
			WHERE id = $1`, id, start, result, newStatus, next, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("record webhook attempt: %w", err)
	}
	// The log names the webhook and the outcome only: the body holds the
	// shopper's address and the URL may hold a token.
	if ok {
		h.logger.Info("webhook delivered", "webhook_id", id, "type", typ, "result", result)
		return nil
	}
	h.logger.Warn("webhook not delivered", "webhook_id", id, "type", typ, "result", result, "final", final)
	return fmt.Errorf("%w: %s", errDeliveryFailed, result)
}

// TruncateText cuts s to at most n bytes of valid UTF-8 (invalid bytes become
// U+FFFD first), marking a cut with "…", for error texts and snippets stored in
// text columns, which refuse invalid UTF-8.
func TruncateText(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// deliverWebhookWorker delivers one outbound webhook per job attempt.
type deliverWebhookWorker struct {
	river.WorkerDefaults[DeliverWebhookArgs]
	h *Hooks
}

func (w *deliverWebhookWorker) Work(ctx context.Context, job *river.Job[DeliverWebhookArgs]) error {
	final := job.Attempt >= job.MaxAttempts
	return w.h.deliver(ctx, job.Args.WebhookID, final, w.NextRetry(job))
}

// NextRetry follows HooksConfig.Backoff, on the real clock River schedules by.
func (w *deliverWebhookWorker) NextRetry(job *river.Job[DeliverWebhookArgs]) time.Time {
	return time.Now().Add(w.h.cfg.Backoff(job.Attempt))
}

// Timeout leaves the attempt its own timeout, and the recording a few seconds.
func (w *deliverWebhookWorker) Timeout(*river.Job[DeliverWebhookArgs]) time.Duration {
	return w.h.cfg.Timeout + 10*time.Second
}

// Resend queues another attempt at webhook id, with the same webhook-id and
// body, as a new job. It returns ErrNotFound for
// an unknown id and ErrInvalid when no URL is configured.
func (h *Hooks) Resend(ctx context.Context, id string) error {
	if !h.Enabled() {
		return fmt.Errorf("resend webhook: no MERCHANT_WEBHOOK_URL: %w", ErrInvalid)
	}
	return pgx.BeginFunc(ctx, h.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE outbound_webhooks SET status = 'pending', next_attempt_at = $2 WHERE id = $1`,
			id, h.cfg.Clock.Now())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("outbound webhook %q: %w", id, ErrNotFound)
		}
		// A resend is a job of its own, even while the webhook's first job runs
		// or waits for a retry: the receiver deduplicates on the webhook-id.
		opts := DeliverWebhookArgs{}.InsertOpts()
		opts.MaxAttempts = h.cfg.MaxAttempts
		args := DeliverWebhookArgs{WebhookID: id, Resend: h.cfg.Clock.Now().UnixNano()}
		if _, err := h.jobs.InsertTx(ctx, tx, args, &opts); err != nil {
			return fmt.Errorf("queue webhook: %w", err)
		}
		return nil
	})
}

// OutboundWebhook is one outbox row as the admin sees it.
type OutboundWebhook struct {
	ID            string     `db:"id"`
	Type          string     `db:"type"`
	OrderID       int64      `db:"order_id"`
	OrderNumber   string     `db:"order_number"`
	Payload       string     `db:"payload"`
	CreatedAt     time.Time  `db:"created_at"`
	Status        string     `db:"status"`
	Attempts      int        `db:"attempts"`
	NextAttemptAt *time.Time `db:"next_attempt_at"`
	LastAttemptAt *time.Time `db:"last_attempt_at"`
	LastResult    *string    `db:"last_result"`
	DeliveredAt   *time.Time `db:"delivered_at"`
	Log           []WebhookAttempt
}

// WebhookAttempt is one recorded delivery attempt.
type WebhookAttempt struct {
	WebhookID   string    `db:"webhook_id"`
	AttemptedAt time.Time `db:"attempted_at"`
	HTTPStatus  *int      `db:"http_status"`
	Error       *string   `db:"error"`
	DurationMS  int       `db:"duration_ms"`
	Response    string    `db:"response"`
}

// List returns up to limit outbound webhooks, newest first, those created
// before the webhook before (a page's last id) when it is not "", each with its
// attempts. It returns ErrInvalid for a malformed before.
func (h *Hooks) List(ctx context.Context, before string, limit int) ([]OutboundWebhook, error) {
	if before != "" && (!strings.HasPrefix(before, "msg_") || len(before) > 68 || CheckText(before) != nil) {
		return nil, fmt.Errorf("webhook page %q: %w", before, ErrInvalid)
	}
	rows, err := h.pool.Query(ctx, `
		SELECT w.id, w.type, w.order_id, o.number AS order_number, w.payload::text AS payload, w.created_at,
		       w.status, w.attempts, w.next_attempt_at, w.last_attempt_at, w.last_result, w.delivered_at
		FROM outbound_webhooks w JOIN orders o ON o.id = w.order_id
		WHERE $1 = '' OR (w.created_at, w.id) < (SELECT created_at, id FROM outbound_webhooks WHERE id = $1)
		ORDER BY w.created_at DESC, w.id DESC
		LIMIT $2`, before, limit)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByNameLax[OutboundWebhook])
	if err != nil || len(list) == 0 {
		return list, err
	}
	ids := make([]string, len(list))
	at := make(map[string]int, len(list))
	for i, w := range list {
		ids[i], at[w.ID] = w.ID, i
	}
	rows, err = h.pool.Query(ctx, `
		SELECT webhook_id, attempted_at, http_status, error, duration_ms, response
		FROM outbound_webhook_attempts WHERE webhook_id = ANY($1) ORDER BY id`, ids)
	if err != nil {
		return nil, err
	}
	attempts, err := pgx.CollectRows(rows, pgx.RowToStructByName[WebhookAttempt])
	if err != nil {
		return nil, err
	}
	for _, a := range attempts {
		i := at[a.WebhookID]
		list[i].Log = append(list[i].Log, a)
	}
	return list, nil
}
