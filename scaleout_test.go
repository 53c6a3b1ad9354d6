package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
	"github.com/orchestrate-checkout/checkout/internal/lb"
	"github.com/orchestrate-checkout/checkout/internal/mailcatcher"
	"github.com/orchestrate-checkout/checkout/internal/pgbouncer"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

// The scale-out tests run three instances of the real binary as production
// does: behind a load balancer (internal/lb, health-checking /readyz), through
// PgBouncer in transaction pooling, against one Orchestrate (the sandbox) and
// one SMTP server, and check that shoppers see no failure and every order is
// paid exactly once.

const scaleAPIKey, scaleSecret = "sk_scale_test", "whsec_scale_test"

// scaleOptions vary the scale-out topology.
type scaleOptions struct {
	drain             time.Duration  // the instances' SHUTDOWN_DRAIN
	faults            sandbox.Faults // the sandbox's webhook faults
	deliverToBalancer bool           // the sandbox delivers webhooks to the balancer (else only to the tap)
}

// scaleEnv is three instances behind a balancer, and what they talk to.
type scaleEnv struct {
	t          *testing.T
	db         *testdb.DB
	balancer   *lb.Balancer
	lbURL      string
	sandboxURL string
	ins        []*apptest.Instance
	mail       *mailcatcher.Catcher
	tap        *webhookTap
	productID  string
	stock      int // the mug's stock on hand when the shoppers came
	// sandboxDelivers: the sandbox delivers webhooks to the balancer too, so
	// the test's own deliveries may all be duplicates.
	sandboxDelivers bool
}

