package handlers

import (
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
)

// withSession loads the session of sm named by the request's cookie (none when
// there is no cookie) into the request's context, and saves it, when changed,
// just before the response is written: a new or renewed session sets its cookie,
// a destroyed one clears it. what names the session in errors and logs.
func withSession(sm *scs.SessionManager, what string, next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var token string
		if ck, err := c.Cookie(sm.Cookie.Name); err == nil {
			token = ck.Value
		}
		ctx, err := sm.Load(c.Request().Context(), token)
		if err != nil {
			return fmt.Errorf("load %s: %w", what, err)
		}
		c.SetRequest(c.Request().WithContext(ctx))
		c.Response().Before(func() {
			switch sm.Status(ctx) {
			case scs.Modified:
				token, expiry, err := sm.Commit(ctx)
				if err != nil {
					// The response is on its way; without the cookie the admin
					// signs in again, and a refused form's page shows it without
					// the shopper's input, which they type again.
					logger(c).Error("saving the "+what, "error", err)
					return
				}
				sm.WriteSessionCookie(ctx, c.Response(), token, expiry)
			case scs.Destroyed:
				sm.WriteSessionCookie(ctx, c.Response(), "", time.Time{})
			}
		})
		return next(c)
	}
}
