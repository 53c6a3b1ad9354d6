package handlers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// paymentIDOf returns the payment id in a hosted-page link.
func paymentIDOf(t *testing.T, link string) string {
	t.Helper()
	id, ok := strings.CutSuffix(link, "/collection")
	if !ok {
		t.Fatalf("not a hosted-page link: %q", link)
	}
	return id[strings.LastIndex(id, "/")+1:]
}

// control posts to one of the sandbox's control endpoints (/_sandbox/…).
func (a *app) control(t *testing.T, path string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.sandbox.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.sandboxKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s = %d", path, resp.StatusCode)
	}
}

// orderEvents returns the order's transitions of subject as "from>to".
func (a *app) orderEvents(t *testing.T, ref, subject string) []string {
	t.Helper()
	rows, err := a.pool.Query(context.Background(), `
		SELECT coalesce(e.from_status, '') || '>' || e.to_status
		FROM order_events e JOIN orders o ON o.id = e.order_id
		WHERE o.public_ref = $1 AND e.subject = $2 ORDER BY e.id`, ref, subject)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestSandboxEventsDuplicatedAndReordered: with every webhook delivered twice and
// each payment's events sent newest first, orders that were paid, cancelled,
// expired, and cancelled-then-paid all end as Orchestrate says, with one event
// per real transition.
func TestSandboxEventsDuplicatedAndReordered(t *testing.T) {
	a := newApp(t)
	a.setFaults(t, `{"webhook_duplicate": true, "webhook_reorder": true, "webhook_delay": "300ms"}`)

	paid := a.checkoutOne(t)
	payOnHostedPage(t, paid.link, "4242424242424242")

	cancelled := a.checkoutOne(t)
	cancelOnHostedPage(t, cancelled.link)

	expired := a.checkoutOne(t)
	a.control(t, "/_sandbox/payments/"+paymentIDOf(t, expired.link)+"/expire")

	again := a.checkoutOne(t)
	cancelOnHostedPage(t, again.link)
	eventually(t, "the cancelled payment's webhooks", func() bool { return a.orderStatus(t, again.ref) == "failed" })
	second := again.post("/orders/"+again.ref+"/pay", nil)
	if second.StatusCode != http.StatusSeeOther {
		t.Fatalf("pay again = %d; body %s", second.StatusCode, second.body)
	}
	payOnHostedPage(t, second.Header.Get("Location"), "4242424242424242")

	want := map[string][]string{
		paid.ref:      {">awaiting_payment", "awaiting_payment>paid"},
		cancelled.ref: {">awaiting_payment", "awaiting_payment>failed"},
		expired.ref:   {">awaiting_payment", "awaiting_payment>expired"},
		again.ref:     {">awaiting_payment", "awaiting_payment>failed", "failed>awaiting_payment", "awaiting_payment>paid"},
	}
	eventually(t, "every delivery to be processed", func() bool {
		// 4 orders: created+final each, plus created+succeeded for the second
		// attempt, each delivered twice; all stored once and processed.
		return a.count(t, `SELECT count(*) FROM webhook_events`) == 10 &&
			a.count(t, `SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`) == 0
	})
	for ref, events := range want {
		last := events[len(events)-1]
		if got := a.orderStatus(t, ref); got != last[strings.Index(last, ">")+1:] {
			t.Errorf("order %s is %s, want %s", ref, got, last)
		}
		if got := a.orderEvents(t, ref, "order"); !slices.Equal(got, events) {
			t.Errorf("order %s transitions %v, want %v", ref, got, events)
		}
	}
	// Every event came twice: the second of each was answered as a duplicate.
	if duplicates := a.metric(t, "webhooks_received_total", `result="duplicate"`); duplicates < 10 {
		t.Errorf("%v duplicate deliveries answered, want every one of the 10 events again", duplicates)
	}
}

// TestSweeperWithoutWebhooks: Orchestrate never sends a webhook; the sweeper still
// brings a paid and an expired order to the API's state within its interval.
func TestSweeperWithoutWebhooks(t *testing.T) {
	a := newAppWith(t, testdb.New(t).Pool, appOptions{sweep: 250 * time.Millisecond})
	a.setFaults(t, `{"webhooks_disabled": true}`)
	paid := a.checkoutOne(t)
	expired := a.checkoutOne(t)
	payOnHostedPage(t, paid.link, "4242424242424242")
	a.control(t, "/_sandbox/payments/"+paymentIDOf(t, expired.link)+"/expire")
	start := time.Now()
	eventually(t, "the sweeper to settle both orders", func() bool {
		return a.orderStatus(t, paid.ref) == "paid" && a.orderStatus(t, expired.ref) == "expired"
	})
	t.Logf("settled by the sweeper in %v", time.Since(start))
	if n := a.count(t, `SELECT count(*) FROM webhook_events`); n != 0 {
		t.Errorf("%d webhook deliveries with webhooks disabled", n)
	}
	if n := a.count(t, `SELECT count(*) FROM order_events WHERE cause = 'sweep' AND subject = 'order'`); n != 2 {
		t.Errorf("%d order transitions caused by the sweep, want 2", n)
	}
}

// heldCreate passes payment creation through to Orchestrate but holds the answer
// until released, as a slow network would: the payment exists, we have not
// stored its id yet.
type heldCreate struct {
	orders.PaymentsAPI
	created chan *orchestrate.Payment
	release chan struct{}
}

func (h *heldCreate) CreatePayment(ctx context.Context, params *orchestrate.CreatePaymentParams) (*orchestrate.Payment, error) {
	p, err := h.PaymentsAPI.CreatePayment(ctx, params)
	if err == nil {
		h.created <- p
		<-h.release
	}
	return p, err
}

// TestWebhookBeforeCreateResponse: the shopper pays and the webhook arrives before
// the create response is stored; the delivery finds the attempt by our metadata,
// the order is paid once, and the late create response changes nothing.
func TestWebhookBeforeCreateResponse(t *testing.T) {
	held := &heldCreate{created: make(chan *orchestrate.Payment, 1), release: make(chan struct{})}
	a := newAppWith(t, testdb.New(t).Pool, appOptions{api: func(api orders.PaymentsAPI) orders.PaymentsAPI {
		held.PaymentsAPI = api
		return held
	}})
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["enamel-mug"], "1")
	done := make(chan *page, 1)
	go func() { done <- s.checkout("Ada Lovelace", "ada@example.com") }()
	pay := <-held.created
	if n := a.count(t, `SELECT count(*) FROM payment_attempts WHERE orchestrate_payment_id IS NOT NULL`); n != 0 {
		t.Fatalf("%d attempts know their payment before the create answered", n)
	}
	payOnHostedPage(t, pay.PaymentLink, "4242424242424242")
	eventually(t, "the early webhook to pay the order", func() bool {
		return a.count(t, `SELECT count(*) FROM orders WHERE status = 'paid'`) == 1
	})
	close(held.release)
	p := <-done
	if p.StatusCode != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/orders/") {
		t.Errorf("checkout after the order was paid = %d %q, want 303 to the order page", p.StatusCode, p.Header.Get("Location"))
	}
	if n := a.count(t, `SELECT count(*) FROM order_events WHERE subject = 'order' AND to_status = 'paid'`); n != 1 {
		t.Errorf("%d paid transitions, want 1", n)
	}
	if n := a.count(t, `SELECT count(*) FROM payment_attempts WHERE orchestrate_payment_id = $1 AND status = 'completed'`, pay.ID); n != 1 {
		t.Error("the attempt did not adopt the payment the webhook named")
	}
	if n := len(a.payments(t)); n != 1 {
		t.Errorf("sandbox holds %d payments, want 1", n)
	}
}

