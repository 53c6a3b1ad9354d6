package handlers_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"github.com/orchestrate-checkout/checkout/internal/adminauth"
	checkout "github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

const (
	testAdminUser     = "merchant"
	testAdminPassword = "correct horse battery staple"
)

// signIn posts the sign-in form and returns the answer.
func (s *shopper) signIn(user, password, next string) *page {
	s.t.Helper()
	form := url.Values{"username": {user}, "password": {password}}
	if next != "" {
		form.Set("next", next)
	}
	return s.post("/admin/login", form)
}

// newAdmin returns a signed-in merchant.
func (a *app) newAdmin(t *testing.T) *shopper {
	t.Helper()
	s := a.newShopper(t)
	if p := s.signIn(testAdminUser, testAdminPassword, ""); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin" {
		t.Fatalf("sign in = %d %q, want 303 to /admin; body %s", p.StatusCode, p.Header.Get("Location"), p.body)
	}
	return s
}

// sessionCookie returns the admin session cookie the client holds, or "".
func (s *shopper) sessionCookie() string {
	u, _ := url.Parse(s.base + "/admin")
	for _, c := range s.c.Jar.Cookies(u) {
		if c.Name == "admin_session" {
			return c.Value
		}
	}
	return ""
}

// getWithSession fetches path carrying only the given admin session token.
func (a *app) getWithSession(t *testing.T, path, token string) *httptest.ResponseRecorder {
	t.Helper()
	return a.get(t, path, "Cookie", "admin_session="+token)
}

func TestAdminSignInRenewAndSignOut(t *testing.T) {
	a := newApp(t)
	s := a.newShopper(t)

	if p := s.get("/admin"); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/login" {
		t.Fatalf("GET /admin signed out = %d %q, want 303 to /admin/login", p.StatusCode, p.Header.Get("Location"))
	}
	p := s.get("/admin/login")
	if p.StatusCode != http.StatusOK || p.doc.Find(`form[action="/admin/login"] input[name=_csrf]`).Length() != 1 {
		t.Fatalf("sign-in page = %d, want 200 with a CSRF field", p.StatusCode)
	}

	p = s.signIn(testAdminUser, testAdminPassword, "")
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin" {
		t.Fatalf("sign in = %d %q, want 303 to /admin", p.StatusCode, p.Header.Get("Location"))
	}
	var raw string
	for _, c := range p.Header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "admin_session=") {
			raw = c
		}
	}
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/admin"} {
		if !strings.Contains(raw, attr) {
			t.Errorf("session cookie %q lacks %s", raw, attr)
		}
	}
	if strings.Contains(raw, "Secure") {
		t.Errorf("session cookie %q is Secure outside production", raw)
	}
	first := s.sessionCookie()
	if first == "" {
		t.Fatal("no admin_session cookie after sign-in")
	}
	if got := s.get("/admin"); got.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin signed in = %d, want 200", got.StatusCode)
	}
	// The store holds a hash of the token, never the token.
	sum := sha256.Sum256([]byte(first))
	if n := a.count(t, `SELECT count(*) FROM sessions WHERE token = $1`, first); n != 0 {
		t.Error("the sessions table stores the raw token")
	}
	if n := a.count(t, `SELECT count(*) FROM sessions WHERE token = $1`, base64.RawURLEncoding.EncodeToString(sum[:])); n != 1 {
		t.Errorf("%d sessions stored under the token's hash, want 1", n)
	}

	// Signing in again (a fixed or stolen token) issues a new token and kills the old.
	p = s.signIn(testAdminUser, testAdminPassword, "/admin/orders")
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/orders" {
		t.Fatalf("second sign in = %d %q, want 303 to /admin/orders", p.StatusCode, p.Header.Get("Location"))
	}
	second := s.sessionCookie()
	if second == "" || second == first {
		t.Fatalf("session token not renewed at sign-in: %q then %q", first, second)
	}
	if rec := a.getWithSession(t, "/admin", first); rec.Code != http.StatusSeeOther {
		t.Errorf("old token after renewal = %d, want 303 to sign-in", rec.Code)
	}
	if rec := a.getWithSession(t, "/admin", second); rec.Code != http.StatusOK {
		t.Errorf("new token = %d, want 200", rec.Code)
	}

	// Sign out destroys the session server-side: the copied token is worthless.
	p = s.post("/admin/logout", nil)
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/admin/login" {
		t.Fatalf("sign out = %d %q, want 303 to /admin/login", p.StatusCode, p.Header.Get("Location"))
	}
	if rec := a.getWithSession(t, "/admin", second); rec.Code != http.StatusSeeOther {
		t.Errorf("token after sign-out = %d, want 303 to sign-in", rec.Code)
	}
	if n := a.count(t, `SELECT count(*) FROM sessions`); n != 0 {
		t.Errorf("%d sessions left after sign-out, want 0", n)
	}
	if got := s.get("/admin"); got.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /admin after sign-out = %d, want 303", got.StatusCode)
	}
}