func newScaleEnv(t *testing.T, o scaleOptions) *scaleEnv {
	t.Helper()
	e := &scaleEnv{t: t, db: testdb.NewEmpty(t), stock: 1000, sandboxDelivers: o.deliverToBalancer}
	bouncer := pgbouncer.Start(t, testdb.ServerURL(t), pgbouncer.Options{PoolSize: 30})

	// The sandbox's listener comes first: its URL is in its payment links.
	sbSrv := httptest.NewUnstartedServer(nil)
	e.sandboxURL = "http://" + sbSrv.Listener.Addr().String()
	sb, err := sandbox.New(sandbox.Config{APIKey: scaleAPIKey, BaseURL: e.sandboxURL, MerchantName: "Field Kettle",
		Faults: o.faults, WebhookRetryBase: 100 * time.Millisecond, WebhookMaxAttempts: 50})
	if err != nil {
		t.Fatal(err)
	}
	sbSrv.Config.Handler = sb.Handler()
	sbSrv.Start()
	t.Cleanup(sbSrv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sb.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	e.tap = newWebhookTap(t)
	if err := sb.RegisterWebhook(e.tap.url, scaleSecret); err != nil {
		t.Fatal(err)
	}

	addrs := make([]string, 3)
	backends := make([]string, 3)
	for i := range addrs {
		addrs[i] = apptest.FreeAddr(t)
		backends[i] = "http://" + addrs[i]
	}
	if e.balancer, err = lb.New(backends, lb.Options{Interval: 100 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	e.balancer.Start()
	t.Cleanup(e.balancer.Close)
	lbSrv := httptest.NewServer(e.balancer)
	t.Cleanup(lbSrv.Close)
	e.lbURL = lbSrv.URL
	if o.deliverToBalancer {
		if err := sb.RegisterWebhook(e.lbURL+"/webhooks/orchestrate", scaleSecret); err != nil {
			t.Fatal(err)
		}
	}

	if e.mail, err = mailcatcher.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.mail.Close() })

	env, _ := poolerEnv(t, e.db) // its built-in sandbox stays off: ORCHESTRATE_API_KEY is set
	env = append(env,
		"ORCHESTRATE_API_KEY="+scaleAPIKey,
		"ORCHESTRATE_BASE_URL="+e.sandboxURL,
		"ORCHESTRATE_WEBHOOK_SECRET="+scaleSecret,
		// Every instance signs and reads the same cookies, and builds its links
		// on the balancer's URL.
		"COOKIE_SECRET=cookie-secret-of-the-scale-out-tests-0123",
		"PUBLIC_URL="+e.lbURL,
		"SMTP_URL=smtp://"+e.mail.Addr(),
		"SHUTDOWN_DRAIN="+o.drain.String(),
		"LOG_LEVEL=info",
	)
	opts := make([]apptest.Options, 3)
	for i := range opts {
		opts[i] = apptest.Options{DatabaseURL: bouncer.URL(e.db.Name), Addr: addrs[i], Env: env, StopTimeout: 30 * time.Second}
	}
	e.ins = startTogether(t, opts...)
	t.Cleanup(func() { // before the instances close, so their logs are still there
		if t.Failed() {
			for i, in := range e.ins {
				log := readFile(in.LogPath)
				t.Logf("instance %d's log (its end):\n%s", i, log[max(0, len(log)-8000):])
			}
		}
	})
	e.eventually("the balancer to put all three instances in rotation", func() bool {
		for _, s := range e.balancer.Stats() {
			if !s.Up {
				return false
			}
		}
		return true
	})
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT id::text FROM products WHERE slug = 'enamel-mug'`).Scan(&e.productID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool.Exec(context.Background(), `INSERT INTO stock (product_id, on_hand) VALUES ($1, $2)`, e.productID, e.stock); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *scaleEnv) count(query string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func (e *scaleEnv) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shopper is a new browser pointed at the balancer.
func (e *scaleEnv) shopper() *crashShopper {
	return &crashShopper{t: e.t, c: newBrowser(e.lbURL).c, base: e.lbURL}
}

// scaleOrder is an order a shopper was sent to pay.
type scaleOrder struct{ ref, link string }

// checkout puts a mug in s's cart and checks out as email through the
// balancer. Any answer but the redirect to a payment page is an error.
func (e *scaleEnv) checkout(s *crashShopper, email string) (scaleOrder, error) {
	resp, err := s.post("/cart/items", url.Values{"product_id": {e.productID}, "quantity": {"1"}})
	if err != nil {
		return scaleOrder{}, fmt.Errorf("add to cart: %w", err)
	}
	if resp.StatusCode != http.StatusSeeOther {
		return scaleOrder{}, fmt.Errorf("add to cart = %d, want 303", resp.StatusCode)
	}
	resp, err = s.post("/checkout", withShipping(url.Values{"name": {"Ada Lovelace"}, "email": {email}}))
	if err != nil {
		return scaleOrder{}, fmt.Errorf("checkout: %w", err)
	}
	o := scaleOrder{link: resp.Header.Get("Location")}
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(o.link, e.sandboxURL+"/") {
		return scaleOrder{}, fmt.Errorf("checkout = %d to %q, want 303 to the sandbox's payment page", resp.StatusCode, o.link)
	}
	if err := e.db.Pool.QueryRow(context.Background(), `
		SELECT o.public_ref FROM payment_attempts a JOIN orders o ON o.id = a.order_id
		WHERE a.payment_link = $1`, o.link).Scan(&o.ref); err != nil {
		return scaleOrder{}, fmt.Errorf("the order of payment link %s: %w", o.link, err)
	}
	return o, nil
}

// fetch GETs rawURL (or a path on the balancer) as s and wants a 200.
func (e *scaleEnv) fetch(s *crashShopper, rawURL string) error {
	if strings.HasPrefix(rawURL, "/") {
		rawURL = e.lbURL + rawURL
	}
	resp, err := s.c.Get(rawURL)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the status matters
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s = %d, want 200", rawURL, resp.StatusCode)
	}
	return nil
}

// shop is one shopper's whole visit: checkout, the order page, payment on the
// sandbox's page, the return page. It returns the order and the first failure.
func (e *scaleEnv) shop(email string) (scaleOrder, error) {
	s := e.shopper()
	o, err := e.checkout(s, email)
	if err != nil {
		return o, err
	}
	if err := e.fetch(s, "/orders/"+o.ref); err != nil {
		return o, err
	}
	back, err := payHosted(o.link)
	if err != nil {
		return o, err
	}
	if !strings.HasPrefix(back, e.lbURL+"/") {
		return o, fmt.Errorf("the sandbox sent the shopper back to %q, not to the balancer", back)
	}
	if err := e.fetch(s, back); err != nil {
		return o, err
	}
	return o, e.fetch(s, "/orders/"+o.ref+"/status?return=success")
}

// checkExactlyOnce checks the end state once every order is paid: n orders,
// each paid, moved to paid once, its payment applied once, its receipt queued
// and mailed once, its mug taken from stock once; and each webhook event the
// sandbox raised stored once and processed, however often it arrived.
func (e *scaleEnv) checkExactlyOnce(n int) {
	e.t.Helper()
	t := e.t
	e.eventually(fmt.Sprintf("all %d orders to be paid", n), func() bool {
		return e.count(`SELECT count(*) FROM orders WHERE status = 'paid'`) == n
	})
	e.eventually("every receipt to be sent", func() bool {
		return e.count(`SELECT count(*) FROM mail_outbox WHERE kind = 'receipt' AND status = 'sent'`) >= n &&
			e.count(`SELECT count(*) FROM river_job WHERE kind = 'send_mail' AND state NOT IN ('completed', 'discarded', 'cancelled')`) == 0
	})
	var events []tappedEvent
	e.eventually("every webhook event the sandbox raised to be stored and processed", func() bool {
		events = e.tap.distinct()
		ids := make([]string, len(events))
		for i, ev := range events {
			ids[i] = ev.id
		}
		return e.count(`SELECT count(DISTINCT event_id) FROM webhook_events WHERE event_id = ANY($1) AND processed_at IS NOT NULL`, ids) == len(events)
	})
	for _, c := range []struct {
		what, query string
		want        int
	}{
		{"orders", `SELECT count(*) FROM orders`, n},
		{"orders not moved to paid exactly once", `SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM order_events
			WHERE order_id = o.id AND subject = 'order' AND to_status = 'paid') <> 1`, 0},
		{"payments applied", `SELECT count(*) FROM payment_attempts WHERE status = 'completed' AND applied`, n},
		{"orders without exactly one receipt", `SELECT count(*) FROM orders o WHERE (SELECT count(*) FROM mail_outbox
			WHERE order_id = o.id AND kind = 'receipt') <> 1`, 0},
		{"mugs on hand", `SELECT on_hand FROM stock WHERE product_id = $1::bigint`, e.stock - n},
		{"mugs held", `SELECT held FROM stock WHERE product_id = $1::bigint`, 0},
		{"webhook events stored", `SELECT count(*) FROM webhook_events`, len(events)},
		{"webhook events not processed", `SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`, 0},
	} {
		var args []any
		if strings.Contains(c.query, "$1") {
			args = append(args, e.productID)
		}
		if got := e.count(c.query, args...); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
	// The app answers "accepted" to the first delivery of an event and
	// "duplicate" to the others, whichever instance they reach.
	e.tap.mu.Lock()
	for _, ev := range events {
		if a := e.tap.accepted[ev.id]; a > 1 || (a == 0 && !e.sandboxDelivers) {
			t.Errorf("event %s (%s) was accepted %d times of %d deliveries, want once", ev.id, ev.typ, a, e.tap.sent[ev.id])
		}
	}
	if e.tap.duplicates == 0 {
		t.Error("no delivery was answered as a duplicate: the test sent no event twice")
	}
	e.tap.mu.Unlock()
	mailed := map[string]int{}
	for _, m := range e.mail.Messages() {
		for _, to := range m.To {
			mailed[to]++
		}
	}
	if len(mailed) != n {
		t.Errorf("mail went to %d shoppers, want %d", len(mailed), n)
	}
	for to, k := range mailed {
		if k != 1 {
			t.Errorf("%s got %d messages, want 1 receipt", to, k)
		}
	}
}

// stopAll sends SIGTERM to every running instance at once and checks each
// exits 0 with no complaint about a session feature used through PgBouncer.
func (e *scaleEnv) stopAll() {
	e.t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(e.ins))
	for i, in := range e.ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = in.Signal(syscall.SIGTERM); errs[i] == nil {
				errs[i] = in.Wait(30 * time.Second)
			}
		}()
	}
	wg.Wait()
	for i, in := range e.ins {
		if errs[i] != nil {
			e.t.Errorf("instance %d: exit after SIGTERM: %v, want status 0", i, errs[i])
		}
		checkPoolerLog(e.t, readFile(in.LogPath))
	}
}

// tappedEvent is a webhook delivery as the sandbox signed it.
type tappedEvent struct {
	id, typ, payment string
	body             []byte
	signature        string
}

// webhookTap is a webhook endpoint that answers 200 to everything and keeps
// the first delivery of each event, for the test to send on.
type webhookTap struct {
	url    string
	next   chan tappedEvent // each event once, as it first arrives
	mu     sync.Mutex
	events []tappedEvent
	seen   map[string]bool
	// what the app answered to the test's deliveries, by event id
	sent, accepted map[string]int
	duplicates     int
}

func newWebhookTap(t *testing.T) *webhookTap {
	tap := &webhookTap{next: make(chan tappedEvent, 10000), seen: map[string]bool{}, sent: map[string]int{}, accepted: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var env struct {
			ID      string `json:"id"`
			Type    string `json:"type"`
			Payload struct {
				ID string `json:"id"`
			} `json:"payload"`
		}
		if err == nil {
			err = json.Unmarshal(body, &env)
		}
		if err != nil || env.ID == "" {
			t.Errorf("the tap received a malformed webhook (%v): %s", err, body)
			return
		}
		ev := tappedEvent{id: env.ID, typ: env.Type, payment: env.Payload.ID, body: body, signature: r.Header.Get(orchestrate.SignatureHeader)}
		tap.mu.Lock()
		if !tap.seen[ev.id] {
			tap.seen[ev.id] = true
			tap.events = append(tap.events, ev)
			tap.next <- ev
		}
		tap.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	tap.url = srv.URL + "/webhooks/orchestrate"
	return tap
}

// distinct returns every event tapped so far, in the order they arrived.
func (tap *webhookTap) distinct() []tappedEvent {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	return append([]tappedEvent(nil), tap.events...)
}

// earlier returns the events of ev's payment tapped before ev.
func (tap *webhookTap) earlier(ev tappedEvent) []tappedEvent {
	tap.mu.Lock()
	defer tap.mu.Unlock()
	var out []tappedEvent
	for _, x := range tap.events {
		if x.id == ev.id {
			break
		}
		if x.payment == ev.payment {
			out = append(out, x)
		}
	}
	return out
}

var webhookClient = &http.Client{Timeout: 30 * time.Second}

// deliver posts ev, signed as the sandbox signed it, to baseURL's webhook
// endpoint, and again while it answers 503 (as Orchestrate retries), for up to
// 30 s, and records whether the app accepted it or found it a duplicate. It
// returns how many 503s it met, and an error for any other failure.
func (tap *webhookTap) deliver(baseURL string, ev tappedEvent) (unavailable int, err error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodPost, baseURL+"/webhooks/orchestrate", bytes.NewReader(ev.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(orchestrate.SignatureHeader, ev.signature)
		resp, err := webhookClient.Do(req)
		if err != nil {
			return unavailable, fmt.Errorf("webhook %s to %s: %w", ev.typ, baseURL, err)
		}
		var answer struct{ Status string }
		json.NewDecoder(resp.Body).Decode(&answer) //nolint:errcheck // checked below with the status
		resp.Body.Close()
		switch {
		case resp.StatusCode/100 == 2:
			tap.mu.Lock()
			defer tap.mu.Unlock()
			tap.sent[ev.id]++
			switch answer.Status {
			case "accepted":
				tap.accepted[ev.id]++
			case "duplicate":
				tap.duplicates++
			default:
				return unavailable, fmt.Errorf("webhook %s to %s answered %q, want accepted or duplicate", ev.typ, baseURL, answer.Status)
			}
			return unavailable, nil
		case resp.StatusCode != http.StatusServiceUnavailable:
			return unavailable, fmt.Errorf("webhook %s to %s = %d, want 2xx", ev.typ, baseURL, resp.StatusCode)
		case time.Now().After(deadline):
			return unavailable, fmt.Errorf("webhook %s to %s still 503 after 30s", ev.typ, baseURL)
		}
		unavailable++
		time.Sleep(50 * time.Millisecond) // Orchestrate's backoff, shortened
	}
}

// TestThreeInstancesBehindBalancerPayEachOrderOnce: three instances start at
// the same moment on an empty database through PgBouncer, behind the balancer;
// 30 shoppers check out and pay through it while the sandbox delivers each
// webhook twice and out of order, and the test sends every event again to each
// instance directly and through the balancer, twice, shuffled, an earlier
// event after a later one: every order is paid exactly once, and no instance
// logs an error about prepared statements or LISTEN.
func TestThreeInstancesBehindBalancerPayEachOrderOnce(t *testing.T) {
	t.Parallel()
	e := newScaleEnv(t, scaleOptions{
		faults:            sandbox.Faults{WebhookDuplicate: true, WebhookReorder: true},
		deliverToBalancer: true,
	})
	if n := e.count(`SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied`); n !=
		e.count(`SELECT count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0 AND is_applied`) {
		t.Errorf("a migration was applied more than once (%d applications)", n)
	}
	targets := []string{e.lbURL}
	for _, in := range e.ins {
		targets = append(targets, in.URL)
	}

	// The replayers send each event as it is first tapped to every target
	// twice, shuffled; after a payment's later event, its earlier ones again.
	ctx, stopReplay := context.WithCancel(context.Background())
	var replayers sync.WaitGroup
	var replayed atomic.Int64 // events sent to every target
	for range 3 {
		replayers.Add(1)
		go func() {
			defer replayers.Done()
			for {
				var ev tappedEvent
				select {
				case <-ctx.Done():
					return
				case ev = <-e.tap.next:
				}
				type send struct {
					to string
					ev tappedEvent
				}
				var sends []send
				for _, to := range append(targets, targets...) {
					sends = append(sends, send{to, ev})
				}
				rand.Shuffle(len(sends), func(i, j int) { sends[i], sends[j] = sends[j], sends[i] })
				for _, old := range e.tap.earlier(ev) {
					sends = append(sends, send{targets[rand.IntN(len(targets))], old})
				}
				for _, s := range sends {
					if _, err := e.tap.deliver(s.to, s.ev); err != nil {
						t.Error(err)
					}
				}
				replayed.Add(1)
			}
		}()
	}

	const shoppers = 30
	var wg sync.WaitGroup
	emails := make(chan string, shoppers)
	for i := range shoppers {
		emails <- fmt.Sprintf("shopper%d@example.com", i)
	}
	close(emails)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for email := range emails {
				if _, err := e.shop(email); err != nil {
					t.Errorf("%s: %v", email, err)
				}
			}
		}()
	}
	wg.Wait()
	// Each payment raises payment.created and payment.succeeded.
	e.eventually("every payment's two events to be sent to every target", func() bool {
		return replayed.Load() >= 2*shoppers
	})

	// Then every event again, last first, to every target.
	stopReplay()
	replayers.Wait()
	events := e.tap.distinct()
	for i := len(events) - 1; i >= 0; i-- {
		for _, to := range targets {
			if _, err := e.tap.deliver(to, events[i]); err != nil {
				t.Error(err)
			}
		}
	}
	e.checkExactlyOnce(shoppers)
	for i, s := range e.balancer.Stats() {
		if s.Served == 0 || s.Failed != 0 {
			t.Errorf("instance %d behind the balancer: %+v, want requests served and none failed", i, s)
		}
	}
	e.stopAll()
}

// TestRollingRestartFailsNoRequest restarts the three instances one at a time —
// SIGTERM, exit 0, start again on the same port, ready, next — while shoppers
// check out, pay and come back, a poller reads order statuses, and signed
// webhooks are sent to the balancer. With SHUTDOWN_DRAIN well above the
// balancer's health check no shopper request fails or is reset (a webhook may
// meet a 503 and is sent again), requests are served while each instance is
// down, and every order is still paid exactly once.
func TestRollingRestartFailsNoRequest(t *testing.T) {
	t.Parallel()
	e := newScaleEnv(t, scaleOptions{drain: 2 * time.Second}) // the balancer checks every 100 ms
	var (
		mu          sync.Mutex
		failures    []string
		orders      []scaleOrder
		visits      int // whole shopper visits: six requests each
		polls       int
		webhooks    int
		unavailable int // webhooks answered 503 and sent again
	)
	fail := func(kind string, err error) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, kind+": "+err.Error())
	}

	loadCtx, stopLoad := context.WithCancel(context.Background())
	hookCtx, stopHooks := context.WithCancel(context.Background())
	var load, hooks sync.WaitGroup
	defer func() { // on a failure too: no request outlives the test
		stopLoad()
		load.Wait()
		stopHooks()
		hooks.Wait()
	}()
	for g := range 3 {
		load.Add(1)
		go func() {
			defer load.Done()
			for i := 0; loadCtx.Err() == nil; i++ {
				o, err := e.shop(fmt.Sprintf("shopper%d-%d@example.com", g, i))
				mu.Lock()
				if o.ref != "" {
					orders = append(orders, o)
				}
				if err == nil {
					visits++
				}
				mu.Unlock()
				if err != nil {
					fail("shopper", err)
				}
			}
		}()
	}
	load.Add(1)
	go func() { // a status poll of a random known order, and the catalog
		defer load.Done()
		s := e.shopper()
		for loadCtx.Err() == nil {
			mu.Lock()
			path := "/"
			if len(orders) > 0 {
				path = "/orders/" + orders[rand.IntN(len(orders))].ref + "/status"
			}
			mu.Unlock()
			err := e.fetch(s, path)
			mu.Lock()
			polls++
			mu.Unlock()
			if err != nil {
				fail("poll", err)
			}
		}
	}()
	// Webhooks go to the balancer: each event twice, then its payment's earlier
	// events again. They run until the orders have converged.
	hooks.Add(1)
	go func() {
		defer hooks.Done()
		for {
			var ev tappedEvent
			select {
			case <-hookCtx.Done():
				return
			case ev = <-e.tap.next:
			}
			for _, x := range append([]tappedEvent{ev, ev}, e.tap.earlier(ev)...) {
				n, err := e.tap.deliver(e.lbURL, x)
				mu.Lock()
				webhooks++
				unavailable += n
				mu.Unlock()
				if err != nil {
					fail("webhook", err)
				}
			}
		}
	}()

	e.eventually("the first shoppers to be through", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return visits >= 3
	})
	for i, in := range e.ins {
		pid := in.Pid()
		if err := in.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		e.eventually(fmt.Sprintf("the balancer to take instance %d out of rotation", i), func() bool {
			return !e.balancer.Stats()[i].Up
		})
		select {
		case <-in.Exited():
			t.Errorf("instance %d exited before the balancer took it out of rotation", i)
		default:
		}
		if err := in.Wait(30 * time.Second); err != nil {
			t.Fatalf("instance %d: exit after SIGTERM: %v, want status 0", i, err)
		}
		down := e.balancer.Stats()
		if err := in.Restart(context.Background()); err != nil {
			t.Fatal(err)
		}
		if in.Pid() == pid {
			t.Fatalf("instance %d runs as the same process %d after its restart", i, pid)
		}
		e.eventually(fmt.Sprintf("the balancer to put instance %d back in rotation", i), func() bool {
			return e.balancer.Stats()[i].Up
		})
		back := e.balancer.Stats()
		var others int64
		for j := range back {
			if j != i {
				others += back[j].Served - down[j].Served
			}
		}
		if others == 0 {
			t.Errorf("no request was served while instance %d was down: the load did not run across its restart", i)
		}
		t.Logf("instance %d restarted; %d requests served by the others while it was down", i, others)
	}
	stopLoad()
	load.Wait()

	mu.Lock()
	t.Logf("load: %d shopper visits, %d polls, %d webhooks (%d answered 503 and sent again)", visits, polls, webhooks, unavailable)
	if len(failures) > 0 {
		t.Fatalf("%d requests failed:\n%s", len(failures), strings.Join(failures, "\n"))
	}
	n := len(orders)
	mu.Unlock()
	e.checkExactlyOnce(n)
	stopHooks()
	hooks.Wait()
	mu.Lock()
	if len(failures) > 0 {
		t.Errorf("%d webhooks failed:\n%s", len(failures), strings.Join(failures, "\n"))
	}
	mu.Unlock()
	for i, s := range e.balancer.Stats() {
		if s.Failed != 0 || s.Changes < 3 {
			t.Errorf("instance %d behind the balancer: %+v, want no failed request, and in, out and in rotation again", i, s)
		}
	}
	e.stopAll()
}
