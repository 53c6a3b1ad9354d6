package handlers

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// csrfContextKey is where the CSRF middleware leaves the token for forms.
const csrfContextKey = "csrf"

// csrfCookieLifetime is how long a form stays good without a new page: the
// cookie is renewed on every page the shopper or merchant loads.
const csrfCookieLifetime = 24 * time.Hour

// csrfRefused is what a person is told when a form is refused.
const csrfRefused = "This form has expired or did not come from this site. Go back, reload the page and try again."

// csrf protects every state-changing request in two layers; a failure is 403.
//
//  1. net/http's CrossOriginProtection: a browser's Sec-Fetch-Site must say
//     same-origin (or none), which also refuses a sibling subdomain (same-site);
//     a browser too old for Fetch metadata must send an Origin naming this host
//     or PUBLIC_URL. Every browser in use sends one or the other.
//  2. A request without Sec-Fetch-Site (an older browser, or no browser) must
//     also echo the token of the CSRF cookie in the form field _csrf or the
//     X-CSRF-Token header. The token is a random nonce signed by the server
//     (see cookies.go), so a planted or made-up cookie is refused, and replaced
//     on the next page.
func (h *handler) csrf() echo.MiddlewareFunc {
	origins := http.NewCrossOriginProtection()
	if u := h.cfg.PublicURL; u != nil {
		// Behind a proxy that rewrites Host, the Origin still names the public URL.
		_ = origins.AddTrustedOrigin(u.Scheme + "://" + u.Host) // a parsed URL's origin is valid
	}
	name := h.cookieName(csrfCookie)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if err := origins.Check(req); err != nil {
				return echo.NewHTTPError(http.StatusForbidden, csrfRefused).SetInternal(err)
			}
			_, token, valid := signedCookie(c, name, h.keys.csrf)
			if !valid {
				token = sign(h.keys.csrf, rand.Text())
			}
			if !safeMethod(req.Method) && req.Header.Get("Sec-Fetch-Site") == "" {
				sent := c.FormValue("_csrf")
				if sent == "" {
					sent = req.Header.Get(echo.HeaderXCSRFToken)
				}
				if !valid || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
					return echo.NewHTTPError(http.StatusForbidden, csrfRefused)
				}
			}
			if safeMethod(req.Method) {
				// Pages carry forms: each renews the cookie (or replaces a bad one).
				h.setShopCookie(c, csrfCookie, token, csrfCookieLifetime)
			}
			c.Set(csrfContextKey, token)
			c.Response().Header().Add(echo.HeaderVary, echo.HeaderCookie) // the page carries the token
			return next(c)
		}
	}
}

// safeMethod reports whether method changes nothing, as CrossOriginProtection
// counts them.
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// csrfToken returns the token to embed in the page's forms.
func csrfToken(c echo.Context) string {
	s, _ := c.Get(csrfContextKey).(string)
	return s
}
