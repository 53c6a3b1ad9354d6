package handlers

import (
	"slices"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// homeCountry is the country the checkout's country list starts on for a
// currency, when the merchant ships there; otherwise the list's first.
var homeCountry = map[string]string{"USD": "US", "CAD": "CA", "GBP": "GB"}

// shipTo is the countries the checkout ships to.
func (h *handler) shipTo() []string {
	if len(h.cfg.ShipTo) > 0 {
		return h.cfg.ShipTo
	}
	return orders.DefaultShipTo
}

// viewForm is the form as the checkout page shows it.
func viewForm(f checkoutForm) views.CheckoutForm {
	return views.CheckoutForm{Name: f.Name, Email: f.Email, Recipient: f.Recipient, Line1: f.Line1,
		Line2: f.Line2, City: f.City, Region: f.Region, PostalCode: f.PostalCode, Country: f.Country,
		Method: f.Method}
}

// shippingView fills the page's country list, the chosen country's address
// fields (labels, which are required, its region list) and the shipping methods
// with their prices and the total with the chosen one, choosing a country and a method when the form holds none.
func (h *handler) shippingView(page *views.CheckoutPage, subtotal orders.Money, methods []orders.ShippingOption) {
	currency := subtotal.Currency
	shipTo := h.shipTo()
	country := page.Form.Country
	if orders.FormatOf(country) == nil {
		country = shipTo[0]
		if home := homeCountry[currency]; orders.FormatOf(home) != nil && slices.Contains(shipTo, home) {
			country = home
		}
		page.Form.Country = country
	}
	for _, code := range shipTo {
		page.Countries = append(page.Countries, views.Option{Value: code, Label: orders.FormatOf(code).Name, Selected: code == country})
	}
	f := orders.FormatOf(country)
	page.PostalLabel, page.PostalRequired = f.PostalLabel, f.PostalRequired
	page.RegionLabel, page.RegionRequired = f.RegionLabel, f.RegionRequired
	for _, r := range f.Regions {
		page.Regions = append(page.Regions, views.Option{Value: r.Code, Label: r.Name, Selected: r.Code == page.Form.Region})
	}
	if page.Form.Method == "" && len(methods) > 0 {
		page.Form.Method = methods[0].Code
	}
	for _, m := range methods {
		choice := views.ShippingChoice{Code: m.Code, Name: m.Name, Price: m.Price.String(), Checked: m.Code == page.Form.Method}
		switch {
		case m.Price.Minor == 0:
			choice.Price = "Free"
		case m.FreeOver != nil:
			choice.Note = "free on orders of " + m.FreeOver.String() + " or more"
		}
		page.Methods = append(page.Methods, choice)
		if choice.Checked {
			page.ShippingName = m.Name
			page.GrandTotal = orders.Money{Minor: subtotal.Minor + m.Price.Minor, Currency: currency}.String()
		}
	}
}

// shippingOf is an order's shipping as its pages show it.
func shippingOf(o *orders.Order) views.Shipping {
	if o.ShippingMethod == "" {
		return views.Shipping{}
	}
	cost := o.Shipping().String()
	if o.ShippingMinor == 0 {
		cost = "Free"
	}
	return views.Shipping{Address: o.Address.Lines(o.ShipsTo()), Method: o.ShippingMethodName, Cost: cost}
}
