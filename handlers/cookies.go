package handlers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// The shop's cookies carry values only the server can make: each is value.MAC,
// an HMAC-SHA256 under a key derived from COOKIE_SECRET for that cookie alone, so
// a client (or a sibling subdomain planting a cookie) cannot choose one, and a
// value signed for one cookie is worthless in the other. In production the names
// carry the __Host- prefix: the browser then takes them only from this host, over
// https, with Path=/ and no Domain, so no other host can set or shadow them.
const (
	cartCookie     = "cart"  // __Host-cart in production
	csrfCookie     = "_csrf" // __Host-csrf in production
	hostOnlyPrefix = "__Host-"
)

// cookieKeys are the HMAC keys of the shop's cookies.
type cookieKeys struct {
	csrf, cart []byte
}

// newCookieKeys derives one key per cookie from secret (HMAC-SHA256 of the
// cookie's purpose, a PRF); an empty secret (tests, development) is replaced by a
// random one, so cookies do not outlive the process.
func newCookieKeys(secret []byte) cookieKeys {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		rand.Read(secret) // never fails (crypto/rand.Read crashes the program instead)
	}
	derive := func(purpose string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte("orchestrate-checkout cookie key: " + purpose))
		return m.Sum(nil)
	}
	return cookieKeys{csrf: derive("csrf"), cart: derive("cart")}
}

// sign returns value.MAC; value must not be empty.
func sign(key []byte, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return value + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// verify returns the value of a signed string, or false when it was not signed
// with key.
func verify(key []byte, signed string) (string, bool) {
	value, mac, ok := strings.Cut(signed, ".")
	if !ok || value == "" {
		return "", false
	}
	got, err := base64.RawURLEncoding.DecodeString(mac)
	if err != nil {
		return "", false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(value))
	return value, hmac.Equal(got, m.Sum(nil))
}

// signedCookie returns the value of the first cookie called name whose signature
// is good, and the cookie's whole signed value: a planted cookie of the same name
// sent alongside ours is skipped.
func signedCookie(c echo.Context, name string, key []byte) (value, signed string, ok bool) {
	for _, ck := range c.Request().Cookies() {
		if ck.Name != name {
			continue
		}
		if v, ok := verify(key, ck.Value); ok {
			return v, ck.Value, true
		}
	}
	return "", "", false
}

// cookieName is name as the browser should store it: host-only in production
// (without the development name's leading underscore).
func (h *handler) cookieName(name string) string {
	if h.cfg.Production {
		return hostOnlyPrefix + strings.TrimLeft(name, "_")
	}
	return name
}

// setShopCookie sets one of the shop's cookies: HttpOnly, SameSite=Lax, Path=/,
// no Domain, Secure in production.
func (h *handler) setShopCookie(c echo.Context, name, value string, maxAge time.Duration) {
	c.SetCookie(&http.Cookie{
		Name:     h.cookieName(name),
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge.Seconds()),
		HttpOnly: true,
		Secure:   h.cfg.Production,
		SameSite: http.SameSiteLaxMode,
	})
}

// CartCookieValue is the value of the cart cookie naming cartID for a shop whose
// COOKIE_SECRET is secret: for tools that create carts in the database, such as
// the benchmarks.
func CartCookieValue(secret []byte, cartID string) string {
	return sign(newCookieKeys(secret).cart, cartID)
}
