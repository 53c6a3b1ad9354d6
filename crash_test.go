package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
	"github.com/orchestrate-checkout/checkout/internal/mailcatcher"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

// The crash tests run the real binary and kill it with SIGKILL at the two worst
// moments of a payment, then restart it and check that every order converges to
// the sandbox's truth with no payment lost and none created twice.

// appBinary is built by the first crash test and removed by TestMain.
var appBinary apptest.Binary

func TestMain(m *testing.M) {
	code := m.Run()
	appBinary.Remove()
	os.Exit(code)
}

// holdingProxy stands between the app and the sandbox. Armed, it holds one kind
// of request without answering, so the test can kill the app at that moment.
type holdingProxy struct {
	next    *httputil.ReverseProxy
	mu      sync.Mutex
	mode    string        // "create-before", "create-after" or "get"; "" passes everything
	held    chan string   // receives the mode when a request is held
	release chan struct{} // closed to let held requests go (the app is dead by then)

	// slow passes a held request on once released, as a slow Orchestrate would.
	slow bool
}

// arm holds requests of mode from now on; "" lets every request through,
// including those held so far.
func (p *holdingProxy) arm(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.release != nil && mode == "" {
		close(p.release)
		p.release = nil
	}
	if p.release == nil && mode != "" {
		p.release = make(chan struct{})
	}
	p.mode = mode
}

func (p *holdingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	mode := p.mode
	create := r.Method == http.MethodPost && r.URL.Path == "/api/v1/payments"
	get := r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/payments")
	if (create && strings.HasPrefix(mode, "create")) || (get && mode == "get") {
		if create {
			p.mode = "" // one create is enough; the release channel stays for it
		}
		release, slow := p.release, p.slow
		p.mu.Unlock()
		if mode == "create-after" {
			// Orchestrate creates the payment; its answer never reaches the app.
			p.next.ServeHTTP(httptest.NewRecorder(), r)
		}
		select {
		case p.held <- mode:
		default:
		}
		select { // until the app dies or the test lets go
		case <-r.Context().Done():
			return
		case <-release:
		}
		if slow {
			p.next.ServeHTTP(w, r)
		}
		return
	}
	p.mu.Unlock()
	p.next.ServeHTTP(w, r)
}

// crashEnv is a database, a sandbox behind a holding proxy, and the app binary.
type crashEnv struct {
	t        *testing.T
	pool     *pgxpool.Pool
	proxy    *holdingProxy
	proxyURL string
	appURL   string
	opts     apptest.Options
	app      *apptest.Instance // nil until the first start
	// mail is the SMTP server the app sends to; it outlives the app's restarts.
	mail *mailcatcher.Catcher
}

const crashAPIKey, crashSecret = "sk_crash_test", "whsec_crash_test"

func newCrashEnv(t *testing.T) *crashEnv {
	t.Helper()
	db := testdb.New(t)
	addr := apptest.FreeAddr(t)
	c := &crashEnv{t: t, pool: db.Pool, appURL: "http://" + addr}

	c.proxy = &holdingProxy{held: make(chan string, 1)}
	proxySrv := httptest.NewServer(c.proxy)
	t.Cleanup(proxySrv.Close)
	t.Cleanup(func() { c.proxy.arm("") }) // before Close: let held requests go
	c.proxyURL = proxySrv.URL
	sb, err := sandbox.New(sandbox.Config{APIKey: crashAPIKey, BaseURL: proxySrv.URL, MerchantName: "Field Kettle",
		WebhookRetryBase: 100 * time.Millisecond, WebhookMaxAttempts: 50})
	if err != nil {
		t.Fatal(err)
	}
	sbSrv := httptest.NewServer(sb.Handler())
	t.Cleanup(sbSrv.Close)
	target, _ := url.Parse(sbSrv.URL)
	c.proxy.next = httputil.NewSingleHostReverseProxy(target)
	if err := sb.RegisterWebhook(c.appURL+"/webhooks/orchestrate", crashSecret); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sb.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	if c.mail, err = mailcatcher.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.mail.Release(); c.mail.Close() })

	c.opts = apptest.Options{DatabaseURL: db.URL, Addr: addr, Env: []string{
		"SMTP_URL=smtp://" + c.mail.Addr(),
		// A shopper's cookies outlive a restart, as with a COOKIE_SECRET in production.
		"COOKIE_SECRET=cookie-secret-of-the-crash-tests-0123",
		"ORCHESTRATE_API_KEY=" + crashAPIKey,
		"ORCHESTRATE_BASE_URL=" + proxySrv.URL,
		"ORCHESTRATE_WEBHOOK_SECRET=" + crashSecret,
		"ORCHESTRATE_CREATE_TIMEOUT=2s",
		"SWEEP_INTERVAL=1s",
		"JOB_RESCUE_AFTER=5s",
		"LOG_LEVEL=debug",
	}}
	return c
}

