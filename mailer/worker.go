package mailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	gomail "github.com/wneessen/go-mail"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// SendArgs is the job that sends one outbox message.
type SendArgs struct {
	MessageID int64 `json:"message_id"` // mail_outbox.id
}

// Kind names the job in River.
func (SendArgs) Kind() string { return "send_mail" }

// InsertOpts: one job per message while it waits or runs; River's backoff
// (attempt⁴ seconds) over 20 attempts keeps trying for about a week.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 20, UniqueOpts: river.UniqueOpts{
		ByArgs: true,
		ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
			rivertype.JobStateScheduled, rivertype.JobStateRetryable,
		},
	}}
}

// Config is what the sender needs to know of the shop.
type Config struct {
	SMTP      *SMTP
	From      string   // MAIL_FROM
	StoreName string   // STORE_NAME
	PublicURL *url.URL // the order pages' base
}

// Worker sends outbox messages over SMTP.
type Worker struct {
	river.WorkerDefaults[SendArgs]
	outbox *Outbox
	cfg    Config
	logger *slog.Logger
}

// NewWorker returns the worker that sends the outbox's messages as cfg says.
func NewWorker(outbox *Outbox, cfg Config, logger *slog.Logger) *Worker {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	outbox.sent = true
	return &Worker{outbox: outbox, cfg: cfg, logger: logger}
}

// Register adds the worker to River's workers.
func (w *Worker) Register(workers *river.Workers) { river.AddWorker(workers, w) }

// Work sends the message unless it was sent, then marks it sent. A crash
// between the SMTP server's acceptance and the mark sends it again when River
// rescues the job: the one at-least-once window, and the repeat carries the same
// Message-ID, so mail clients show it once.
func (w *Worker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	pool := w.outbox.pool
	rows, err := pool.Query(ctx, `SELECT `+messageColumns+` FROM mail_outbox WHERE id = $1`, job.Args.MessageID)
	if err != nil {
		return err
	}
	m, err := pgx.CollectExactlyOneRow(rows, pgx.RowToAddrOfStructByName[Message])
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("mail %d: no such message", job.Args.MessageID))
	}
	if err != nil {
		return err
	}
	if m.Status == StatusSent {
		return nil
	}
	msg, err := w.compose(ctx, m)
	if err == nil {
		err = w.cfg.SMTP.Send(ctx, msg)
	}
	if err != nil {
		w.logger.Warn("sending mail failed", "mail", m.ID, "order", m.OrderID, "kind", m.Kind, "attempt", job.Attempt, "error", err)
		// The order's timeline records the first failure, not every retry.
		if _, uerr := pool.Exec(ctx, `WITH m AS (
				UPDATE mail_outbox SET status = 'failed', attempts = attempts + 1, last_error = $2
				WHERE id = $1 AND status <> 'sent' RETURNING order_id, kind, message_id, recipient, attempts)
			INSERT INTO order_events (order_id, subject, from_status, to_status, cause, source_id, detail)
			SELECT order_id, 'mail', 'queued', 'failed', kind, message_id, kind || ' to ' || recipient || ': ' || $2 || ' (retrying)'
			FROM m WHERE attempts = 1`, m.ID, orders.TruncateText(err.Error(), 500)); uerr != nil {
			w.logger.Warn("recording a mail failure", "mail", m.ID, "error", uerr)
		}
		return err
	}
	// The server accepted the message: the mark is made even when the job's
	// context ended meanwhile (a timeout, a shutdown), or the job would send it
	// again.
	markCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := pool.Exec(markCtx, `WITH m AS (
			UPDATE mail_outbox SET status = 'sent', attempts = attempts + 1, last_error = NULL, sent_at = $2
			WHERE id = $1 AND status <> 'sent' RETURNING order_id, kind, message_id, recipient, $3::text AS from_status)
		INSERT INTO order_events (order_id, subject, from_status, to_status, cause, source_id, detail, created_at)
		SELECT order_id, 'mail', from_status, 'sent', kind, message_id, kind || ' to ' || recipient, $2 FROM m`,
		m.ID, w.outbox.clock.Now(), m.Status); err != nil {
		return err
	}
	w.logger.Info("mail sent", "mail", m.ID, "order", m.OrderID, "kind", m.Kind)
	return nil
}

