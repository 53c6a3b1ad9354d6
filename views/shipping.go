package views

// Shipping is an order's shipping as its pages show it: the address as printed
// on the parcel, the method and its cost. Empty for an order made before
// shipping was collected.
type Shipping struct {
	Address []string
	Method  string
	Cost    string
}
