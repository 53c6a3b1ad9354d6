package handlers

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
)

// A shop form that cannot be done answers 303 to the page that shows why (post/
// redirect/get), never with a page of its own: a page that answered a POST is one
// the browser cannot go Back to without asking to send the form again ("Confirm
// Form Resubmission", ERR_CACHE_MISS). What that page needs — the shopper's input
// and the messages — waits for it in a flash: a short server-side session (the
// table sessions, like the admin's) named by a random token in a cookie, read once
// and deleted. No input travels in a URL, so none reaches a log.

// Flash keys, one per page that shows what a POST could not do.
const (
	flashCheckout = "checkout" // checkoutFlash, shown by GET /checkout
	flashCart     = "cart"     // cartFlash, shown by GET /cart
	flashPayment  = "payment"  // paymentFlash, shown by GET /orders/:ref
)

// checkoutFlash is a rejected checkout form and its messages, or (no Errors) the
// form kept while the cart changed, with a Notice saying how.
type checkoutFlash struct {
	Form   checkoutForm
	Errors map[string]string
	Notice string `json:",omitempty"`
}

// cartFlash is a rejected cart change: the message and, for a quantity, the line
// and what the shopper typed; or, with no Error, a change done other than asked
// (capped at what is in stock), which Notice says.
type cartFlash struct {
	Error     string
	ProductID int64
	Quantity  string
	Notice    string `json:",omitempty"`
}

// paymentFlash says why the order's payment could not be started.
type paymentFlash struct {
	Ref     string
	Problem string // paymentUnavailable or paymentRejected
}

// flashLifetime bounds how long a flash waits for the page it is for: the browser
// follows the 303 at once, so a flash older than this was abandoned.
const flashLifetime = 5 * time.Minute

// maxFlashInput is the most of one input field a flash keeps. Longer input is
// refused with a message about its length already; what is kept is only shown.
const maxFlashInput = 1 << 10

// NewFlashManager returns the shop's flash sessions over store: the cookie flash
// (__Host-flash in production, where it is Secure, so no other host can plant
// one), HttpOnly, SameSite=Lax, for the whole shop, gone with the flash after
// flashLifetime at most. The store keeps a hash of the token, not the token.
func NewFlashManager(store scs.Store, production bool) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	sm.Lifetime = flashLifetime
	sm.HashTokenInStore = true
	sm.Cookie.Name = "flash"
	if production {
		sm.Cookie.Name = "__Host-flash"
	}
	sm.Cookie.Path = "/"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = production
	sm.Cookie.Persist = true // the browser drops it when the flash expires
	return sm
}

// loadFlash loads the flash session named by the cookie, when there is one, and
// saves it, when changed, just before the response is written.
func (h *handler) loadFlash(next echo.HandlerFunc) echo.HandlerFunc {
	return withSession(h.deps.Flashes, "flash", next)
}

// putShopFlash keeps v under key for the page the response redirects to.
func (h *handler) putShopFlash(c echo.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("flash %s: %w", key, err)
	}
	h.deps.Flashes.Put(c.Request().Context(), key, b)
	return nil
}

// popShopFlash reads the flash under key into v and forgets it (with the session and
// its cookie once nothing is left); false when there is none.
func (h *handler) popShopFlash(c echo.Context, key string, v any) bool {
	ctx := c.Request().Context()
	sm := h.deps.Flashes
	b := sm.PopBytes(ctx, key)
	if len(sm.Keys(ctx)) == 0 && sm.Token(ctx) != "" {
		if err := sm.Destroy(ctx); err != nil {
			logger(c).Warn("deleting a flash", "error", err) // it expires anyway
		}
	}
	return b != nil && json.Unmarshal(b, v) == nil
}

// clip keeps at most maxFlashInput bytes of s, cut between characters.
func clip(s string) string {
	if len(s) <= maxFlashInput {
		return s
	}
	i := maxFlashInput
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
