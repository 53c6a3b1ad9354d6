package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// orderActor carries out the merchant's actions on an order.
type orderActor interface {
	Cancel(ctx context.Context, orderID int64, actor, reason string) (*orders.Order, error)
	MarkShipped(ctx context.Context, orderID int64, actor, formKey, carrier, tracking string) (*orders.Shipment, bool, error)
	RecordRefund(ctx context.Context, orderID int64, actor string, amountMinor int64, note string) (*orders.Refund, error)
	AddNote(ctx context.Context, orderID int64, actor, note string) error
	ResendReceipt(ctx context.Context, orderID int64, actor string) error
}

// orderActions are the actions order o's state allows, with its shipments and
// refunds, for the admin's order page.
func (h *handler) orderActions(c echo.Context, o *orders.Order) (views.AdminOrderActions, error) {
	ctx := c.Request().Context()
	a := views.AdminOrderActions{
		OrderID:   o.ID,
		CSRFToken: csrfToken(c),
		CanShip:   o.Status == orders.StatusPaid,
		CanCancel: o.Status.CanBecome(orders.StatusCancelled),
		CanRefund: o.RefundNeeded || o.Oversold,
		CanResend: o.Status == orders.StatusPaid,
		Currency:  o.Currency,
		Ship:      views.ShipForm{Key: orders.NewFormKey()},
	}
	shipments, err := h.deps.Orders.Shipments(ctx, o.ID)
	if err != nil {
		return a, err
	}
	for _, s := range shipments {
		a.Shipments = append(a.Shipments, views.AdminShipment{Carrier: s.Carrier, Tracking: s.Tracking,
			Shipped: h.adminTime(s.ShippedAt), Actor: s.Actor})
	}
	refunds, err := h.deps.Orders.Refunds(ctx, o.ID)
	if err != nil {
		return a, err
	}
	for _, r := range refunds {
		a.Refunds = append(a.Refunds, views.AdminRefund{Amount: r.Amount().String(), Note: r.Note,
			Recorded: h.adminTime(r.RecordedAt), Actor: r.Actor})
	}
	return a, nil
}

// actor is the signed-in admin, as the order's history names them.
func (h *handler) actor(c echo.Context) string {
	if u := h.deps.Sessions.GetString(c.Request().Context(), adminSessionKey); u != "" {
		return u
	}
	return h.cfg.AdminUsername
}

// confirmed reports whether the form's box confirming an action that cannot be
// undone was ticked.
func confirmed(c echo.Context) bool { return c.FormValue("confirm") == "yes" }

const msgConfirm = "Tick the box to confirm; this cannot be undone."

// refuseAction renders the order page again with status and what went wrong in
// the form the admin filled in (edit sets it), changing nothing.
func (h *handler) refuseAction(c echo.Context, id int64, status int, msg string, edit func(*views.AdminOrderActions)) error {
	page, err := h.adminOrderPage(c, id)
	if err != nil {
		return err
	}
	if edit != nil {
		edit(&page.Actions)
	}
	page.Flash = views.Flash{Tone: "bad", Message: msg}
	return render(c, status, views.AdminOrder(*page))
}

// actionDone answers an action that changed the order: a flash, and 303 back to
// the order's page.
func (h *handler) actionDone(c echo.Context, id int64, msg string) error {
	h.flash(c, "ok", msg)
	return c.Redirect(http.StatusSeeOther, views.AdminOrderURL(id))
}

// notAllowed answers an action the order's state refuses: 409 and the page as
// it is now, saying why.
func (h *handler) notAllowed(c echo.Context, id int64, err error, msg string) error {
	if errors.Is(err, orders.ErrNotAllowed) {
		return h.refuseAction(c, id, http.StatusConflict, msg, nil)
	}
	return err
}

// shipOrder handles POST /admin/orders/:id/ship.
func (h *handler) shipOrder(c echo.Context) error {
	id, err := orderID(c)
	if err != nil {
		return err
	}
	carrier, tracking, problems := orders.CleanShipment(c.FormValue("carrier"), c.FormValue("tracking"))
	if problems.Any() || !confirmed(c) {
		form := views.ShipForm{Carrier: orders.MarkRefused(c.FormValue("carrier")), Tracking: orders.MarkRefused(c.FormValue("tracking")),
			CarrierError: problems.Carrier, TrackingError: problems.Tracking, Key: orders.NewFormKey()}
		if !confirmed(c) {
			form.ConfirmErr = msgConfirm
		}
		return h.refuseAction(c, id, http.StatusUnprocessableEntity, "Not marked shipped: fix the form below.",
			func(a *views.AdminOrderActions) { a.Ship = form })
	}
	_, created, err := h.deps.Payments.MarkShipped(c.Request().Context(), id, h.actor(c), c.FormValue("key"), carrier, tracking)
	if errors.Is(err, orders.ErrInvalid) {
		return h.refuseAction(c, id, http.StatusUnprocessableEntity, "Not marked shipped: the form was damaged. Fill it in again.", nil)
	}
	if err != nil {
		return h.notAllowed(c, id, err, "Only a paid order can be marked shipped; nothing changed.")
	}
	if !created {
		return h.actionDone(c, id, "That shipment was recorded already (the form was sent twice); nothing more was recorded.")
	}
	return h.actionDone(c, id, "Marked shipped. The shopper's page shows it.")
}

