package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// AdminOrders reads orders for the merchant.
type AdminOrders interface {
	ByID(ctx context.Context, id int64) (*orders.Order, error)
	Items(ctx context.Context, orderID int64) ([]orders.OrderItem, error)
	Attempts(ctx context.Context, orderID int64) ([]orders.Attempt, error)
	ListOrders(ctx context.Context, f orders.Filter, page orders.PageRequest) (*orders.OrdersPage, error)
	Totals(ctx context.Context, f orders.Filter) ([]orders.CurrencyTotal, error)
	ExportOrders(ctx context.Context, f orders.Filter, fn func(*orders.ExportRow) error) error
	Overview(ctx context.Context, now time.Time) (*orders.Overview, error)
	Timeline(ctx context.Context, orderID int64) ([]orders.TimelineEntry, error)
	WebhookList(ctx context.Context, f orders.WebhookFilter, limit int) ([]orders.WebhookDelivery, error)
	WebhookTypes(ctx context.Context) ([]string, error)
}

// AdminPayments confirms one attempt's payment with Orchestrate now.
type AdminPayments interface {
	Confirm(ctx context.Context, attemptID, cause, sourceID string) (*orders.Applied, error)
}

// WebhookReprocessor queues a stored delivery's processing again.
type WebhookReprocessor interface {
	Reprocess(ctx context.Context, id int64) error
}

// adminPageSize is how many orders one page of the list shows.
const adminPageSize = 50

// adminOverview handles GET /admin.
func (h *handler) adminOverview(c echo.Context) error {
	now := h.now()
	ov, err := h.deps.AdminOrders.Overview(c.Request().Context(), now)
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
		{Label: "Refund needed", Status: "refund_needed", Count: ov.RefundNeeded, Link: views.AdminOrdersURL(url.Values{"flag": {orders.FlagRefundNeeded}})},
		{Label: "Payments open past expiry", Status: "expired", Count: ov.StuckOpen, Link: views.AdminOrdersURL(url.Values{"flag": {orders.FlagStuck}})},
		{Label: "Payments of unknown outcome", Status: "unknown", Count: ov.StuckUnknown, Link: views.AdminOrdersURL(url.Values{"flag": {orders.FlagStuck}})},
	}
	return render(c, http.StatusOK, views.AdminOverview(page))
}

// Messages for a search term or filter that orders.CheckText refuses.
const (
	msgBadSearchText = "The search contains a character that cannot be searched for: a control, invisible or formatting character, or bytes that are not text."
	msgBadFilterText = "The filter contains a character that cannot be searched for: a control, invisible or formatting character, or bytes that are not text."
)

// listQuery is the orders list's filter as it arrives in the URL, and parsed.
type listQuery struct {
	raw    views.AdminOrdersFilter
	filter orders.Filter
}

// parseListQuery reads the filter from the query string; dates are days in the
// store's time zone. Unknown values are a 400 with a message saying which.
func (h *handler) parseListQuery(c echo.Context) (listQuery, error) {
	q := listQuery{raw: views.AdminOrdersFilter{
		Status:    c.QueryParam("status"),
		Currency:  c.QueryParam("currency"),
		From:      c.QueryParam("from"),
		To:        c.QueryParam("to"),
		PaidSince: c.QueryParam("paid_since"),
		Flag:      c.QueryParam("flag"),
		Query:     strings.TrimSpace(c.QueryParam("q")),
	}}
	if len(q.raw.Query) > 200 {
		return q, echo.NewHTTPError(http.StatusBadRequest, "The search is too long.")
	}
	q.filter = orders.Filter{Status: orders.Status(q.raw.Status), Currency: q.raw.Currency, Flag: q.raw.Flag, Query: q.raw.Query,
		Now: h.cfg.Clock.Now()}
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
		{"paid_since", q.raw.PaidSince}, {"flag", q.raw.Flag}, {"q", q.raw.Query},
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
	list, err := h.deps.AdminOrders.ListOrders(ctx, q.filter, req)
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
	}
	for _, o := range list.Orders {
		page.Orders = append(page.Orders, views.AdminOrderRow{
			URL:          views.AdminOrderURL(o.ID),
			Number:       o.Number,
			Created:      h.adminTime(o.CreatedAt),
			Customer:     o.CustomerName,
			Email:        o.CustomerEmail,
			Status:       string(o.Status),
			StatusLabel:  o.Status.Label(),
			Total:        o.Total().String(),
			RefundNeeded: o.RefundNeeded,
		})
	}
	return render(c, http.StatusOK, views.AdminOrders(page))
}

