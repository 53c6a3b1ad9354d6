package handlers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"github.com/orchestrate-checkout/checkout/internal/adminauth"
	"github.com/orchestrate-checkout/checkout/orders"
	"github.com/orchestrate-checkout/checkout/views"
)

// SigninThrottle limits admin sign-in attempts per client address and username.
type SigninThrottle interface {
	// Attempt counts an attempt before its password is compared and says whether
	// it may be.
	Attempt(ctx context.Context, addr, username string) (adminauth.SigninAttempt, error)
	// Succeeded clears the address's count after a successful sign-in.
	Succeeded(ctx context.Context, addr, username string) error
}

// adminSessionKey holds the signed-in admin's username in the session.
const adminSessionKey = "admin"

// NewSessionManager returns the admin's session manager over store: the cookie
// admin_session, for /admin only, HttpOnly, SameSite=Lax; in production it is
// __Host-admin_session, Secure, with the Path=/ that prefix requires, so no other
// host (a sibling subdomain) can plant or shadow it.
// A session ends lifetime after sign-in, or earlier once it has been idle for
// idle (0: no idle timeout); every admin request pushes the idle deadline back.
// The store keeps a hash of the token, not the token.
func NewSessionManager(store scs.Store, lifetime, idle time.Duration, production bool) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	sm.Lifetime = lifetime
	sm.IdleTimeout = idle
	sm.HashTokenInStore = true
	sm.Cookie.Name = "admin_session"
	sm.Cookie.Path = "/admin"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = production
	if production {
		sm.Cookie.Name = hostOnlyPrefix + sm.Cookie.Name
		sm.Cookie.Path = "/"
	}
	sm.Cookie.Persist = false // a browser session; the server-side lifetime still applies
	return sm
}

// checkCredentials compares both fields in constant time and always runs the
// password check, so a wrong username takes as long as a wrong password.
func (h *handler) checkCredentials(username, password string) bool {
	gotUser := sha256.Sum256([]byte(username))
	wantUser := sha256.Sum256([]byte(h.cfg.AdminUsername))
	userOK := subtle.ConstantTimeCompare(gotUser[:], wantUser[:]) == 1
	passOK := h.passwordOK != nil && h.passwordOK(password)
	return userOK && passOK && h.cfg.AdminUsername != ""
}

// loadSession loads the admin session named by the cookie into the request's
// context and saves it, when changed, just before the response is written.
func (h *handler) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	load := withSession(h.deps.Sessions, "admin session", next)
	return func(c echo.Context) error {
		c.Response().Header().Add("Vary", "Cookie")
		return load(c)
	}
}

// adminSignedInKey marks, in the request's context, a request requireAdmin let
// through.
const adminSignedInKey = "admin_signed_in"

// requireAdmin lets signed-in admins through. Others are sent to the sign-in page
// (303, remembering where they were going) or, for the CSV export, answered 401.
func (h *handler) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if h.deps.Sessions.GetString(c.Request().Context(), adminSessionKey) != "" {
			noStore(c)
			c.Set(adminSignedInKey, true) // for the error page's navigation
			return next(c)
		}
		if strings.HasSuffix(c.Request().URL.Path, ".csv") {
			return echo.NewHTTPError(http.StatusUnauthorized, "Sign in to export orders.")
		}
		next := ""
		if c.Request().Method == http.MethodGet {
			if n := safeNext(c.Request().URL.RequestURI()); n != views.AdminURL {
				next = n
			}
		}
		return c.Redirect(http.StatusSeeOther, views.AdminSignInURL(next))
	}
}

// safeNext returns next when it is a local admin path (/admin, /admin/… or
// /admin?…), else /admin: a sign-in link can never send anyone elsewhere.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		strings.ContainsAny(next, "\\\r\n\t") || strings.Contains(u.Path, "..") {
		return "/admin"
	}
	if u.Path != "/admin" && !strings.HasPrefix(u.Path, "/admin/") {
		return "/admin"
	}
	if strings.HasPrefix(u.Path, "/admin/login") || strings.HasPrefix(u.Path, "/admin/logout") {
		return "/admin"
	}
	return u.RequestURI()
}

// signInForm is the sign-in form.
type signInForm struct {
	Username string
	Password string
	Next     string
}

