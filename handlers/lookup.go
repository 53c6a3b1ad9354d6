package handlers

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// orderLookup emails an order page's link to the address the order was placed
// with, if the number and address match an order; it says nothing either way.
type orderLookup interface {
	Lookup(ctx context.Context, email, number string) error
}

// Mail is the shop's mail to shoppers: the receipt's state for the order page,
// and the order lookup.
type Mail interface {
	orderLookup   // lookup.go
	receiptReader // order.go
}

// orderNumberPattern is the shape of an order number (FK-100001), checked before
// any query.
var orderNumberPattern = regexp.MustCompile(`^[A-Z]{2}-[0-9]{1,12}$`)

// lookupRateLimit limits POST /orders/lookup per client address: a shopper
// needs a few tries, a script guessing numbers gets 429. It is per instance;
// the outbox also caps the mail one order can be sent per hour.
func (h *handler) lookupRateLimit() echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Every(time.Minute / 5), Burst: 5, ExpiresIn: 10 * time.Minute,
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return echo.NewHTTPError(http.StatusTooManyRequests, "Too many lookups from your address; try again in a minute.")
		},
		ErrorHandler: func(c echo.Context, err error) error { return echo.NewHTTPError(http.StatusForbidden) },
	})
}

// showLookup handles GET /orders/lookup: the form, or (after a POST) the same
// answer whether or not an order matched.
func (h *handler) showLookup(c echo.Context) error {
	return h.renderLookup(c, http.StatusOK, views.LookupPage{Sent: c.QueryParam("sent") == "1"})
}

func (h *handler) renderLookup(c echo.Context, status int, p views.LookupPage) error {
	noStore(c)
	p.Layout = h.layout(c, "Find your order")
	p.CSRFToken = csrfToken(c)
	return render(c, status, views.Lookup(p))
}

// lookup handles POST /orders/lookup: a malformed field is 422 with the input
// kept; a well-formed one queues the link when it matches an order and
// redirects (303) to the same answer either way.
func (h *handler) lookup(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	number := strings.ToUpper(strings.TrimSpace(c.FormValue("number")))
	errs := map[string]string{}
	normalized, err := orders.NormalizeEmail(email)
	switch {
	case email == "":
		errs["email"] = "Enter the email address you gave with the order."
	case errors.Is(err, orders.ErrBadText):
		errs["email"] = msgEmailText
		email = orders.MarkRefused(email)
	case len(email) > 254 || err != nil:
		errs["email"] = "Enter an email address like name@example.com."
	}
	switch {
	case number == "":
		errs["number"] = "Enter the order number, for example FK-100001."
	case !orderNumberPattern.MatchString(number):
		errs["number"] = "An order number looks like FK-100001."
	}
	if len(errs) > 0 {
		return h.renderLookup(c, http.StatusUnprocessableEntity, views.LookupPage{Email: clip(email), Number: clip(number), Errors: errs})
	}
	if err := h.deps.Mail.Lookup(c.Request().Context(), normalized, number); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, views.OrderLookupSentURL)
}
