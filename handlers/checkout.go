package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// orderCreator turns a cart into an order and starts its payment.
type orderCreator interface {
	Checkout(ctx context.Context, cartID, currency string, c orders.Customer) (*orders.Order, string, error)
}

// paymentStarter starts an order's Orchestrate payment (checkout, pay again).
type paymentStarter interface {
	Start(ctx context.Context, orderID int64) (link string, err error)
}

// shippingQuoter lists the shipping methods the checkout offers, priced for a
// cart.
type shippingQuoter interface {
	ShippingOptions(ctx context.Context, currency string, subtotalMinor int64) ([]orders.ShippingOption, error)
}

// checkoutForm is the customer form, validated on the server: who pays, where
// the order ships and how.
type checkoutForm struct {
	Name       string
	Email      string
	Recipient  string `json:",omitempty"`
	Line1      string `json:",omitempty"`
	Line2      string `json:",omitempty"`
	City       string `json:",omitempty"`
	Region     string `json:",omitempty"`
	PostalCode string `json:",omitempty"`
	Country    string `json:",omitempty"`
	Method     string `json:",omitempty"`
}

// readCheckoutForm reads the checkout form's fields from the request, trimmed.
func readCheckoutForm(c echo.Context) checkoutForm {
	v := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	return checkoutForm{Name: v("name"), Email: v("email"), Recipient: v("recipient"), Line1: v("line1"),
		Line2: v("line2"), City: v("city"), Region: v("region"), PostalCode: v("postal_code"),
		Country: v("country"), Method: v("method")}
}

// kept is the form as shown again: each field clipped, a refused character
// shown as U+FFFD.
func (f checkoutForm) kept() checkoutForm {
	k := func(s string) string { return clip(orders.MarkRefused(s)) }
	return checkoutForm{Name: k(f.Name), Email: k(f.Email), Recipient: k(f.Recipient), Line1: k(f.Line1),
		Line2: k(f.Line2), City: k(f.City), Region: k(f.Region), PostalCode: k(f.PostalCode),
		Country: k(f.Country), Method: k(f.Method)}
}

// address is the shipping address the form holds, validated with the
// customer's name as the recipient when none is given.
func (f checkoutForm) address() orders.Address {
	recipient := f.Recipient
	if recipient == "" {
		recipient = f.Name
	}
	return orders.Address{Recipient: recipient, Line1: f.Line1, Line2: f.Line2, City: f.City,
		Region: f.Region, PostalCode: f.PostalCode, Country: f.Country}
}

// Messages for a field holding a character orders.CheckText refuses. They are
// refused rather than stripped: an invisible character removed unseen would
// store something other than what the shopper saw.
const (
	msgNameText  = "Your name contains a character we cannot accept: a control, invisible or formatting character (shown as �). Remove it and try again."
	msgEmailText = "Your email address contains a control, invisible or formatting character (shown as �). Remove it and try again."
)

