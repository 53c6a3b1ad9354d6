package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// orderLister reads the orders list and its totals.
type orderLister interface {
	ListOrders(ctx context.Context, f orders.Filter, page orders.PageRequest) (*orders.OrdersPage, error)
	Totals(ctx context.Context, f orders.Filter) ([]orders.CurrencyTotal, error)
}

// adminPageSize is how many orders one page of the list shows.
const adminPageSize = 50

// msgBadSearchText is the message for a search term orders.CheckText refuses.
const msgBadSearchText = "The search contains a character that cannot be searched for: a control, invisible or formatting character, or bytes that are not text."

// listQuery is the orders list's filter as it arrives in the URL, and parsed.
type listQuery struct {
	raw    views.AdminOrdersFilter
	filter orders.Filter
}

// parseListQuery reads the filter from the query string; dates are days in the
// store's time zone. Unknown values are a 400 with a message saying which.
func (h *handler) parseListQuery(c echo.Context) (listQuery, error) {
	q := listQuery{raw: views.AdminOrdersFilter{
		Status:     c.QueryParam("status"),
		Currency:   c.QueryParam("currency"),
		From:       c.QueryParam("from"),
		To:         c.QueryParam("to"),
		PaidSince:  c.QueryParam("paid_since"),
		Flag:       c.QueryParam("flag"),
		Fulfilment: c.QueryParam("fulfilment"),
		Query:      strings.TrimSpace(c.QueryParam("q")),
	}}
	if len(q.raw.Query) > 200 {
		return q, echo.NewHTTPError(http.StatusBadRequest, "The search is too long.")
	}
	q.filter = orders.Filter{Status: orders.Status(q.raw.Status), Currency: q.raw.Currency, Flag: q.raw.Flag, Query: q.raw.Query,
		Fulfilment: q.raw.Fulfilment, Now: h.cfg.Clock.Now()}
	dates := []struct {
		name, value string
		into        *time.Time
		addDay      bool
	}{
		{"from", q.raw.From, &q.filter.From, false},
		{"to", q.raw.To, &q.filter.To, true}, // inclusive: up to the end of that day
		{"paid_since", q.raw.PaidSince, &q.filter.PaidSince, false},
	}
	for _, d := range dates {
		if d.value == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, d.value, h.cfg.Location)
		if err != nil {
			return q, echo.NewHTTPError(http.StatusBadRequest, "The "+strings.ReplaceAll(d.name, "_", " ")+" date must look like 2026-01-31.")
		}
		if d.addDay {
			t = t.AddDate(0, 0, 1)
		}
		*d.into = t
	}
	// To is exclusive (the day after the one chosen), so one day is from == to.
	if !q.filter.From.IsZero() && !q.filter.To.IsZero() && !q.filter.From.Before(q.filter.To) {
		return q, echo.NewHTTPError(http.StatusBadRequest, "The from date ("+q.raw.From+") is after the to date ("+q.raw.To+"). Swap them, or clear one.")
	}
	if err := q.filter.Validate(); errors.Is(err, orders.ErrBadText) {
		return q, echo.NewHTTPError(http.StatusBadRequest, msgBadSearchText).SetInternal(err)
	} else if err != nil {
		return q, echo.NewHTTPError(http.StatusBadRequest, "That filter is not one the list knows.").SetInternal(err)
	}
	return q, nil
}

// values is the filter as a query string, without empty fields.
func (q listQuery) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{
		{"status", q.raw.Status}, {"currency", q.raw.Currency}, {"from", q.raw.From}, {"to", q.raw.To},
		{"paid_since", q.raw.PaidSince}, {"flag", q.raw.Flag}, {"fulfilment", q.raw.Fulfilment}, {"q", q.raw.Query},
	} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// adminOrders handles GET /admin/orders: newest first, filtered, with totals for