// TestAdminSessionIdleTimeout: a session's expiry in the store is the idle
// timeout (30 min in these tests) from the last request, not the lifetime, and
// a session left idle past it is gone. Time passing is simulated by moving the
// stored expiry, which is all the store compares.
func TestAdminSessionIdleTimeout(t *testing.T) {
	a := newApp(t)
	s := a.newAdmin(t)
	idleWindow := `SELECT count(*) FROM sessions WHERE expiry BETWEEN now() + interval '29 minutes' AND now() + interval '31 minutes'`
	if n := a.count(t, idleWindow); n != 1 {
		t.Fatalf("%d sessions expiring 30 min after sign-in, want 1 (the lifetime is 1 h)", n)
	}

	// Twenty idle minutes later the admin comes back: the deadline moves again.
	a.exec(t, `UPDATE sessions SET expiry = now() + interval '10 minutes'`)
	if p := s.get("/admin/orders"); p.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/orders within the idle timeout = %d, want 200", p.StatusCode)
	}
	if n := a.count(t, idleWindow); n != 1 {
		t.Errorf("%d sessions expiring 30 min after the last request, want 1: activity did not extend the session", n)
	}

	// Idle past the timeout: signed out.
	a.exec(t, `UPDATE sessions SET expiry = now() - interval '1 second'`)
	if p := s.get("/admin/orders"); p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/admin/login") {
		t.Errorf("GET /admin/orders after the idle timeout = %d %q, want 303 to the sign-in page", p.StatusCode, p.Header.Get("Location"))
	}
}

func TestAdminRequiresSession(t *testing.T) {
	a := newApp(t)
	sameOrigin := []string{"Sec-Fetch-Site", "same-origin", "Content-Type", "application/x-www-form-urlencoded"}
	tests := []struct {
		method, path string
		wantStatus   int
		wantLocation string
	}{
		{"GET", "/admin", 303, "/admin/login"},
		{"GET", "/admin/orders", 303, "/admin/login?next=%2Fadmin%2Forders"},
		{"GET", "/admin/orders?status=paid&q=x", 303, "/admin/login?next=" + url.QueryEscape("/admin/orders?status=paid&q=x")},
		{"GET", "/admin/orders/1", 303, "/admin/login?next=%2Fadmin%2Forders%2F1"},
		{"GET", "/admin/webhooks", 303, "/admin/login?next=%2Fadmin%2Fwebhooks"},
		{"GET", "/admin/orders/totals?status=paid", 303, "/admin/login?next=" + url.QueryEscape("/admin/orders/totals?status=paid")},
		{"GET", "/admin/no-such-page", 303, "/admin/login?next=%2Fadmin%2Fno-such-page"},
		{"GET", "/admin/orders.csv", 401, ""},
		{"GET", "/admin/orders.csv?status=paid", 401, ""},
		{"POST", "/admin/orders/1/sync", 303, "/admin/login"},
		{"POST", "/admin/webhooks/1/reprocess", 303, "/admin/login"},
		{"GET", "/admin/products", 303, "/admin/login?next=%2Fadmin%2Fproducts"},
		{"GET", "/admin/products/new", 303, "/admin/login?next=%2Fadmin%2Fproducts%2Fnew"},
		{"GET", "/admin/products/1", 303, "/admin/login?next=%2Fadmin%2Fproducts%2F1"},
		{"POST", "/admin/products", 303, "/admin/login"},
		{"POST", "/admin/products/1/prices", 303, "/admin/login"},
		{"POST", "/admin/products/1/active", 303, "/admin/login"},
		{"POST", "/admin/logout", 303, "/admin/login"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			if tt.method == "POST" {
				rec = a.do(t, tt.method, tt.path, strings.NewReader(""), sameOrigin...)
			} else {
				rec = a.get(t, tt.path)
			}
			if rec.Code != tt.wantStatus || rec.Header().Get("Location") != tt.wantLocation {
				t.Errorf("= %d %q, want %d %q", rec.Code, rec.Header().Get("Location"), tt.wantStatus, tt.wantLocation)
			}
		})
	}
	// A bogus cookie is no session either.
	if rec := a.getWithSession(t, "/admin/orders.csv", "forged-token"); rec.Code != http.StatusUnauthorized {
		t.Errorf("CSV with a forged session = %d, want 401", rec.Code)
	}
}

func TestAdminSignInNextIsLocal(t *testing.T) {
	a := newApp(t)
	tests := []struct{ next, want string }{
		{"/admin/orders?status=paid", "/admin/orders?status=paid"},
		{"/admin/webhooks", "/admin/webhooks"},
		{"//evil.example/admin", "/admin"},
		{"https://evil.example/admin", "/admin"},
		{"/\\evil.example", "/admin"},
		{"/admin/../cart", "/admin"},
		{"/administrator", "/admin"},
		{"/cart", "/admin"},
		{"javascript:alert(1)", "/admin"},
		{"/admin/login", "/admin"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			s := a.newShopper(t)
			p := s.signIn(testAdminUser, testAdminPassword, tt.next)
			if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != tt.want {
				t.Errorf("sign in with next=%q = %d %q, want 303 to %q", tt.next, p.StatusCode, p.Header.Get("Location"), tt.want)
			}
		})
	}
	// The sign-in page carries next only when it is safe.
	s := a.newShopper(t)
	if v, _ := s.get("/admin/login?next=//evil.example").doc.Find("input[name=next]").Attr("value"); v != "/admin" {
		t.Errorf("sign-in page kept next=%q", v)
	}
}

