package views

// AdminOrderActions are the merchant's actions on one order: the forms the order's
// state allows, with what was typed and what is wrong with it after a refused
// submit, and the shipments and refunds recorded so far.
type AdminOrderActions struct {
	OrderID   int64
	CSRFToken string
	CanShip   bool // paid
	CanCancel bool // awaiting payment, failed or expired
	CanRefund bool // flagged refund needed or oversold
	CanResend bool // paid
	Currency  string
	Shipments []AdminShipment
	Refunds   []AdminRefund
	Ship      ShipForm
	Cancel    ConfirmForm
	Refund    RefundForm
	Note      NoteForm
}

// AdminShipment is one shipment of an order.
type AdminShipment struct {
	Carrier, Tracking, Shipped, Actor string
}

// AdminRefund is one refund recorded for an order.
type AdminRefund struct {
	Amount, Note, Recorded, Actor string
}

// ShipForm is the "mark shipped" form.
type ShipForm struct {
	Key                                     string // one shipment per rendered form
	Carrier, Tracking                       string
	CarrierError, TrackingError, ConfirmErr string
}

// ConfirmForm is a form whose only field is the confirmation it needs.
type ConfirmForm struct{ ConfirmErr string }

// RefundForm is the "record a refund" form.
type RefundForm struct {
	Amount, Note                       string
	AmountError, NoteError, ConfirmErr string
}

// NoteForm is the "add a note" form.
type NoteForm struct{ Text, Error string }

// The URLs of the admin's actions on one order.
func AdminOrderShipURL(id int64) string    { return AdminOrderURL(id) + "/ship" }
func AdminOrderCancelURL(id int64) string  { return AdminOrderURL(id) + "/cancel" }
func AdminOrderRefundURL(id int64) string  { return AdminOrderURL(id) + "/refund" }
func AdminOrderReceiptURL(id int64) string { return AdminOrderURL(id) + "/receipt" }
func AdminOrderNoteURL(id int64) string    { return AdminOrderURL(id) + "/notes" }

// OrderShipment is a shipment as the shopper's order page shows it.
type OrderShipment struct {
	Carrier, Tracking, Shipped string
}