// the whole filtered set and keyset pagination (?after= or ?before= a cursor).
func (h *handler) adminOrders(c echo.Context) error {
	ctx := c.Request().Context()
	q, err := h.parseListQuery(c)
	if err != nil {
		return err
	}
	var req orders.PageRequest
	req.Limit = adminPageSize
	for _, p := range []struct {
		name string
		into **orders.Cursor
	}{{"after", &req.After}, {"before", &req.Before}} {
		if raw := c.QueryParam(p.name); raw != "" {
			cur, err := orders.ParseCursor(raw)
			if err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, "That page link is broken; go back to the first page.").SetInternal(err)
			}
			*p.into = &cur
		}
	}
	list, err := h.deps.Orders.ListOrders(ctx, q.filter, req)
	if err != nil {
		return err
	}
	base := q.values()
	layout := h.adminLayout(c, "Orders")
	layout.UsesHTMX = true // the totals load after the page
	page := views.AdminOrdersPage{
		Layout:    layout,
		Filter:    q.raw,
		FirstURL:  views.AdminOrdersURL(base),
		CSVURL:    views.AdminOrdersCSVURL(base),
		TotalsURL: views.AdminOrderTotalsURL(base),
		Filtered:  len(base) > 0,
	}
	withCursor := func(name string, cur *orders.Cursor) string {
		if cur == nil {
			return ""
		}
		v := q.values()
		v.Set(name, cur.String())
		return views.AdminOrdersURL(v)
	}
	page.NextURL = withCursor("after", list.Next)
	page.PrevURL = withCursor("before", list.Prev)
	page.Statuses = []views.Option{{Value: "", Label: "Any status"}}
	for _, s := range orders.Statuses {
		page.Statuses = append(page.Statuses, views.Option{Value: string(s), Label: s.Label(), Selected: q.raw.Status == string(s)})
	}
	page.Currencies = []views.Option{{Value: "", Label: "Any currency"}}
	for _, cur := range orders.Currencies {
		page.Currencies = append(page.Currencies, views.Option{Value: cur, Label: cur, Selected: q.raw.Currency == cur})
	}
	page.Flags = []views.Option{
		{Value: "", Label: "Any order, flagged or not"},
		{Value: orders.FlagRefundNeeded, Label: "Refund needed", Selected: q.raw.Flag == orders.FlagRefundNeeded},
		{Value: orders.FlagStuck, Label: "Stuck payment", Selected: q.raw.Flag == orders.FlagStuck},
		{Value: orders.FlagOversold, Label: "Oversold", Selected: q.raw.Flag == orders.FlagOversold},
	}
	page.Fulfilments = []views.Option{
		{Value: "", Label: "Shipped or not"},
		{Value: orders.FulfilmentToShip, Label: "To ship (paid, not shipped)", Selected: q.raw.Fulfilment == orders.FulfilmentToShip},
		{Value: orders.FulfilmentShipped, Label: "Shipped", Selected: q.raw.Fulfilment == orders.FulfilmentShipped},
	}
	for _, o := range list.Orders {
		page.Orders = append(page.Orders, views.AdminOrderRow{
			Fulfilment:   o.Fulfilment(),
			URL:          views.AdminOrderURL(o.ID),
			Number:       o.Number,
			Created:      h.adminTime(o.CreatedAt),
			Customer:     o.CustomerName,
			Email:        o.CustomerEmail,
			Status:       string(o.Status),
			StatusLabel:  o.Status.Label(),
			Total:        o.Total().String(),
			RefundNeeded: o.RefundNeeded,
			Oversold:     o.Oversold,
			Short:        orders.ShortSummary(list.Short[o.ID]),
		})
	}
	return render(c, http.StatusOK, views.AdminOrders(page))
}

// adminOrderTotals handles GET /admin/orders/totals: the count and sum per
// currency of every order the list's filter selects. The sum reads the whole
// selected set, slow on a large table, so the list page loads it after itself
// (htmx) instead of making every page wait; without JavaScript the list links
// here and this renders as a page of its own.
func (h *handler) adminOrderTotals(c echo.Context) error {
	q, err := h.parseListQuery(c)
	if err != nil {
		return err
	}
	totals, err := h.deps.Orders.Totals(c.Request().Context(), q.filter)
	if err != nil {
		return err
	}
	t := views.AdminTotals{ListURL: views.AdminOrdersURL(q.values())}
	for _, ct := range totals {
		t.Totals = append(t.Totals, views.AdminTotal{Currency: ct.Currency, Count: ct.Count, Amount: ct.Total().String()})
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		return render(c, http.StatusOK, views.AdminTotalsFragment(t))
	}
	return render(c, http.StatusOK, views.AdminTotalsPage(h.adminLayout(c, "Order totals"), t))
}