// Validate returns the customer as the order stores it (orders.CleanName,
// orders.NormalizeEmail, and the address by orders.Address.Normalize for the
// countries in shipTo), or a message per invalid field. A field refused for a
// character it holds keeps what was typed with that character shown as U+FFFD,
// so the form shows the shopper where it is.
func (f *checkoutForm) Validate(shipTo []string) (orders.Customer, map[string]string) {
	var cust orders.Customer
	errs := map[string]string{}
	name, err := orders.CleanName(f.Name)
	switch {
	case f.Name == "":
		errs["name"] = "Enter your name."
	case errors.Is(err, orders.ErrBadText):
		errs["name"] = msgNameText
		f.Name = orders.MarkRefused(f.Name)
	case err != nil:
		errs["name"] = "Enter your name."
	case utf8.RuneCountInString(name) > 100:
		errs["name"] = "Your name must be 100 characters or fewer."
	}
	email, err := orders.NormalizeEmail(f.Email)
	switch {
	case f.Email == "":
		errs["email"] = "Enter your email address."
	case errors.Is(err, orders.ErrBadText):
		errs["email"] = msgEmailText
		f.Email = orders.MarkRefused(f.Email)
	case len(f.Email) > 254:
		errs["email"] = "Your email address must be 254 characters or fewer."
	case err != nil:
		errs["email"] = "Enter an email address like name@example.com."
	}
	addr, addrErrs := f.address().Normalize(shipTo)
	for k, v := range addrErrs {
		if k == "recipient" && f.Recipient == "" && errs["name"] != "" {
			continue // the name's message says it; the recipient is the name
		}
		errs[k] = v
	}
	if !orders.ValidMethodCode(f.Method) {
		errs["method"] = "Choose a shipping method."
	}
	if f.Recipient == "" {
		addr.Recipient = "" // the customer, whatever name they correct it to
	}
	if len(errs) == 0 {
		cust = orders.Customer{Name: name, Email: email, Address: addr, Method: f.Method}
	}
	return cust, errs
}

// showCheckout handles GET /checkout: the empty form, or (422) a rejected one
// with its messages, which POST /checkout left in a flash.
func (h *handler) showCheckout(c echo.Context) error {
	var rejected checkoutFlash
	if h.popShopFlash(c, flashCheckout, &rejected) {
		if len(rejected.Errors) > 0 {
			return h.renderCheckout(c, http.StatusUnprocessableEntity, rejected.Form, rejected.Errors, "")
		}
		return h.renderCheckout(c, http.StatusOK, rejected.Form, nil, rejected.Notice)
	}
	return h.renderCheckout(c, http.StatusOK, checkoutForm{}, nil, "")
}

func (h *handler) renderCheckout(c echo.Context, status int, form checkoutForm, errs map[string]string, notice string) error {
	noStore(c)
	cart, err := h.deps.Carts.Get(c.Request().Context(), cartID(c), shopperCurrency(c))
	if err != nil {
		return err
	}
	if len(cart.Lines) == 0 || len(cart.Unavailable()) > 0 {
		return c.Redirect(http.StatusSeeOther, views.CartURL) // which says what blocks the checkout
	}
	methods, err := h.deps.Payments.ShippingOptions(c.Request().Context(), cart.Currency, cart.Total().Minor)
	if err != nil {
		return err
	}
	page := views.CheckoutPage{
		Layout:    h.layout(c, "Check out"),
		Lines:     cartLines(cart),
		Total:     cart.Total().String(),
		Currency:  cart.Currency,
		CSRFToken: csrfToken(c),
		Form:      viewForm(form),
		Errors:    errs,
		Notice:    notice,
	}
	h.shippingView(&page, cart.Total(), methods)
	page.Layout.CartCount = cart.Count()
	return render(c, status, views.Checkout(page))
}

