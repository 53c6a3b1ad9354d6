package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// errorStatus maps the domain's sentinel errors to HTTP statuses: the one table.
var errorStatus = []struct {
	err    error
	status int
}{
	{orders.ErrNotFound, http.StatusNotFound},
	{orders.ErrConflict, http.StatusConflict},
	{orders.ErrSoldOut, http.StatusConflict},
	{orders.ErrBusy, http.StatusServiceUnavailable},
	{orders.ErrInvalid, http.StatusUnprocessableEntity},
	{context.DeadlineExceeded, http.StatusServiceUnavailable},
}

// What a person is told for each status; the detail of a 5xx stays in the log.
var errorText = map[int][2]string{
	http.StatusBadRequest:            {"That request did not make sense", "Something in the request was malformed. Go back and try again."},
	http.StatusForbidden:             {"Not allowed", "You are not allowed to do that."},
	http.StatusNotFound:              {"Page not found", "We could not find that page. If you followed a link to an order, check that you copied all of it."},
	http.StatusMethodNotAllowed:      {"Not allowed", "That page cannot be used that way."},
	http.StatusRequestEntityTooLarge: {"Too much data", "The request was larger than we accept."},
	http.StatusUnprocessableEntity:   {"Please check your input", "Some of what you entered could not be used."},
	http.StatusTooManyRequests:       {"Slow down", "Too many attempts. Wait a moment and try again."},
	http.StatusServiceUnavailable:    {"Temporarily unavailable", "We could not finish that just now. Nothing was lost; please try again in a moment."},
}

// statusOf returns the HTTP status for err and the message a client may see.
func statusOf(err error) (int, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg, _ := he.Message.(string)
		if msg == http.StatusText(he.Code) {
			msg = "" // Echo's stock text; errorText says it better
		}
		return he.Code, msg
	}
	for _, e := range errorStatus {
		if errors.Is(err, e.err) {
			return e.status, ""
		}
	}
	return http.StatusInternalServerError, ""
}

// handleError is Echo's HTTPErrorHandler: it maps err to a status, logs only server
// errors, and answers machine routes with JSON and people with an HTML page.
func (h *handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg := statusOf(err)
	if status >= 500 {
		if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
			// The client went away; there is nobody to answer and nothing to fix.
			status = 499
		} else {
			logger(c).Error("request failed", "status", status, "error", err)
		}
	}
	text, ok := errorText[status]
	if !ok {
		text = [2]string{"Something went wrong", "We could not finish that. Nothing was lost; please try again, and contact us if it keeps happening."}
	}
	if msg == "" || status >= 500 {
		msg = text[1]
	}
	if status == 499 {
		c.Response().WriteHeader(status)
		return
	}

	var werr error
	if c.Request().Method == http.MethodHead {
		werr = c.NoContent(status)
	} else if wantsJSON(c) {
		werr = c.JSON(status, map[string]string{"error": msg})
	} else {
		page := views.ErrorPage{
			Layout:    h.layout(c, text[0]),
			Status:    status,
			Heading:   text[0],
			Message:   msg,
			RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
			BackURL:   views.CatalogURL,
			BackLabel: "Back to the shop",
		}
		if p := c.Request().URL.Path; p == views.AdminURL || strings.HasPrefix(p, views.AdminURL+"/") {
			// The merchant's error pages stay in the admin, with its navigation
			// when they are signed in.
			page.Layout.Admin = true
			if signedIn, _ := c.Get(adminSignedInKey).(bool); signedIn {
				page.Layout = h.adminLayout(c, text[0])
			}
			page.BackURL, page.BackLabel = views.AdminURL, "Back to the admin"
		}
		werr = render(c, status, views.Error(page))
	}
	if werr != nil {
		logger(c).Error("writing error response", "error", werr)
	}
}

// wantsJSON reports whether the client is a machine: the health, metrics, API and
// webhook routes, or a request that asks for JSON.
func wantsJSON(c echo.Context) bool {
	p := c.Request().URL.Path
	for _, prefix := range []string{"/webhooks/", "/healthz", "/readyz", "/metrics", "/api/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return strings.Contains(c.Request().Header.Get(echo.HeaderAccept), echo.MIMEApplicationJSON)
}
