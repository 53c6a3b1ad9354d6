package handlers

import (
	"context"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// maxWebhookBody bounds what the webhook endpoint reads; a payment event is a few
// kilobytes.
const maxWebhookBody = 1 << 20

// webhookReceiver stores verified deliveries in the inbox.
type webhookReceiver interface {
	Receive(ctx context.Context, body []byte, headers map[string]string) (*orders.Receipt, error)
}

// webhookHeaders are the request headers kept with a delivery.
var webhookHeaders = []string{"Content-Type", "User-Agent", orchestrate.SignatureHeader, "X-Request-Id"}

// webhook handles POST /webhooks/orchestrate. It verifies the signature on the raw
// body (401 and nothing written when it fails), stores the delivery and queues its
// processing in one transaction, and only then answers 2xx. A duplicate answers
// 200 and does nothing more; a database outage answers 503 so Orchestrate retries.
func (h *handler) webhook(c echo.Context) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxWebhookBody+1))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "could not read the body").SetInternal(err)
	}
	if len(body) > maxWebhookBody {
		h.webhookMetric("", "rejected")
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "webhook body too large")
	}
	if err := orchestrate.VerifySignature(body, c.Request().Header.Get(orchestrate.SignatureHeader), h.cfg.WebhookSecret); err != nil {
		h.webhookMetric("", "rejected")
		logger(c).Warn("webhook signature rejected", "reason", err)
		return echo.NewHTTPError(http.StatusUnauthorized, "invalid signature")
	}
	headers := make(map[string]string, len(webhookHeaders))
	for _, name := range webhookHeaders {
		if v := c.Request().Header.Get(name); v != "" {
			headers[name] = v
		}
	}
	r, err := h.deps.Inbox.Receive(c.Request().Context(), body, headers)
	if err != nil {
		logger(c).Error("webhook not stored; asking Orchestrate to retry", "error", err)
		h.webhookMetric("", "unavailable")
		return echo.NewHTTPError(http.StatusServiceUnavailable, "temporarily unavailable").SetInternal(err)
	}
	eventType := ""
	if r.Event != nil {
		eventType = string(r.Event.Type)
	}
	switch {
	case r.Duplicate:
		h.webhookMetric(eventType, "duplicate")
		return c.JSON(http.StatusOK, map[string]string{"status": "duplicate"})
	case r.Invalid != nil:
		h.webhookMetric(eventType, "invalid")
		return echo.NewHTTPError(http.StatusBadRequest, "not an Orchestrate event: "+r.Invalid.Error())
	}
	h.webhookMetric(eventType, "accepted")
	return c.JSON(http.StatusOK, map[string]string{"status": "accepted"})
}
