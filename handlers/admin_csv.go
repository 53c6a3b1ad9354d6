package handlers

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
)

// orderExporter streams the orders a filter selects, newest first.
type orderExporter interface {
	ExportOrders(ctx context.Context, f orders.Filter, fn func(*orders.ExportRow) error) error
}

// csvHeader names the export's columns. Times are ISO 8601 in the store's time
// zone, with its offset; amounts are decimal major units, in the currency of the
// currency column. short names what an oversold order is short ("1 × Enamel
// camp mug"), empty for any other order. fulfilment is to_ship (paid, not shipped),
// shipped, or empty; shipped_at is when the first shipment left. The shipping
// columns are empty for an order made before shipping was collected.
var csvHeader = []string{
	"order_number", "created_at", "status", "refund_needed", "currency", "total",
	"items", "customer_name", "customer_email", "paid_at", "orchestrate_payment_id",
	"oversold", "short", "fulfilment", "shipped_at",
	"shipping_method", "shipping", "ship_recipient", "ship_line1", "ship_line2", "ship_city",
	"ship_region", "ship_postal_code", "ship_country",
}

// csvFlushEvery is how many rows are buffered before they are sent on.
const csvFlushEvery = 500

// exportOrders handles GET /admin/orders.csv: exactly the orders the list's filter
// selects, every page of them, newest first. Rows are written as they arrive from
// the database and flushed every few hundred, so a million orders stream in
// constant memory.
func (h *handler) exportOrders(c echo.Context) error {
	q, err := h.parseListQuery(c)
	if err != nil {
		return err
	}
	resp := c.Response()
	w := csv.NewWriter(resp)
	started := false
	start := func() error {
		started = true
		hdr := resp.Header()
		hdr.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		hdr.Set(echo.HeaderContentDisposition, `attachment; filename="orders-`+h.now().Format("20060102-150405")+`.csv"`)
		resp.WriteHeader(http.StatusOK)
		return w.Write(csvHeader)
	}
	n := 0
	record := make([]string, len(csvHeader))
	err = h.deps.Orders.ExportOrders(c.Request().Context(), q.filter, func(r *orders.ExportRow) error {
		if !started {
			if err := start(); err != nil {
				return err
			}
		}
		record[0] = r.Number
		record[1] = r.CreatedAt.In(h.cfg.Location).Format(time.RFC3339)
		record[2] = string(r.Status)
		record[3] = strconv.FormatBool(r.RefundNeeded)
		record[4] = r.Currency
		record[5] = r.Total().Decimal()
		record[6] = strconv.Itoa(r.Items)
		record[7] = r.CustomerName
		record[8] = r.CustomerEmail
		record[9] = ""
		if r.PaidAt != nil {
			record[9] = r.PaidAt.In(h.cfg.Location).Format(time.RFC3339)
		}
		record[10] = r.PaymentID
		record[11] = strconv.FormatBool(r.Oversold)
		record[12] = r.Short
		record[13] = r.Fulfilment()
		record[14] = ""
		if r.ShippedAt != nil {
			record[14] = r.ShippedAt.In(h.cfg.Location).Format(time.RFC3339)
		}
		record[15], record[16] = r.ShippingMethodName, r.Shipping().Decimal()
		record[17], record[18], record[19] = "", r.Line1, r.Line2
		if r.ShippingMethod != "" {
			record[17] = r.ShipsTo()
		}
		record[20], record[21], record[22], record[23] = r.City, r.Region, r.PostalCode, r.Country
		for i := range record {
			record[i] = neutraliseFormula(record[i])
		}
		if err := w.Write(record); err != nil {
			return err
		}
		if n++; n%csvFlushEvery == 0 {
			w.Flush()
			resp.Flush()
			return w.Error()
		}
		return nil
	})
	if err != nil {
		if !started {
			return err
		}
		// The status is sent; all we can do is stop, leaving a file without its
		// last rows, and say so in the log.
		logger(c).Error("CSV export stopped part way", "rows_written", n, "error", err)
		return nil
	}
	if !started {
		if err := start(); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

// neutraliseFormula keeps a spreadsheet from reading a cell as a formula (CSV
// injection): a cell starting with =, +, -, @, a tab or a carriage return is
// prefixed with a single quote, which the spreadsheet shows as text. Our own
// numbers and times never start with these, so only customer text is changed.
func neutraliseFormula(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