// compose renders the message from the order as it stands.
func (w *Worker) compose(ctx context.Context, m *Message) (*gomail.Msg, error) {
	view, err := w.outbox.mailOrder(ctx, m.OrderID, w.cfg)
	if err != nil {
		return nil, err
	}
	var subject string
	var htmlBody, textBody templ.Component
	switch m.Kind {
	case KindReceipt:
		subject = fmt.Sprintf("%s: order %s confirmed", w.cfg.StoreName, view.Number)
		htmlBody, textBody = views.ReceiptHTML(view), views.ReceiptText(view)
	case KindShipped:
		if err := shipmentDetails(ctx, w.outbox.pool, m, &view); err != nil {
			return nil, err
		}
		subject = fmt.Sprintf("%s: order %s has shipped", w.cfg.StoreName, view.Number)
		htmlBody, textBody = views.ShippedHTML(view), views.ShippedText(view)
	case KindLookup:
		subject = fmt.Sprintf("%s: the link to your order %s", w.cfg.StoreName, view.Number)
		htmlBody, textBody = views.LookupHTML(view), views.LookupText(view)
	default:
		return nil, fmt.Errorf("mail %d: unknown kind %q", m.ID, m.Kind)
	}
	var hb, tb bytes.Buffer
	if err := htmlBody.Render(ctx, &hb); err != nil {
		return nil, err
	}
	if err := textBody.Render(ctx, &tb); err != nil {
		return nil, err
	}
	msg := gomail.NewMsg()
	if err := msg.From(w.cfg.From); err != nil {
		return nil, fmt.Errorf("MAIL_FROM: %w", err)
	}
	if err := msg.To(m.Recipient); err != nil {
		return nil, fmt.Errorf("mail %d: recipient: %w", m.ID, err)
	}
	msg.Subject(subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDate()
	// The text component contains no markup; templ escaped its text as HTML.
	msg.SetBodyString(gomail.TypeTextPlain, plainText(tb.String()))
	msg.AddAlternativeString(gomail.TypeTextHTML, hb.String())
	return msg, nil
}

// mailOrder reads the order as its emails show it.
func (o *Outbox) mailOrder(ctx context.Context, orderID int64, cfg Config) (views.MailOrder, error) {
	store := orders.NewOrders(o.pool)
	order, err := store.ByID(ctx, orderID)
	if err != nil {
		return views.MailOrder{}, fmt.Errorf("order %d: %w", orderID, err)
	}
	items, err := store.Items(ctx, orderID)
	if err != nil {
		return views.MailOrder{}, err
	}
	v := views.MailOrder{
		StoreName: cfg.StoreName,
		Number:    order.Number,
		Customer:  order.CustomerName,
		Total:     order.Total().String(),
		Address:   order.Address.Lines(order.ShipsTo()),
	}
	if cfg.PublicURL != nil {
		v.OrderURL = cfg.PublicURL.String() + "/orders/" + url.PathEscape(order.PublicRef)
	}
	if order.ShippingMethodName != "" {
		v.Shipping = order.ShippingMethodName + " — " + order.Shipping().String()
	}
	for _, it := range items {
		v.Items = append(v.Items, views.OrderItem{
			Name:      it.Name,
			Quantity:  it.Quantity,
			UnitPrice: orders.Money{Minor: it.UnitMinor, Currency: order.Currency}.String(),
			LineTotal: it.LineTotal(order.Currency).String(),
		})
	}
	return v, nil
}

// shipmentDetails fills the carrier and tracking number of the shipment the
// message's sequence names.
func shipmentDetails(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}, m *Message, v *views.MailOrder) error {
	err := q.QueryRow(ctx, `SELECT carrier, tracking FROM shipments WHERE order_id = $1 AND id = $2`, m.OrderID, m.Sequence).
		Scan(&v.Carrier, &v.Tracking)
	if err != nil {
		return fmt.Errorf("shipment %d of order %d: %w", m.Sequence, m.OrderID, err)
	}
	return nil
}

// plainText turns the text component's output into the message's plain text:
// unescaped, each line trimmed of the spaces templ puts between its nodes.
func plainText(rendered string) string {
	lines := strings.Split(html.UnescapeString(rendered), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "\n")
}