// start runs the app, or runs it again on the same port and database after a
// kill, and waits until it is ready.
func (c *crashEnv) start() {
	c.t.Helper()
	if c.app == nil {
		c.app = apptest.Start(c.t, &appBinary, c.opts)
		return
	}
	if err := c.app.Restart(context.Background()); err != nil {
		c.t.Fatal(err)
	}
}

// kill sends SIGKILL: no shutdown, no deferred work, exactly as a crash.
func (c *crashEnv) kill() {
	c.t.Helper()
	if err := c.app.Kill(); err != nil {
		c.t.Fatal(err)
	}
}

func (c *crashEnv) count(query string, args ...any) int {
	c.t.Helper()
	var n int
	if err := c.pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		c.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (c *crashEnv) eventually(what string, cond func() bool) {
	c.t.Helper()
	// A restarted instance waits out the dead leader's lease (River: about 15 s)
	// before it sweeps.
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sandboxPayments lists the payments Orchestrate holds.
func (c *crashEnv) sandboxPayments() []orchestrate.Payment {
	c.t.Helper()
	client, err := orchestrate.NewClient(c.proxyURL, crashAPIKey)
	if err != nil {
		c.t.Fatal(err)
	}
	list, err := client.ListPayments(context.Background(), &orchestrate.ListPaymentsParams{Page: 1, PerPage: 100})
	if err != nil {
		c.t.Fatal(err)
	}
	return list.Items
}

// crashShopper is a browser: cookies kept, redirects not followed.
type crashShopper struct {
	t    *testing.T
	c    *http.Client
	base string
}

func (c *crashEnv) shopper() *crashShopper {
	jar, _ := cookiejar.New(nil)
	return &crashShopper{t: c.t, base: c.appURL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// post submits a form with the CSRF token from the cookie; a transport error
// (the app died mid-request) is returned, not fatal.
func (s *crashShopper) post(path string, form url.Values) (*http.Response, error) {
	u, _ := url.Parse(s.base)
	token := ""
	for range 2 {
		for _, ck := range s.c.Jar.Cookies(u) {
			if ck.Name == "_csrf" {
				token = ck.Value
			}
		}
		if token != "" {
			break
		}
		resp, err := s.c.Get(s.base + "/")
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
	}
	form.Set("_csrf", token)
	resp, err := s.c.PostForm(s.base+path, form)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// checkoutAsync fills the cart and submits checkout in the background; the
// answer may never come.
func (c *crashEnv) checkoutAsync(s *crashShopper) {
	c.t.Helper()
	var productID string
	if err := c.pool.QueryRow(context.Background(), `SELECT id::text FROM products WHERE slug = 'enamel-mug'`).Scan(&productID); err != nil {
		c.t.Fatal(err)
	}
	resp, err := s.post("/cart/items", url.Values{"product_id": {productID}, "quantity": {"1"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("add to cart: %v %v", resp, err)
	}
	go func() {
		_, _ = s.post("/checkout", withShipping(url.Values{"name": {"Ada Lovelace"}, "email": {"ada@example.com"}}))
	}()
}

func payOnHostedPage(t *testing.T, link string) {
	t.Helper()
	if _, err := payHosted(link); err != nil {
		t.Fatal(err)
	}
}

// payHosted pays with a good card on the sandbox's page at link and returns
// where the sandbox sends the shopper back to.
func payHosted(link string) (returnURL string, err error) {
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(strings.TrimSuffix(link, "/collection")+"/pay", url.Values{"card_number": {"4242424242424242"}})
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("pay on the hosted page = %d, want 303", resp.StatusCode)
	}
	return resp.Header.Get("Location"), nil
}

// TestKilledBeforePaymentIDStored kills the app after the order and its attempt
// are committed but before Orchestrate's answer is stored: once when the payment
// was created (the answer was lost with the process), once when the request
// never reached Orchestrate.
func TestKilledBeforePaymentIDStored(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode           string
		paymentsBefore int
	}{
		{"create-after", 1},
		{"create-before", 0},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			c := newCrashEnv(t)
			c.start()
			s := c.shopper()
			c.proxy.arm(tc.mode)
			c.checkoutAsync(s)
			<-c.proxy.held
			c.kill()
			c.proxy.arm("")

			if n := c.count(`SELECT count(*) FROM payment_attempts WHERE status = 'creating' AND orchestrate_payment_id IS NULL`); n != 1 {
				t.Fatalf("%d attempts left creating by the crash, want 1", n)
			}
			if n := len(c.sandboxPayments()); n != tc.paymentsBefore {
				t.Fatalf("sandbox holds %d payments after the crash, want %d", n, tc.paymentsBefore)
			}
			var ref string
			if err := c.pool.QueryRow(context.Background(), `SELECT public_ref FROM orders`).Scan(&ref); err != nil {
				t.Fatal(err)
			}

			c.start()
			// The sweeper finds the orphaned attempt: it adopts the payment that was
			// created, or marks the attempt unknown when there is none.
			c.eventually("the sweeper to resolve the orphaned attempt", func() bool {
				return c.count(`SELECT count(*) FROM payment_attempts WHERE status = 'creating'`) == 0
			})
			// The shopper pays again from the order page and is sent to the one
			// payment: the one that survived the crash, or a new one.
			resp, err := s.post("/orders/"+ref+"/pay", url.Values{})
			if err != nil || resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("pay again: %v %v", resp, err)
			}
			link := resp.Header.Get("Location")
			payments := c.sandboxPayments()
			if len(payments) != 1 {
				t.Fatalf("sandbox holds %d payments after paying again, want 1", len(payments))
			}
			if payments[0].PaymentLink != link {
				t.Fatalf("pay again sent the shopper to %q, not the payment %q", link, payments[0].PaymentLink)
			}
			payOnHostedPage(t, link)
			c.eventually("the order to be paid", func() bool {
				return c.count(`SELECT count(*) FROM orders WHERE status = 'paid'`) == 1
			})
			if n := c.count(`SELECT count(*) FROM order_events WHERE subject = 'order' AND to_status = 'paid'`); n != 1 {
				t.Errorf("%d paid transitions, want 1", n)
			}
			if n := c.count(`SELECT count(*) FROM payment_attempts WHERE status = 'completed' AND applied`); n != 1 {
				t.Errorf("%d applied completed attempts, want 1", n)
			}
		})
	}
}

// TestKilledAfterWebhookStored kills the app after a payment.succeeded delivery
// is in the inbox (answered 200) but before its processing read the payment.
// After the restart the order is paid once and the delivery is accounted for.
func TestKilledAfterWebhookStored(t *testing.T) {
	t.Parallel()
	c := newCrashEnv(t)
	c.start()
	s := c.shopper()
	c.checkoutAsync(s)
	c.eventually("the payment to be created and its payment.created processed", func() bool {
		return c.count(`SELECT count(*) FROM webhook_events WHERE event_type = 'payment.created' AND processed_at IS NOT NULL`) == 1
	})
	var link string
	if err := c.pool.QueryRow(context.Background(), `SELECT payment_link FROM payment_attempts`).Scan(&link); err != nil {
		t.Fatal(err)
	}

	c.proxy.arm("get") // every read of a payment now hangs
	payOnHostedPage(t, link)
	c.eventually("payment.succeeded to be stored", func() bool {
		return c.count(`SELECT count(*) FROM webhook_events WHERE event_type = 'payment.succeeded'`) == 1
	})
	<-c.proxy.held
	c.kill()
	c.proxy.arm("")
	if n := c.count(`SELECT count(*) FROM webhook_events WHERE event_type = 'payment.succeeded' AND processed_at IS NULL`); n != 1 {
		t.Fatalf("the delivery was processed before the crash; the test did not hit its moment")
	}
	if n := c.count(`SELECT count(*) FROM orders WHERE status = 'paid'`); n != 0 {
		t.Fatalf("the order was paid before the crash; the test did not hit its moment")
	}

	c.start()
	c.eventually("the order to be paid after the restart", func() bool {
		return c.count(`SELECT count(*) FROM orders WHERE status = 'paid'`) == 1
	})
	c.eventually("the stored delivery to be accounted for", func() bool {
		return c.count(`SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`) == 0
	})
	if n := c.count(`SELECT count(*) FROM order_events WHERE subject = 'order' AND to_status = 'paid'`); n != 1 {
		t.Errorf("%d paid transitions, want 1", n)
	}
	if n := len(c.sandboxPayments()); n != 1 {
		t.Errorf("sandbox holds %d payments, want 1", n)
	}
}

// withShipping adds a valid US address and the Standard method to a checkout
// form.
func withShipping(form url.Values) url.Values {
	for k, v := range map[string]string{"line1": "1 Main St", "city": "Austin", "region": "TX",
		"postal_code": "78701", "country": "US", "method": "standard"} {
		form.Set(k, v)
	}
	return form
}