// checkout handles POST /checkout: validate, create the order from the cart (prices
// from the database), start its payment and send the shopper to Orchestrate. An
// invalid form is sent back to GET /checkout (303) with the input and messages.
func (h *handler) checkout(c echo.Context) error {
	form := readCheckoutForm(c)
	if shown := c.FormValue("shown_country"); shown != "" && form.Country != shown && orders.FormatOf(form.Country) != nil {
		// The country changed since the form was shown, so its region and postal
		// code fields were another country's: show this one's first.
		name := orders.FormatOf(form.Country).Name
		notice := "Check your address as it is written in " + name + ", then continue to payment."
		if err := h.putShopFlash(c, flashCheckout, checkoutFlash{Form: form.kept(), Notice: notice}); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, views.CheckoutURL)
	}
	customer, errs := form.Validate(h.shipTo())
	if len(errs) > 0 {
		if err := h.putShopFlash(c, flashCheckout, checkoutFlash{Form: form.kept(), Errors: errs}); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, views.CheckoutURL)
	}
	id := cartID(c)
	if id == "" {
		return c.Redirect(http.StatusSeeOther, views.CartURL)
	}
	currency := shopperCurrency(c)
	if seen := c.FormValue("currency"); seen != "" && seen != currency {
		// The currency changed (in another tab) since the form was shown: show the
		// prices in the new one before making an order in it.
		kept := form.kept()
		msg := "Your cart is now priced in " + currency + ". Check the total, then continue to payment."
		if err := h.putShopFlash(c, flashCheckout, checkoutFlash{Form: kept, Errors: map[string]string{"currency": msg}}); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, views.CheckoutURL)
	}
	order, link, err := h.deps.Payments.Checkout(c.Request().Context(), id, currency, customer)
	var short *orders.ShortageError
	if errors.As(err, &short) {
		// Also from an unchanged cart's order whose units sold since: the cart
		// still holds the same lines.
		return h.renderCheckoutShort(c, short, form)
	}
	if order == nil && errors.Is(err, orders.ErrNoShipping) {
		msg := "This shipping method is not available for your cart. Choose another."
		if err := h.putShopFlash(c, flashCheckout, checkoutFlash{Form: form.kept(), Errors: map[string]string{"method": msg}}); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, views.CheckoutURL)
	}
	if order == nil && (errors.Is(err, orders.ErrInvalid) || errors.Is(err, orders.ErrNotOffered)) {
		// Emptied or changed in another tab, or holding a product not sold in the
		// shopper's currency: the cart says what to do.
		return c.Redirect(http.StatusSeeOther, views.CartURL)
	}
	if order == nil {
		return err
	}
	return h.paymentStarted(c, order, link, err)
}

// Why a payment could not be started, as a paymentFlash says.
const (
	paymentUnavailable = "unavailable" // Orchestrate is down or busy: try again
	paymentRejected    = "rejected"    // Orchestrate refused it: contact the shop
)

// paymentStarted answers a request that started the order's payment: the
// shopper goes to the payment link, or to the order's page, which says why not.
func (h *handler) paymentStarted(c echo.Context, order *orders.Order, link string, err error) error {
	if err == nil {
		// The link was checked to be on Orchestrate's origin before it got here.
		return c.Redirect(http.StatusSeeOther, link)
	}
	problem := ""
	switch {
	case errors.Is(err, orders.ErrNotPayable):
	case errors.Is(err, orders.ErrPaymentUnavailable):
		problem = paymentUnavailable
		logger(c).Warn("payment unavailable", "order", order.Number, "error", err)
	case errors.Is(err, orders.ErrPaymentRejected), errors.Is(err, orders.ErrBadPaymentLink):
		problem = paymentRejected
		logger(c).Error("payment could not be started", "order", order.Number, "error", err)
	default:
		return err
	}
	if problem != "" {
		if err := h.putShopFlash(c, flashPayment, paymentFlash{Ref: order.PublicRef, Problem: problem}); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, views.OrderURL(order.PublicRef))
}

// renderPaymentProblem renders, for GET /orders/:ref, why the order's payment
// could not be started: 503 with Try again while Orchestrate is unavailable, 502
// when it refused the payment.
func (h *handler) renderPaymentProblem(c echo.Context, order *orders.Order, problem string) error {
	page := views.PaymentUnavailablePage{
		Layout:    h.layout(c, "Payment unavailable"),
		Ref:       order.PublicRef,
		Number:    order.Number,
		CSRFToken: csrfToken(c),
	}
	if problem == paymentRejected {
		page.Heading = "We could not start your payment"
		page.Message = "Our payment provider did not accept this payment. We have been notified; please contact us to complete your order."
		return render(c, http.StatusBadGateway, views.PaymentUnavailable(page))
	}
	page.Heading = "The payment service is unavailable"
	page.Message = "We could not reach our payment provider just now. Please try again in a moment."
	page.CanRetry = true
	return render(c, http.StatusServiceUnavailable, views.PaymentUnavailable(page))
}
