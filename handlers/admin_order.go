package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// orderReader reads one order with everything the admin's page of it shows.
type orderReader interface {
	ByID(ctx context.Context, id int64) (*orders.Order, error)
	Items(ctx context.Context, orderID int64) ([]orders.OrderItem, error)
	Attempts(ctx context.Context, orderID int64) ([]orders.Attempt, error)
	Timeline(ctx context.Context, orderID int64) ([]orders.TimelineEntry, error)
	Shipments(ctx context.Context, orderID int64) ([]orders.Shipment, error)
	Refunds(ctx context.Context, orderID int64) ([]orders.Refund, error)
}

// paymentConfirmer confirms one attempt's payment with Orchestrate now.
type paymentConfirmer interface {
	ConfirmByAttempt(ctx context.Context, attemptID, cause, sourceID string) (*orders.Applied, error)
}

// orderID reads the :id of an admin order URL; anything but a positive number is
// a 404 like any unknown order.
func orderID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("order %q: %w", c.Param("id"), orders.ErrNotFound)
	}
	return id, nil
}

// adminOrder handles GET /admin/orders/:id: the order, its items, every payment
// attempt, the merchant's actions and one timeline of what happened to it.
func (h *handler) adminOrder(c echo.Context) error {
	id, err := orderID(c)
	if err != nil {
		return err
	}
	page, err := h.adminOrderPage(c, id)
	if err != nil {
		return err
	}
	page.Flash = h.popFlash(c)
	return render(c, http.StatusOK, views.AdminOrder(*page))
}

// adminOrderPage reads everything the admin's page of order id shows.
func (h *handler) adminOrderPage(c echo.Context, id int64) (*views.AdminOrderPage, error) {
	ctx := c.Request().Context()
	o, err := h.deps.Orders.ByID(ctx, id)
	if err != nil {
		return nil, err
	}
	items, err := h.deps.Orders.Items(ctx, id)
	if err != nil {
		return nil, err
	}
	attempts, err := h.deps.Orders.Attempts(ctx, id)
	if err != nil {
		return nil, err
	}
	timeline, err := h.deps.Orders.Timeline(ctx, id)
	if err != nil {
		return nil, err
	}
	actions, err := h.orderActions(c, o)
	if err != nil {
		return nil, err
	}
	page := views.AdminOrderPage{
		Layout:       h.adminLayout(c, "Order "+o.Number),
		Actions:      actions,
		Number:       o.Number,
		PublicURL:    views.OrderURL(o.PublicRef),
		Status:       string(o.Status),
		StatusLabel:  o.Status.Label(),
		RefundNeeded: o.RefundNeeded,
		Total:        o.Total().String(),
		Customer:     o.CustomerName,
		Email:        o.CustomerEmail,
		Shipping:     shippingOf(o),
		Created:      h.adminTime(o.CreatedAt),
		Paid:         h.adminTimePtr(o.PaidAt),
		SyncURL:      views.AdminOrderSyncURL(o.ID),
		CSRFToken:    csrfToken(c),
		Items:        orderItemRows(items, o.Currency),
	}
	for _, it := range items {
		if it.Short > 0 && o.Oversold {
			page.Short = append(page.Short, strconv.Itoa(it.Short)+" × "+it.Name)
		}
	}
	for _, a := range attempts {
		status := string(a.Status)
		if a.SupersededAt != nil {
			status += " (superseded)"
		}
		page.Attempts = append(page.Attempts, views.AdminAttempt{
			ID:        a.ID,
			PaymentID: deref(a.PaymentID),
			Status:    status,
			Link:      deref(a.PaymentLink),
			Created:   h.adminTime(a.CreatedAt),
			Expires:   h.adminTimePtr(a.ExpiresAt),
			Completed: h.adminTimePtr(a.CompletedAt),
			Applied:   a.Applied,
			Error:     deref(a.LastError),
		})
	}
	for _, e := range timeline {
		entry := views.AdminTimelineEntry{At: h.adminTime(e.At), Kind: e.Kind, Title: e.Title, Detail: e.Detail,
			PaymentID: e.PaymentID, Payload: e.Payload, Actor: e.Actor}
		if e.WebhookID != 0 {
			entry.WebhookID = strconv.FormatInt(e.WebhookID, 10)
		}
		page.Timeline = append(page.Timeline, entry)
	}
	return &page, nil
}

// syncOrder handles POST /admin/orders/:id/sync: it reads every attempt's payment
// that could still change from Orchestrate now, applies what it says, and tells
// the admin what changed (or that nothing did) on the order page.
func (h *handler) syncOrder(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := orderID(c)
	if err != nil {
		return err
	}
	before, err := h.deps.Orders.ByID(ctx, id)
	if err != nil {
		return err
	}
	attempts, err := h.deps.Orders.Attempts(ctx, id)
	if err != nil {
		return err
	}
	var changes, problems []string
	for _, a := range attempts {
		if a.Status == orders.AttemptCompleted || a.Status == orders.AttemptCreateFailed {
			continue // final: nothing Orchestrate says can move it
		}
		applied, err := h.deps.Payments.ConfirmByAttempt(ctx, a.ID, "admin sync", "admin:"+h.cfg.AdminUsername)
		if err != nil {
			logger(c).Warn("admin sync: confirming an attempt", "order", before.Number, "attempt_id", a.ID, "error", err)
			problems = append(problems, "payment attempt "+a.ID+" could not be read from Orchestrate ("+err.Error()+")")
			continue
		}
		if applied != nil && applied.Changed {
			changes = append(changes, "payment "+deref(applied.Attempt.PaymentID)+": "+string(a.Status)+" → "+string(applied.Attempt.Status))
		}
	}
	after, err := h.deps.Orders.ByID(ctx, id)
	if err != nil {
		return err
	}
	var msg strings.Builder
	tone := "ok"
	if before.Status != after.Status {
		fmt.Fprintf(&msg, "Synced with Orchestrate. Order status: %s → %s.", before.Status.Label(), after.Status.Label())
	} else {
		fmt.Fprintf(&msg, "Synced with Orchestrate. Order status unchanged: %s.", after.Status.Label())
	}
	if !before.RefundNeeded && after.RefundNeeded {
		msg.WriteString(" The order now needs a refund.")
	}
	if len(changes) > 0 {
		msg.WriteString(" Changed: " + strings.Join(changes, "; ") + ".")
	} else if len(problems) == 0 {
		msg.WriteString(" Orchestrate agrees with what we had; nothing changed.")
	}
	if len(problems) > 0 {
		tone = "bad"
		msg.WriteString(" Problems: " + strings.Join(problems, "; ") + ".")
	}
	h.flash(c, tone, msg.String())
	return c.Redirect(http.StatusSeeOther, views.AdminOrderURL(id))
}
