package handlers

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// overviewReader reads the overview's figures.
type overviewReader interface {
	Overview(ctx context.Context, now time.Time) (*orders.Overview, error)
}

// adminOverview handles GET /admin.
func (h *handler) adminOverview(c echo.Context) error {
	now := h.now()
	ov, err := h.deps.Orders.Overview(c.Request().Context(), now)
	if err != nil {
		return err
	}
	day := ov.TodayStart.Format(time.DateOnly)
	week := ov.WeekStart.Format(time.DateOnly)
	zone := h.cfg.Location.String()
	page := views.AdminOverviewPage{
		Layout:       h.adminLayout(c, "Overview"),
		TodayLabel:   "today (" + day + ", " + zone + ")",
		WeekLabel:    "this week (since Monday " + week + ", " + zone + ")",
		OrdersLink:   views.AdminOrdersURL(nil),
		WebhooksLink: views.AdminWebhooksURL(nil),
		GeneratedAt:  h.adminTime(now),
	}
	revenue := func(totals []orders.CurrencyTotal, since string) []views.AdminTotal {
		var out []views.AdminTotal
		for _, t := range totals {
			out = append(out, views.AdminTotal{Currency: t.Currency, Count: t.Count, Amount: t.Total().String(),
				Link: views.AdminOrdersURL(url.Values{"status": {"paid"}, "currency": {t.Currency}, "paid_since": {since}})})
		}
		return out
	}
	page.Today = revenue(ov.Today, day)
	page.Week = revenue(ov.Week, week)
	for _, sc := range ov.ByStatus {
		page.ByStatus = append(page.ByStatus, views.AdminCount{Label: sc.Status.Label(), Status: string(sc.Status),
			Count: sc.Count, Link: views.AdminOrdersURL(url.Values{"status": {string(sc.Status)}})})
	}
	page.Attention = []views.AdminCount{
		{Label: "Paid, waiting to ship", Status: "to_ship", Count: ov.ToShip, Link: views.AdminOrdersURL(url.Values{"fulfilment": {orders.FulfilmentToShip}})},
		{Label: "Refund needed", Status: "refund_needed", Count: ov.RefundNeeded, Link: views.AdminOrdersURL(url.Values{"flag": {orders.FlagRefundNeeded}})},
		{Label: "Oversold", Status: "oversold", Count: ov.Oversold, Link: views.AdminOrdersURL(url.Values{"flag": {orders.FlagOversold}})},
		{Label: "Payments open past expiry", Status: "expired", Count: ov.StuckOpen, Link: views.AdminOrdersURL(url.Values{"flag": {orders.FlagStuck}})},
		{Label: "Payments of unknown outcome", Status: "unknown", Count: ov.StuckUnknown, Link: views.AdminOrdersURL(url.Values{"flag": {orders.FlagStuck}})},
	}
	for _, o := range ov.OversoldLatest {
		page.Oversold = append(page.Oversold, views.AdminOversold{Number: o.Number, URL: views.AdminOrderURL(o.ID),
			Short: orders.ShortSummary(o.Short)})
	}
	page.LowStockAt = orders.LowStock
	for _, p := range ov.LowStock {
		l := p.Level()
		page.LowStock = append(page.LowStock, views.AdminLowStock{Name: p.Name, URL: views.AdminProductURL(p.ID),
			OnHand: l.OnHand, Held: l.Held, Available: l.Available()})
	}
	return render(c, http.StatusOK, views.AdminOverview(page))
}