// adminOrderTotals handles GET /admin/orders/totals: the count and sum per
// currency of every order the list's filter selects. Summing a whole table takes
// a few hundred milliseconds at a million orders, so the list page loads these
// after itself (htmx) instead of making every page wait; without JavaScript the
// list links here and this renders as a page of its own.
func (h *handler) adminOrderTotals(c echo.Context) error {
	q, err := h.parseListQuery(c)
	if err != nil {
		return err
	}
	totals, err := h.deps.AdminOrders.Totals(c.Request().Context(), q.filter)
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
// attempt and one timeline of what happened to it.
func (h *handler) adminOrder(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := orderID(c)
	if err != nil {
		return err
	}
	o, err := h.deps.AdminOrders.ByID(ctx, id)
	if err != nil {
		return err
	}
	items, err := h.deps.AdminOrders.Items(ctx, id)
	if err != nil {
		return err
	}
	attempts, err := h.deps.AdminOrders.Attempts(ctx, id)
	if err != nil {
		return err
	}
	timeline, err := h.deps.AdminOrders.Timeline(ctx, id)
	if err != nil {
		return err
	}
	page := views.AdminOrderPage{
		Layout:       h.adminLayout(c, "Order "+o.Number),
		Flash:        h.popFlash(c),
		Number:       o.Number,
		PublicURL:    views.OrderURL(o.PublicRef),
		Status:       string(o.Status),
		StatusLabel:  o.Status.Label(),
		RefundNeeded: o.RefundNeeded,
		Total:        o.Total().String(),
		Customer:     o.CustomerName,
		Email:        o.CustomerEmail,
		Created:      h.adminTime(o.CreatedAt),
		Paid:         h.adminTimePtr(o.PaidAt),
		SyncURL:      views.AdminOrderSyncURL(o.ID),
		CSRFToken:    csrfToken(c),
		Items:        orderItemRows(items, o.Currency),
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
			PaymentID: e.PaymentID, Payload: e.Payload}
		if e.WebhookID != 0 {
			entry.WebhookID = strconv.FormatInt(e.WebhookID, 10)
		}
		page.Timeline = append(page.Timeline, entry)
	}
	return render(c, http.StatusOK, views.AdminOrder(page))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
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
	before, err := h.deps.AdminOrders.ByID(ctx, id)
	if err != nil {
		return err
	}
	attempts, err := h.deps.AdminOrders.Attempts(ctx, id)
	if err != nil {
		return err
	}
	var changes, problems []string
	for _, a := range attempts {
		if a.Status == orders.AttemptCompleted || a.Status == orders.AttemptCreateFailed {
			continue // final: nothing Orchestrate says can move it
		}
		applied, err := h.deps.AdminPayments.Confirm(ctx, a.ID, "admin sync", "admin:"+h.cfg.AdminUsername)
		if err != nil {
			logger(c).Warn("admin sync: confirming an attempt", "order", before.Number, "attempt_id", a.ID, "error", err)
			problems = append(problems, "payment attempt "+a.ID+" could not be read from Orchestrate ("+err.Error()+")")
			continue
		}
		if applied != nil && applied.Changed {
			changes = append(changes, "payment "+deref(applied.Attempt.PaymentID)+": "+string(a.Status)+" → "+string(applied.Attempt.Status))
		}
	}
	after, err := h.deps.AdminOrders.ByID(ctx, id)
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
	list, err := h.deps.AdminOrders.WebhookList(ctx, f, limit+1)
	if errors.Is(err, orders.ErrBadText) {
		return echo.NewHTTPError(http.StatusBadRequest, msgBadFilterText).SetInternal(err)
	}
	if errors.Is(err, orders.ErrInvalid) {
		return echo.NewHTTPError(http.StatusBadRequest, "That filter is not one the inbox knows.").SetInternal(err)
	}
	if err != nil {
		return err
	}
	types, err := h.deps.AdminOrders.WebhookTypes(ctx)
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
			Deliveries:  d.Deliveries,
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
	err = h.deps.Reprocess.Reprocess(c.Request().Context(), id)
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
