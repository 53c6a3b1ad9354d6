package handlers

import (
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// maxRequestIDLen is the longest X-Request-Id taken from a client.
const maxRequestIDLen = 64

// requestID gives every request an id, sent back in X-Request-Id, logged and
// shown on error pages. A client's own X-Request-Id (a proxy's, to follow a
// request across services) is kept only when it is 1 to 64 characters of
// [A-Za-z0-9._-]; any other is dropped before Echo's RequestID middleware, which
// then generates one, and before the request logger, which reads the request's
// header first, so no client can put what it likes in a log line or a page.
func requestID() echo.MiddlewareFunc {
	withID := middleware.RequestID()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		next = withID(next)
		return func(c echo.Context) error {
			hdr := c.Request().Header
			if ids := hdr.Values(echo.HeaderXRequestID); len(ids) > 0 && (len(ids) > 1 || !safeRequestID(ids[0])) {
				hdr.Del(echo.HeaderXRequestID)
			}
			return next(c)
		}
	}
}

// safeRequestID reports whether id is 1 to maxRequestIDLen characters of
// [A-Za-z0-9._-].
func safeRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
