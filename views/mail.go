package views

import "strconv"

// MailOrder is an order as the shop's emails show it: the receipt, a shipment's
// notice and an order lookup's link share it.
type MailOrder struct {
	StoreName string
	Number    string
	Customer  string
	Items     []OrderItem
	// Shipping is the method and its price ("Standard — $5.00"), "" when the
	// order has none; Address is the shipping address's lines, none when absent.
	Shipping string
	Address  []string
	Total    string
	// OrderURL is the order page's absolute link.
	OrderURL string
	// Carrier and Tracking describe a shipment, for the shipped notice.
	Carrier  string
	Tracking string
}

func itoa(n int) string { return strconv.Itoa(n) }