// Messages of the sign-in page. A wrong username and a wrong password read the
// same, so the page never confirms that a username exists.
const (
	msgBadCredentials = "That username and password do not match. Check them and try again."
	msgMissing        = "Enter your username and password."
	msgUsernameText   = "Your username contains a character that is not allowed (shown as �)."
)

// showSignIn handles GET /admin/login.
func (h *handler) showSignIn(c echo.Context) error {
	noStore(c)
	if h.deps.Sessions.GetString(c.Request().Context(), adminSessionKey) != "" {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return h.renderSignIn(c, http.StatusOK, signInForm{Next: safeNext(c.QueryParam("next"))}, "")
}

func (h *handler) renderSignIn(c echo.Context, status int, f signInForm, msg string) error {
	layout := h.layout(c, "Sign in")
	layout.Admin = true
	return render(c, status, views.AdminSignIn(views.AdminSignInPage{
		Layout:    layout,
		CSRFToken: csrfToken(c),
		Username:  f.Username,
		Next:      f.Next,
		Error:     msg,
	}))
}

// signIn handles POST /admin/login. The throttle counts the attempt before the
// password is compared and refuses it (429 with Retry-After) when the address, or
// the username for an address that has failed before, is locked. A wrong password
// is answered a little later than the last, or 429 when it set a lock. Success
// renews the session token (no fixation) and redirects to next.
func (h *handler) signIn(c echo.Context) error {
	noStore(c)
	ctx := c.Request().Context()
	f := signInForm{
		Username: strings.TrimSpace(c.FormValue("username")),
		Password: c.FormValue("password"),
		Next:     safeNext(c.FormValue("next")),
	}
	if f.Username == "" || f.Password == "" {
		return h.renderSignIn(c, http.StatusUnprocessableEntity, f, msgMissing)
	}
	if orders.CheckText(f.Username) != nil {
		// No one's username; refused before the throttle counts it.
		f.Username = orders.MarkRefused(f.Username)
		return h.renderSignIn(c, http.StatusUnprocessableEntity, f, msgUsernameText)
	}
	attempt, err := h.deps.Throttle.Attempt(ctx, c.RealIP(), f.Username)
	if err != nil {
		return err
	}
	if !attempt.Allowed {
		h.signins.WithLabelValues("refused").Inc()
		return h.tooManySignIns(c, f, attempt.Wait)
	}
	if !h.checkCredentials(f.Username, f.Password) {
		h.signins.WithLabelValues("failed").Inc()
		logger(c).Warn("admin sign-in failed", "failures", attempt.Failures)
		if attempt.Wait > 0 {
			return h.tooManySignIns(c, f, attempt.Wait)
		}
		// Slow the next guess down a little more each time.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(time.Duration(attempt.Failures-1)*signInDelayStep, time.Second)):
		}
		return h.renderSignIn(c, http.StatusUnauthorized, f, msgBadCredentials)
	}
	h.signins.WithLabelValues("succeeded").Inc()
	if err := h.deps.Throttle.Succeeded(ctx, c.RealIP(), f.Username); err != nil {
		return err
	}
	sm := h.deps.Sessions
	if err := sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("renew admin session: %w", err)
	}
	sm.Put(ctx, adminSessionKey, h.cfg.AdminUsername)
	logger(c).Info("admin signed in")
	return c.Redirect(http.StatusSeeOther, f.Next)
}

// signInDelayStep is how much longer each further failed sign-in waits.
const signInDelayStep = 200 * time.Millisecond

// tooManySignIns answers 429 with Retry-After in whole seconds (at least 1).
func (h *handler) tooManySignIns(c echo.Context, f signInForm, wait time.Duration) error {
	secs := max(1, int(math.Ceil(wait.Seconds())))
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	logger(c).Warn("admin sign-in throttled", "retry_after_seconds", secs)
	return h.renderSignIn(c, http.StatusTooManyRequests, f,
		fmt.Sprintf("Too many failed sign-ins. Wait %d seconds, then try again.", secs))
}

// signOut handles POST /admin/logout: the session is destroyed in the store, so
// its token is worthless even if it was copied.
func (h *handler) signOut(c echo.Context) error {
	if err := h.deps.Sessions.Destroy(c.Request().Context()); err != nil {
		return fmt.Errorf("destroy admin session: %w", err)
	}
	return c.Redirect(http.StatusSeeOther, views.AdminSignInURL(""))
}
