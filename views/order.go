package views

// OrderPage shows one order to the shopper who placed it: on its bookmarkable page
// and as the success and cancel pages Orchestrate sends the shopper back to.
type OrderPage struct {
	Layout    Layout
	Ref       string
	Number    string
	Items     []OrderItem
	Total     string
	Customer  string
	Email     string
	Shipping  Shipping
	Return    string // "", "success" or "cancel": which page the shopper is on
	Status    OrderStatus
	CSRFToken string
	Shipments []OrderShipment // what left, oldest first
}

// OrderItem is one line of an order.
type OrderItem struct {
	Name      string
	Quantity  int
	UnitPrice string
	LineTotal string
}

// OrderStatus is the part of the order page that updates itself while a payment
// is being confirmed.
type OrderStatus struct {
	Ref    string
	Status string // the order status, used as a CSS class
	Label  string
	// Heading and Message tell the shopper the truth in words.
	Heading string
	Message string
	Tone    string // ok, warn or bad
	// Polling: the state is not final; the fragment asks again in a moment.
	Polling bool
	// PayAction: the label of the button that (re)starts payment; empty for none.
	PayAction string
	CSRFToken string
	// Return is passed along so the polled fragment keeps the page's wording.
	Return string
}

// PaymentUnavailablePage tells the shopper that Orchestrate could not be reached
// and that the order is safe.
type PaymentUnavailablePage struct {
	Layout    Layout
	Ref       string
	Number    string
	Heading   string
	Message   string
	CSRFToken string
	CanRetry  bool
}
