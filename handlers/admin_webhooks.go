package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// webhookLog reads the inbox's deliveries.
type webhookLog interface {
	WebhookList(ctx context.Context, f orders.WebhookFilter, limit int) ([]orders.WebhookDelivery, error)
	WebhookTypes(ctx context.Context) ([]string, error)
}

// webhookReprocessor queues a stored delivery's processing again.
type webhookReprocessor interface {
	Reprocess(ctx context.Context, id int64) error
}

// msgBadFilterText is the message for a filter orders.CheckText refuses.
const msgBadFilterText = "The filter contains a character that cannot be searched for: a control, invisible or formatting character, or bytes that are not text."

// adminWebhooks handles GET /admin/webhooks: the newest deliveries first,
// filtered by type, processing result and payment.
func (h *handler) adminWebhooks(c echo.Context) error {
	ctx := c.Request().Context()
	f := orders.WebhookFilter{
		Type:      c.QueryParam("type"),
		Result:    c.QueryParam("result"),
		PaymentID: strings.TrimSpace(c.QueryParam("payment")),
	}
	if raw := c.QueryParam("before"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			return echo.NewHTTPError(http.StatusBadRequest, "That page link is broken; go back to the first page.")
		}
		f.Before = n
	}
	const limit = 100
	list, err := h.deps.Orders.WebhookList(ctx, f, limit+1)
	if errors.Is(err, orders.ErrBadText) {
		return echo.NewHTTPError(http.StatusBadRequest, msgBadFilterText).SetInternal(err)
	}
	if errors.Is(err, orders.ErrInvalid) {
		return echo.NewHTTPError(http.StatusBadRequest, "That filter is not one the inbox knows.").SetInternal(err)
	}
	if err != nil {
		return err
	}
	types, err := h.deps.Orders.WebhookTypes(ctx)
	if err != nil {
		return err
	}
	filterValues := url.Values{}
	for k, v := range map[string]string{"type": f.Type, "result": f.Result, "payment": f.PaymentID} {
		if v != "" {
			filterValues.Set(k, v)
		}
	}
	page := views.AdminWebhooksPage{
		Layout:    h.adminLayout(c, "Webhooks"),
		Flash:     h.popFlash(c),
		Type:      f.Type,
		Result:    f.Result,
		PaymentID: f.PaymentID,
		Here:      safeNext(c.Request().URL.RequestURI()),
		CSRFToken: csrfToken(c),
	}
	if len(list) > limit {
		list = list[:limit]
		v := url.Values{}
		for k, vs := range filterValues {
			v[k] = vs
		}
		v.Set("before", strconv.FormatInt(list[len(list)-1].ID, 10))
		page.NextURL = views.AdminWebhooksURL(v)
	}
	page.Types = []views.Option{{Value: "", Label: "Any type"}}
	for _, t := range types {
		page.Types = append(page.Types, views.Option{Value: t, Label: t, Selected: t == f.Type})
	}
	page.Results = []views.Option{{Value: "", Label: "Any result"}}
	for _, r := range orders.WebhookResults {
		page.Results = append(page.Results, views.Option{Value: r, Label: strings.ReplaceAll(r, "_", " "), Selected: r == f.Result})
	}
	for _, d := range list {
		row := views.AdminDelivery{
			ID:          strconv.FormatInt(d.ID, 10),
			Received:    h.adminTime(d.ReceivedAt),
			EventID:     deref(d.EventID),
			Type:        deref(d.EventType),
			PaymentID:   deref(d.PaymentID),
			OrderNumber: deref(d.OrderNumber),
			Processed:   d.ProcessedAt != nil,
			Result:      deref(d.Result),
			Outcome:     d.Outcome(),
			Error:       deref(d.Error),
			Payload:     string(d.RawBody),
		}
		if d.OrderID != nil {
			row.OrderURL = views.AdminOrderURL(*d.OrderID)
		}
		if row.PaymentID != "" {
			row.ReprocessURL = views.AdminWebhookReprocessURL(d.ID)
		}
		page.Deliveries = append(page.Deliveries, row)
	}
	return render(c, http.StatusOK, views.AdminWebhooks(page))
}

// reprocessWebhook handles POST /admin/webhooks/:id/reprocess: the delivery's
// payment is confirmed again by a queued job, and the admin returns to the inbox.
func (h *handler) reprocessWebhook(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("webhook %q: %w", c.Param("id"), orders.ErrNotFound)
	}
	err = h.deps.Inbox.Reprocess(c.Request().Context(), id)
	switch {
	case errors.Is(err, orders.ErrInvalid):
		h.flash(c, "bad", fmt.Sprintf("Delivery %d names no payment; there is nothing to re-process.", id))
	case err != nil:
		return err
	default:
		h.flash(c, "ok", fmt.Sprintf("Delivery %d is queued for processing again; its result appears here when the job has run.", id))
	}
	back := safeNext(c.FormValue("next"))
	if back == views.AdminURL {
		back = views.AdminWebhooksURL(nil)
	}
	return c.Redirect(http.StatusSeeOther, back)
}
