package views

// CheckoutPage is the form that turns the cart into an order.
type CheckoutPage struct {
	Layout    Layout
	Lines     []CartLine
	Total     string
	CSRFToken string
	Form      CheckoutForm
	Errors    map[string]string // field name → message; empty when valid
	// Notice says what changed in the cart since the shopper last saw it (the
	// shortage page's button fitted it to what is in stock).
	Notice string
	// Currency is the one the page's prices are in; the form sends it back, so
	// an order is never made in a currency the shopper did not see.
	Currency string
	// Countries are those shipped to, the form's one selected; the address
	// fields below are that country's.
	Countries      []Option
	PostalLabel    string
	PostalRequired bool
	RegionLabel    string // "" when the country has no region field
	RegionRequired bool
	Regions        []Option // a list to choose from; none: a text field
	Methods        []ShippingChoice
	// ShippingName and GrandTotal are the checked method's and the total with it.
	ShippingName string
	GrandTotal   string
}

// ShippingChoice is one shipping method offered, priced for the cart.
type ShippingChoice struct {
	Code    string
	Name    string
	Price   string // "$5.99" or "Free"
	Note    string // when it becomes free, if it can
	Checked bool
}

// CheckoutForm is what the shopper typed, kept on error.
type CheckoutForm struct {
	Name       string
	Email      string
	Recipient  string
	Line1      string
	Line2      string
	City       string
	Region     string
	PostalCode string
	Country    string
	Method     string
}

// optionalLabel is a field's label, marked "(optional)" unless required.
func optionalLabel(label string, required bool) string {
	if required {
		return label
	}
	return label + " (optional)"
}

// methodID is the id of a shipping method's radio button: the first is
// "method", which the error summary links to.
func methodID(i int, code string) string {
	if i == 0 {
		return "method"
	}
	return "method-" + code
}