// TestThreeInstances: three app instances behind a round-robin balancer share one
// database; the sandbox sends every webhook twice and every instance sweeps. Each
// order and attempt moves exactly once.
func TestThreeInstances(t *testing.T) {
	pool := testdb.New(t).Pool
	opts := appOptions{sweep: 300 * time.Millisecond}
	sb := startSandbox(t, opts)
	var instances []*app
	for range 3 {
		instances = append(instances, newInstance(t, pool, sb, opts))
	}
	var next atomic.Uint64
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		instances[next.Add(1)%3].e.ServeHTTP(w, r)
	}))
	t.Cleanup(lb.Close)
	if err := sb.sb.RegisterWebhook(lb.URL+"/webhooks/orchestrate", testWebhookSecret); err != nil {
		t.Fatal(err)
	}
	a := instances[0]
	a.srv = lb // shoppers go through the balancer too
	a.setFaults(t, `{"webhook_duplicate": true}`)

	const n = 12
	var wg sync.WaitGroup
	refs := make([]string, n)
	for i := range n {
		o := a.checkoutOne(t)
		refs[i] = o.ref
		wg.Add(1)
		go func() {
			defer wg.Done()
			payOnHostedPage(t, o.link, "4242424242424242")
			// The shopper's return page asks another instance to confirm too.
			o.get("/orders/" + o.ref + "/success")
		}()
	}
	wg.Wait()
	eventually(t, "every order to be paid", func() bool {
		return a.count(t, `SELECT count(*) FROM orders WHERE status = 'paid'`) == n
	})
	eventually(t, "every delivery to be processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE processed_at IS NULL`) == 0
	})
	for _, ref := range refs {
		if got := a.orderEvents(t, ref, "order"); !slices.Equal(got, []string{">awaiting_payment", "awaiting_payment>paid"}) {
			t.Errorf("order %s transitions %v", ref, got)
		}
		if got := a.orderEvents(t, ref, "attempt"); !slices.Equal(got, []string{">creating", "creating>open", "open>completed"}) {
			t.Errorf("order %s attempt transitions %v", ref, got)
		}
	}
	if got := len(a.payments(t)); got != n {
		t.Errorf("sandbox holds %d payments, want %d", got, n)
	}
}
