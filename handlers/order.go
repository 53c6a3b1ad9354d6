package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/mailer"
	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// shopOrderReader reads an order as its shopper's page shows it.
type shopOrderReader interface {
	ByRef(ctx context.Context, ref string) (*orders.Order, error)
	Items(ctx context.Context, orderID int64) ([]orders.OrderItem, error)
	Shipments(ctx context.Context, orderID int64) ([]orders.Shipment, error)
}

// paymentChecker asks Orchestrate where an order's payment stands, at most once
// per interval whoever asks.
type paymentChecker interface {
	Refresh(ctx context.Context, orderID int64, interval time.Duration) error
	Poll(ctx context.Context, ref string, interval time.Duration) (*orders.Order, error)
}

// receiptReader reads the newest message of a kind queued for an order (nil when
// none), for the order page to say truthfully whether its receipt was sent.
type receiptReader interface {
	Latest(ctx context.Context, orderID int64, kind mailer.Kind) (*mailer.Message, error)
}

// confirmInterval is how often a polled order page may ask Orchestrate.
const confirmInterval = 3 * time.Second

// orderByRef loads the order named in the URL; an unknown or guessed reference is
// a 404 like any missing page.
func (h *handler) orderByRef(c echo.Context) (*orders.Order, error) {
	return h.deps.Orders.ByRef(c.Request().Context(), c.Param("ref"))
}

// returnKind accepts only the two values the page knows; anything else is "".
func returnKind(s string) string {
	if s == "success" || s == "cancel" {
		return s
	}
	return ""
}

// showOrder handles GET /orders/:ref, and the success and cancel pages Orchestrate
// sends the shopper back to. Arriving at the success URL proves nothing: the page
// asks Orchestrate right away (briefly) and then shows the stored truth, updating
// itself until the state is final.
func (h *handler) showOrder(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		noStore(c)
		order, err := h.orderByRef(c)
		if err != nil {
			return err
		}
		var problem paymentFlash
		if kind == "" && h.popShopFlash(c, flashPayment, &problem) && problem.Ref == order.PublicRef {
			return h.renderPaymentProblem(c, order, problem.Problem)
		}
		if kind != "" && !order.Status.Final() {
			ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
			err := h.deps.Payments.Refresh(ctx, order.ID, 0)
			cancel()
			if err != nil {
				logger(c).Warn("refreshing an order on return", "order", order.Number, "error", err)
			}
			if order, err = h.orderByRef(c); err != nil {
				return err
			}
		}
		items, err := h.deps.Orders.Items(c.Request().Context(), order.ID)
		if err != nil {
			return err
		}
		shipments, err := h.deps.Orders.Shipments(c.Request().Context(), order.ID)
		if err != nil {
			return err
		}
		layout, err := h.shopLayout(c, "Order "+order.Number)
		if err != nil {
			return err
		}
		layout.UsesHTMX = !order.Status.Final()
		page := views.OrderPage{
			Layout:   layout,
			Ref:      order.PublicRef,
			Number:   order.Number,
			Total:    order.Total().String(),
			Customer: order.CustomerName,
			Email:    order.CustomerEmail,
			Shipping: shippingOf(order),
			Return:   kind,
			Status:   h.orderStatus(c, order, kind),
			Items:    orderItemRows(items, order.Currency),
		}
		for _, s := range shipments {
			page.Shipments = append(page.Shipments, views.OrderShipment{Carrier: s.Carrier, Tracking: s.Tracking,
				Shipped: s.ShippedAt.In(h.cfg.Location).Format("2 January 2006")})
		}
		return render(c, http.StatusOK, views.Order(page))
	}
}

// orderItemRows are an order's items as the shopper's and the admin's order pages
// list them, priced in the order's currency.
func orderItemRows(items []orders.OrderItem, currency string) []views.OrderItem {
	rows := make([]views.OrderItem, 0, len(items))
	for _, it := range items {
		rows = append(rows, views.OrderItem{
			Name:      it.Name,
			Quantity:  it.Quantity,
			UnitPrice: orders.Money{Minor: it.UnitMinor, Currency: currency}.String(),
			LineTotal: it.LineTotal(currency).String(),
		})
	}
	return rows
}

