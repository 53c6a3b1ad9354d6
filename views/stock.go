package views

// ShortLine is a line that cannot be held: what the shopper asked for, what is
// available now.
type ShortLine struct {
	Name      string
	Wanted    int
	Available int
}

// CheckoutShortPage answers a checkout some of whose lines are not in stock in
// the quantity asked (409): the cart is kept as it was, and a button fits it to
// what is left, keeping the customer the form held.
type CheckoutShortPage struct {
	Layout    Layout
	Lines     []ShortLine
	CSRFToken string
	Form      CheckoutForm // sent along with the button, back to the checkout form
}

// SoldOutSincePage answers paying an order again whose units sold since (409):
// the order is unchanged.
type SoldOutSincePage struct {
	Layout Layout
	Ref    string
	Number string
	Lines  []ShortLine
}