// signInFrom posts the sign-in form as a client at addr (throttling is per address).
func (a *app) signInFrom(t *testing.T, addr, user, password string) *httptest.ResponseRecorder {
	t.Helper()
	form := url.Values{"username": {user}, "password": {password}}
	req := httptest.NewRequest(http.MethodPost, "/admin/login", strings.NewReader(form.Encode()))
	req.RemoteAddr = addr + ":40000"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

func TestAdminWrongUserAndWrongPasswordLookAlike(t *testing.T) {
	a := newApp(t)
	wrongUser := a.signInFrom(t, "192.0.2.10", "nobody", testAdminPassword)
	wrongPass := a.signInFrom(t, "192.0.2.11", testAdminUser, "not the password")
	for name, rec := range map[string]*httptest.ResponseRecorder{"wrong user": wrongUser, "wrong password": wrongPass} {
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s = %d, want 401", name, rec.Code)
		}
		if strings.Contains(rec.Header().Get("Set-Cookie"), "admin_session=") {
			t.Errorf("%s set a session cookie", name)
		}
	}
	msg := func(rec *httptest.ResponseRecorder) string {
		return strings.TrimSpace(doc(t, rec).Find("#signin-error").Text())
	}
	if msg(wrongUser) == "" || msg(wrongUser) != msg(wrongPass) {
		t.Errorf("messages differ: wrong user %q, wrong password %q", msg(wrongUser), msg(wrongPass))
	}
	// The username is kept, the password never.
	if v, _ := doc(t, wrongPass).Find("#username").Attr("value"); v != testAdminUser {
		t.Errorf("username field = %q, want it kept", v)
	}
	if v, ok := doc(t, wrongPass).Find("#password").Attr("value"); ok {
		t.Errorf("password field re-filled with %q", v)
	}
}

// newSignInApp is the app in production with the given configured password.
func newSignInApp(t *testing.T, pool *pgxpool.Pool, password string) *app {
	t.Helper()
	return newAppWith(t, pool, appOptions{config: func(c *checkout.Config) {
		c.Env = "production"
		c.AdminPassword = password
	}})
}

func TestAdminPasswordHashes(t *testing.T) {
	bcryptHash, err := bcrypt.GenerateFromPassword([]byte("s3cret-bcrypt"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, setting, password string
	}{
		{"bcrypt", string(bcryptHash), "s3cret-bcrypt"},
		// argon2id of "s3cret-argon" with salt "somesaltsomesalt", m=64 MiB, t=1, p=1
		// (made with golang.org/x/crypto/argon2 and PHC-encoded).
		{"argon2id", "$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$TSlL7V0I3nH9D5fzbQW0Ujrw+3sjtiga3/nJqBEqakY", "s3cret-argon"},
		{"plain", "s3cret-plain-text", "s3cret-plain-text"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := testdb.New(t) // a fresh throttle: the failures below are deliberate
			if err := adminauth.CheckPasswordSetting(tt.setting); err != nil {
				t.Fatalf("CheckPasswordSetting: %v", err)
			}
			a := newSignInApp(t, db.Pool, tt.setting)
			addr := "192.0.2." + strconv.Itoa(100+i)
			if rec := a.signInFrom(t, addr, testAdminUser, tt.password+"x"); rec.Code != http.StatusUnauthorized {
				t.Errorf("wrong password = %d, want 401", rec.Code)
			}
			if rec := a.signInFrom(t, addr, testAdminUser, tt.setting); tt.name != "plain" && rec.Code != http.StatusUnauthorized {
				t.Errorf("the hash itself as password = %d, want 401", rec.Code)
			}
			rec := a.signInFrom(t, addr, testAdminUser, tt.password)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("right password = %d, want 303; body %s", rec.Code, rec.Body)
			}
			if c := rec.Header().Get("Set-Cookie"); !strings.Contains(c, "admin_session=") || !strings.Contains(c, "Secure") {
				t.Errorf("production session cookie = %q, want admin_session with Secure", c)
			}
		})
	}
	for _, bad := range []string{"$2a$10$short", "$argon2id$v=19$m=65536,t=1,p=1$c2FsdA", "$argon2id$v=16$m=1,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA"} {
		if err := adminauth.CheckPasswordSetting(bad); err == nil {
			t.Errorf("CheckPasswordSetting(%q) = nil, want an error", bad)
		}
	}
}