// cancelOrder handles POST /admin/orders/:id/cancel.
func (h *handler) cancelOrder(c echo.Context) error {
	id, err := orderID(c)
	if err != nil {
		return err
	}
	if !confirmed(c) {
		return h.refuseAction(c, id, http.StatusUnprocessableEntity, "Not cancelled: confirm it below.",
			func(a *views.AdminOrderActions) { a.Cancel.ConfirmErr = msgConfirm })
	}
	if _, err := h.deps.Payments.Cancel(c.Request().Context(), id, h.actor(c), ""); err != nil {
		return h.notAllowed(c, id, err, "This order can no longer be cancelled (its payment completed, or it was cancelled already); nothing changed.")
	}
	return h.actionDone(c, id, "Order cancelled. No payment can start for it and its held stock is back on sale.")
}

// recordRefund handles POST /admin/orders/:id/refund.
func (h *handler) recordRefund(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := orderID(c)
	if err != nil {
		return err
	}
	o, err := h.deps.Orders.ByID(ctx, id)
	if err != nil {
		return err
	}
	form := views.RefundForm{Amount: orders.MarkRefused(c.FormValue("amount")), Note: orders.MarkRefused(c.FormValue("note"))}
	amount, err := orders.ParsePrice(c.FormValue("amount"), o.Currency)
	if err != nil {
		form.AmountError = fmt.Sprintf("Type the amount refunded in %s, like %s.", o.Currency, orders.PriceInput(o.TotalMinor, o.Currency))
	}
	note := c.FormValue("note")
	if note != "" {
		if note, err = orders.CleanNote(note); err != nil {
			form.NoteError = noteProblem(err)
		}
	}
	if !confirmed(c) {
		form.ConfirmErr = msgConfirm
	}
	if form.AmountError != "" || form.NoteError != "" || form.ConfirmErr != "" {
		return h.refuseAction(c, id, http.StatusUnprocessableEntity, "No refund recorded: fix the form below.",
			func(a *views.AdminOrderActions) { a.Refund = form })
	}
	if _, err := h.deps.Payments.RecordRefund(ctx, id, h.actor(c), amount, note); err != nil {
		if errors.Is(err, orders.ErrRefundAmount) {
			form.AmountError = "More than the order received; record what was refunded."
			return h.refuseAction(c, id, http.StatusUnprocessableEntity, "No refund recorded: fix the form below.",
				func(a *views.AdminOrderActions) { a.Refund = form })
		}
		return h.notAllowed(c, id, err, "This order is not flagged for a refund; nothing was recorded.")
	}
	return h.actionDone(c, id, "Refund of "+orders.Money{Minor: amount, Currency: o.Currency}.String()+" recorded; the order's flags are cleared.")
}

// resendReceipt handles POST /admin/orders/:id/receipt.
func (h *handler) resendReceipt(c echo.Context) error {
	id, err := orderID(c)
	if err != nil {
		return err
	}
	err = h.deps.Payments.ResendReceipt(c.Request().Context(), id, h.actor(c))
	if errors.Is(err, orders.ErrNoReceiptMail) {
		return h.refuseAction(c, id, http.StatusConflict, "The receipt mail is not set up in this shop; nothing was sent.", nil)
	}
	if err != nil {
		return h.notAllowed(c, id, err, "Only a paid order has a receipt to resend; nothing was sent.")
	}
	return h.actionDone(c, id, "The receipt is queued to be sent again.")
}

// addNote handles POST /admin/orders/:id/notes.
func (h *handler) addNote(c echo.Context) error {
	id, err := orderID(c)
	if err != nil {
		return err
	}
	note, err := orders.CleanNote(c.FormValue("note"))
	if err != nil {
		form := views.NoteForm{Text: orders.MarkRefused(c.FormValue("note")), Error: noteProblem(err)}
		return h.refuseAction(c, id, http.StatusUnprocessableEntity, "No note added: fix it below.",
			func(a *views.AdminOrderActions) { a.Note = form })
	}
	if err := h.deps.Payments.AddNote(c.Request().Context(), id, h.actor(c), note); err != nil {
		return err
	}
	return h.actionDone(c, id, "Note added.")
}

// noteProblem says what is wrong with a note CleanNote refused.
func noteProblem(err error) string {
	switch {
	case errors.Is(err, orders.ErrBadText):
		return "Remove the control or invisible characters (marked �)."
	case errors.Is(err, orders.ErrTooLong):
		return fmt.Sprintf("At most %d characters.", orders.MaxNoteLength)
	}
	return "Write the note."
}
