package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// OutgoingWebhooks lists the webhooks sent to the merchant's systems and
// queues one again.
type OutgoingWebhooks interface {
	List(ctx context.Context, before string, limit int) ([]orders.OutboundWebhook, error)
	Resend(ctx context.Context, id string) error
	Enabled() bool
}

// adminOutgoingWebhooks handles GET /admin/outgoing-webhooks: the newest first,
// each with its attempts.
func (h *handler) adminOutgoingWebhooks(c echo.Context) error {
	if h.deps.Hooks == nil {
		return echo.ErrNotFound
	}
	const limit = 50
	list, err := h.deps.Hooks.List(c.Request().Context(), c.QueryParam("before"), limit+1)
	if errors.Is(err, orders.ErrInvalid) {
		return echo.NewHTTPError(http.StatusBadRequest, "That page link is broken; go back to the first page.").SetInternal(err)
	}
	if err != nil {
		return err
	}
	page := views.AdminOutgoingPage{
		Layout:    h.adminLayout(c, "Outgoing webhooks"),
		Flash:     h.popFlash(c),
		Enabled:   h.deps.Hooks.Enabled(),
		CSRFToken: csrfToken(c),
		Schedule:  webhookSchedule(),
	}
	if len(list) > limit {
		list = list[:limit]
		page.NextURL = views.AdminOutgoingWebhooksPageURL(list[len(list)-1].ID)
	}
	for _, w := range list {
		row := views.AdminOutgoing{
			ID:          w.ID,
			Type:        w.Type,
			OrderNumber: w.OrderNumber,
			OrderURL:    views.AdminOrderURL(w.OrderID),
			Created:     h.adminTime(w.CreatedAt),
			Status:      w.Status,
			Attempts:    w.Attempts,
			LastResult:  deref(w.LastResult),
			NextAttempt: h.adminTimePtr(w.NextAttemptAt),
			Payload:     w.Payload,
			ResendURL:   views.AdminResendWebhookURL(w.ID),
		}
		for _, a := range w.Log {
			at := views.AdminOutgoingAttempt{
				At:       h.adminTime(a.AttemptedAt),
				Duration: strconv.Itoa(a.DurationMS) + " ms",
				Response: a.Response,
			}
			if a.HTTPStatus != nil {
				at.Result = "HTTP " + strconv.Itoa(*a.HTTPStatus)
				at.OK = *a.HTTPStatus >= 200 && *a.HTTPStatus < 300
			} else {
				at.Result = deref(a.Error)
			}
			row.Log = append(row.Log, at)
		}
		page.Webhooks = append(page.Webhooks, row)
	}
	return render(c, http.StatusOK, views.AdminOutgoingWebhooks(page))
}

// webhookSchedule says in words when a failed delivery is tried again.
func webhookSchedule() string {
	var parts []string
	for n := 1; n < 7; n++ {
		parts = append(parts, orders.WebhookBackoff(n).String())
	}
	return fmt.Sprintf("after %s, … doubling up to every %s, %d attempts in all (about three days)",
		strings.Join(parts, ", "), orders.WebhookBackoff(orders.WebhookMaxAttempts), orders.WebhookMaxAttempts)
}

// resendWebhook handles POST /admin/outgoing-webhooks/:id/resend: another
// attempt at the same webhook, same webhook-id and body, queued now.
func (h *handler) resendWebhook(c echo.Context) error {
	if h.deps.Hooks == nil {
		return echo.ErrNotFound
	}
	id := c.Param("id")
	if !strings.HasPrefix(id, "msg_") || len(id) > 68 || orders.CheckText(id) != nil {
		return fmt.Errorf("outgoing webhook: %w", orders.ErrNotFound)
	}
	err := h.deps.Hooks.Resend(c.Request().Context(), id)
	switch {
	case errors.Is(err, orders.ErrInvalid):
		h.flash(c, "bad", "No MERCHANT_WEBHOOK_URL is configured; there is nowhere to send it.")
	case err != nil:
		return err
	default:
		h.flash(c, "ok", fmt.Sprintf("Webhook %s is queued to be sent again; the attempt appears here when it has run.", id))
	}
	return c.Redirect(http.StatusSeeOther, views.AdminOutgoingWebhooksURL)
}
