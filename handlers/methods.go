package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// headWithGet makes every GET route answer HEAD too, with the same handler and
// middleware: net/http sends a HEAD response's status and headers (Content-Length
// included) and drops its body. Set it as Echo's OnAddRouteHandler before any
// route is added. Routes are registered on the default host only.
func headWithGet(e *echo.Echo) func(host string, r echo.Route, h echo.HandlerFunc, m []echo.MiddlewareFunc) {
	return func(_ string, r echo.Route, h echo.HandlerFunc, m []echo.MiddlewareFunc) {
		if r.Method == http.MethodGet {
			e.Add(http.MethodHead, r.Path, h, m...)
		}
	}
}

// methodNotAllowed answers 405 with an Allow header when the path is a route's
// but the method is none of that route's (OPTIONS included: the app serves no
// CORS). It runs after routing and before any group middleware, so a PUT is
// told 405 rather than failing CSRF or being sent to sign in.
//
// Echo's router cannot say this itself: each middleware group registers a
// catch-all 404 route so its middleware runs for unknown paths, and that route
// wins over the router's 405; where none does, the router answers OPTIONS with
// 204 and lists OPTIONS in Allow. So the routes are looked up again in a router
// that holds only the real routes; only requests that landed on a catch-all or
// on the router's own 405 pay for it.
func methodNotAllowed(routes []*echo.Route) echo.MiddlewareFunc {
	known := echo.New()
	catchAll := map[string]bool{"": true}
	noop := func(echo.Context) error { return nil }
	for _, r := range routes {
		if r.Method == echo.RouteNotFound {
			catchAll[r.Path] = true
			continue
		}
		known.Add(r.Method, r.Path, noop)
	}
	// allowed returns the Allow header for req, or "" when its method has a route
	// or its path has none.
	allowed := func(req *http.Request) string {
		c := known.AcquireContext()
		defer known.ReleaseContext(c)
		c.Reset(req, nil)
		known.Router().Find(req.Method, echo.GetPath(req), c)
		allow, _ := c.Get(echo.ContextKeyHeaderAllow).(string)
		// Echo lists OPTIONS first, for its automatic OPTIONS answer; we give none.
		return strings.TrimPrefix(strings.TrimPrefix(allow, http.MethodOptions), ", ")
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !catchAll[c.Path()] && c.Get(echo.ContextKeyHeaderAllow) == nil {
				return next(c)
			}
			if allow := allowed(c.Request()); allow != "" {
				c.Response().Header().Set(echo.HeaderAllow, allow)
				return echo.ErrMethodNotAllowed
			}
			return next(c)
		}
	}
}
