package views

// CartPage is the shopper's cart.
type CartPage struct {
	Layout    Layout
	Lines     []CartLine
	Total     string
	CSRFToken string
	// Unavailable says which lines are not sold in the shopper's currency; while
	// it is set the cart cannot be checked out.
	Unavailable string
	// Notice says what a change did other than what was asked (a line capped at
	// what is in stock).
	Notice string
	// Short lists the lines that ask for more than is available now; each line
	// says so too (CartLine.Stock).
	Short string
	// Error explains a rejected change (status 422); ErrorProductID names the line.
	Error          string
	ErrorProductID int64
	ErrorQuantity  string // what the shopper typed, kept for the line in error
}

// CartLine is one product in the cart.
type CartLine struct {
	ProductID int64
	Name      string
	Image     string
	UnitPrice string
	Quantity  int
	LineTotal string
	// Unavailable: the product is not sold in the cart's currency; LineTotal
	// says so instead of a price.
	Unavailable bool
	// Stock, set when the line asks for more than is available, says what is:
	// "Only N left" or "Sold out".
	Stock string
}
