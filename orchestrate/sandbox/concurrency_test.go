package sandbox_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

// TestConcurrentUse hammers one sandbox from many goroutines; run with
// -race, it checks the state is guarded, and its assertions check nothing
// is lost or doubled.
func TestConcurrentUse(t *testing.T) {
	rc := newReceiver(t, "whsec_busy", nil)
	e := newEnv(t, sandbox.Config{})
	e.registerReceiver(rc)
	e.run()
	// Keep-alive connections here: hundreds of requests need not each
	// open a socket, and no faults are injected.
	e.Client = &http.Client{CheckRedirect: e.Client.CheckRedirect, Timeout: waitTimeout}

	const creates = 50
	ids := make([]string, creates)
	var wg sync.WaitGroup
	for i := range creates {
		wg.Go(func() {
			body := paymentRequest()
			body["description"] = fmt.Sprintf("parallel %d", i)
			resp, data, err := e.request(http.MethodPost, "/api/v1/payments", body)
			if err != nil || resp.StatusCode != http.StatusCreated {
				t.Errorf("create %d: %v %s", i, err, data)
				return
			}
			ids[i] = decode[apiPayment](t, data).ID
		})
	}
	// Ten creates racing with one idempotency key make one payment.
	sameKey := make([]string, 10)
	for i := range sameKey {
		wg.Go(func() {
			resp, data, err := e.request(http.MethodPost, "/api/v1/payments", paymentRequest(), "Idempotency-Key", "one-key")
			if err != nil || resp.StatusCode != http.StatusCreated {
				t.Errorf("idempotent create %d: %v %s", i, err, data)
				return
			}
			sameKey[i] = decode[apiPayment](t, data).ID
		})
	}
	wg.Wait()
	for i := range sameKey {
		if sameKey[i] != sameKey[0] {
			t.Fatalf("racing creates with one key made payments %s and %s", sameKey[0], sameKey[i])
		}
	}

	// Hundreds of concurrent reads, page views and lists, while every
	// payment is paid twice at once from the hosted page.
	for i := range 300 {
		wg.Go(func() {
			id := ids[i%creates]
			if resp, data, err := e.request(http.MethodGet, "/api/v1/payments/"+id, nil); err != nil || resp.StatusCode != 200 {
				t.Errorf("get %s: %v %s", id, err, data)
			}
		})
	}
	for i := range 20 {
		wg.Go(func() {
			if resp, _, err := e.request(http.MethodGet, fmt.Sprintf("/api/v1/payments?page=%d&per_page=5", i%12+1), nil); err != nil || resp.StatusCode != 200 {
				t.Errorf("list: %v", err)
			}
		})
	}
	for _, id := range ids {
		for range 2 {
			wg.Go(func() {
				form := url.Values{"card_number": {"4242424242424242"}}
				resp, _, err := e.request(http.MethodPost, "/payments/"+id+"/pay", form.Encode(),
					"Content-Type", "application/x-www-form-urlencoded")
				if err != nil || resp.StatusCode != http.StatusSeeOther {
					t.Errorf("pay %s: %v", id, err)
				}
			})
		}
	}
	wg.Wait()

	_, data := e.do(http.MethodGet, "/api/v1/payments?per_page=100", nil)
	list := decode[listBody](t, data)
	if list.Pagination.TotalItems != creates+1 {
		t.Errorf("payments stored = %d, want %d", list.Pagination.TotalItems, creates+1)
	}
	for _, p := range list.Items {
		if p.ID != sameKey[0] && p.Status != "completed" {
			t.Errorf("payment %s is %s after being paid", p.ID, p.Status)
		}
	}
	// One payment.created per payment and one payment.succeeded per paid
	// payment, despite the double submits.
	want := 2*creates + 1
	got := rc.waitFor(t, want)
	perEvent := map[string]int{}
	for _, r := range got {
		perEvent[r.Event.Payload.ID+" "+r.Event.Type]++
	}
	for k, n := range perEvent {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once", k, n)
		}
	}
	if len(perEvent) != want {
		t.Errorf("distinct events = %d, want %d", len(perEvent), want)
	}
}