// orderStatusFragment handles GET /orders/:ref/status, polled by the order page
// while a payment is being confirmed. It asks Orchestrate at most once per
// confirmInterval, whoever polls; a poll with nothing to ask is one query.
func (h *handler) orderStatusFragment(c echo.Context) error {
	noStore(c)
	order, err := h.deps.Payments.Poll(c.Request().Context(), c.Param("ref"), confirmInterval)
	if err != nil {
		return err
	}
	status := h.orderStatus(c, order, returnKind(c.QueryParam("return")))
	if status.Polling {
		return render(c, http.StatusOK, views.PaymentStatus(status))
	}
	// The last poll: a paid order has emptied the cart it came from, so the
	// header's cart link is sent along and swapped in out of band.
	n, err := h.deps.Carts.Count(c.Request().Context(), cartID(c))
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templ.Join(views.PaymentStatus(status), views.CartLink(n, true)))
}

// orderStatus says in words where the order stands, for the page it is shown on.
func (h *handler) orderStatus(c echo.Context, o *orders.Order, kind string) views.OrderStatus {
	s := views.OrderStatus{
		Ref:       o.PublicRef,
		Status:    string(o.Status),
		Label:     o.Status.Label(),
		CSRFToken: csrfToken(c),
		Return:    kind,
	}
	switch o.Status {
	case orders.StatusPaid:
		s.Tone, s.Heading = "ok", "Thank you, your payment was received."
		s.Message = h.receiptMessage(c, o)
	case orders.StatusNeedsReview:
		s.Tone, s.Heading = "warn", "We are checking your payment."
		s.Message = "Your payment did not match the order exactly. We will contact you; there is nothing you need to do."
	case orders.StatusCancelled:
		s.Tone, s.Heading = "bad", "This order was cancelled."
		s.Message = "The shop cancelled this order before it was paid, so it can no longer be paid. Nothing was charged."
	case orders.StatusFailed:
		s.Tone, s.Heading, s.PayAction = "bad", "Your payment did not go through.", "Pay again"
		s.Message = "Nothing was charged. You can try again with the same or another card."
		if kind == "cancel" {
			// Orchestrate reports a payment cancelled on its page as failed; a
			// shopper who came back through cancel_url cancelled it.
			s.Label, s.Heading = "Payment cancelled", "You cancelled the payment."
			s.Message = "Nothing was charged. You can pay now, or go back to your cart."
		}
	case orders.StatusExpired:
		s.Tone, s.Heading, s.PayAction = "bad", "Your payment link expired.", "Pay again"
		s.Message = "The time to pay ran out before the payment was completed. Nothing was charged."
	default: // awaiting payment
		switch kind {
		case "success":
			s.Tone, s.Heading, s.Polling = "warn", "Confirming your payment…", true
			s.Message = "We are checking with our payment provider. This page updates by itself."
		case "cancel":
			s.Tone, s.Heading, s.PayAction = "bad", "Your payment was not completed.", "Pay again"
			s.Message = "Nothing was charged. You can pay now, or go back to your cart."
			s.Polling = true
		default:
			s.Tone, s.Heading, s.PayAction, s.Polling = "warn", "Waiting for your payment.", "Continue to payment", true
			s.Message = "Your order is saved. Complete the payment to place it."
		}
	}
	return s
}

// receiptMessage says where the paid order's receipt stands, in the store's time
// zone: queued, sent at a time, or failed and being retried.
func (h *handler) receiptMessage(c echo.Context, o *orders.Order) string {
	const paid = "Your order is paid and on its way. "
	if h.deps.Mail == nil {
		return paid + "This shop sends no email."
	}
	m, err := h.deps.Mail.Latest(c.Request().Context(), o.ID, mailer.KindReceipt)
	switch {
	case err != nil:
		logger(c).Warn("reading the receipt's state", "order", o.Number, "error", err)
		return paid
	case m == nil:
		return paid + "No receipt is queued for this order."
	case m.Status == mailer.StatusSent && m.SentAt != nil:
		return paid + "We emailed your receipt to " + m.Recipient + " at " + m.SentAt.In(h.cfg.Location).Format("15:04 MST on 2 January 2006") + "."
	case m.Status == mailer.StatusFailed:
		return paid + "We could not email your receipt to " + m.Recipient + " yet; we keep trying."
	default:
		return paid + "Your receipt is on its way to " + m.Recipient + "."
	}
}

// payOrder handles POST /orders/:ref/pay: continue to the open payment, or start
// a new one for a failed or expired order; the order's page says what went wrong.
// An order whose units sold since gets a page (409) that says which.
func (h *handler) payOrder(c echo.Context) error {
	order, err := h.orderByRef(c)
	if err != nil {
		return err
	}
	link, err := h.deps.Payments.Start(c.Request().Context(), order.ID)
	var short *orders.ShortageError
	if errors.As(err, &short) {
		return h.renderSoldOutSince(c, order, short)
	}
	return h.paymentStarted(c, order, link, err)
}
