package handlers

import (
	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/views"
)

// What every signed-in admin page shares: its frame, the one-time message a
// redirect leaves for it, and how an optional value shows.

// adminLayout is the frame of a signed-in admin page.
func (h *handler) adminLayout(c echo.Context, title string) views.Layout {
	l := h.layout(c, title)
	l.Admin, l.SignedIn = true, true
	l.CSRFToken = csrfToken(c)
	return l
}

// flash keeps a one-time message for the next page the admin sees.
func (h *handler) flash(c echo.Context, tone, msg string) {
	ctx := c.Request().Context()
	h.deps.Sessions.Put(ctx, "flash", msg)
	h.deps.Sessions.Put(ctx, "flash_tone", tone)
}

// popFlash returns and forgets the pending message.
func (h *handler) popFlash(c echo.Context) views.Flash {
	ctx := c.Request().Context()
	return views.Flash{
		Message: h.deps.Sessions.PopString(ctx, "flash"),
		Tone:    h.deps.Sessions.PopString(ctx, "flash_tone"),
	}
}

// deref is an optional text as a page shows it: empty when there is none.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
