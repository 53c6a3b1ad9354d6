package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The drain tests send SIGTERM to the real binary, as a rolling deploy does, and
// check that the instance leaves the load balancer before it stops and that no
// request or job in flight is lost.

// get answers a GET of the app's path: its status and body; 0 when the request
// failed (the listener is closed).
func (c *crashEnv) get(path string) (int, string) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(c.appURL + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitListenerClosed polls until the shop's address refuses connections.
func (c *crashEnv) waitListenerClosed() {
	c.t.Helper()
	c.eventually("the shop's listener to close", func() bool {
		conn, err := net.DialTimeout("tcp", c.app.Addr, time.Second)
		if err != nil {
			return true
		}
		conn.Close()
		return false
	})
}

// waitDraining polls until /readyz answers 503 with a body saying it drains.
func (c *crashEnv) waitDraining() {
	c.t.Helper()
	c.eventually("/readyz to answer 503 draining", func() bool {
		code, body := c.get("/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "draining")
	})
}

// TestSIGTERMDrains: after SIGTERM the instance answers not-ready on /readyz for
// SHUTDOWN_DRAIN while it still serves pages and /healthz, then exits 0.
func TestSIGTERMDrains(t *testing.T) {
	t.Parallel()
	c := newCrashEnv(t)
	const drain = 3 * time.Second
	c.opts.Env = append(c.opts.Env, "SHUTDOWN_DRAIN="+drain.String())
	c.start()
	if code, body := c.get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz before SIGTERM = %d %s", code, body)
	}

	sent := time.Now()
	if err := c.app.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.waitDraining()
	for _, path := range []string{"/", "/healthz"} {
		if code, body := c.get(path); code != http.StatusOK {
			t.Errorf("GET %s while draining = %d, want 200: %.200s", path, code, body)
		}
	}
	if err := c.app.Wait(30 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0", err)
	}
	if took := time.Since(sent); took < drain {
		t.Errorf("exited %s after SIGTERM, before SHUTDOWN_DRAIN (%s) was over", took, drain)
	}
}

// TestSIGTERMFinishesCheckout: a checkout whose payment Orchestrate is still
// creating when SIGTERM arrives completes — the shopper is sent to the payment
// page — although the listener closes meanwhile; then the process exits 0.
func TestSIGTERMFinishesCheckout(t *testing.T) {
	t.Parallel()
	c := newCrashEnv(t)
	c.opts.Env = append(c.opts.Env, "SHUTDOWN_DRAIN=2s", "ORCHESTRATE_CREATE_TIMEOUT=30s", "SHUTDOWN_TIMEOUT=30s")
	c.start()
	s := c.shopper()
	var productID string
	if err := c.pool.QueryRow(context.Background(), `SELECT id::text FROM products WHERE slug = 'enamel-mug'`).Scan(&productID); err != nil {
		t.Fatal(err)
	}
	resp, err := s.post("/cart/items", url.Values{"product_id": {productID}, "quantity": {"1"}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add to cart: %v %v", resp, err)
	}

	c.proxy.mu.Lock()
	c.proxy.slow = true
	c.proxy.mu.Unlock()
	c.proxy.arm("create-before")
	type answer struct {
		resp *http.Response
		err  error
	}
	done := make(chan answer, 1)
	go func() {
		resp, err := s.post("/checkout", withShipping(url.Values{"name": {"Ada Lovelace"}, "email": {"ada@example.com"}}))
		done <- answer{resp, err}
	}()
	<-c.proxy.held // the create is in flight

	if err := c.app.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.waitDraining()
	c.waitListenerClosed() // the drain is over: the shop takes no new connection
	c.proxy.arm("")        // Orchestrate answers at last

	var a answer
	select {
	case a = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the checkout did not answer")
	}
	if a.err != nil {
		t.Fatalf("checkout: %v", a.err)
	}
	if a.resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("checkout = %d, want 303 to the payment page", a.resp.StatusCode)
	}
	payments := c.sandboxPayments()
	if len(payments) != 1 {
		t.Fatalf("sandbox holds %d payments, want 1", len(payments))
	}
	if link := a.resp.Header.Get("Location"); link != payments[0].PaymentLink {
		t.Errorf("checkout sent the shopper to %q, not the payment page %q", link, payments[0].PaymentLink)
	}
	if err := c.app.Wait(30 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0", err)
	}
}

// TestSIGTERMFinishesRunningJob: a River job reading a payment from a slow
// Orchestrate when SIGTERM arrives finishes its work before the process exits 0:
// the order is paid and no job attempt failed.
func TestSIGTERMFinishesRunningJob(t *testing.T) {
	t.Parallel()
	c := newCrashEnv(t)
	c.opts.Env = append(c.opts.Env, "SHUTDOWN_TIMEOUT=30s")
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

	c.proxy.mu.Lock()
	c.proxy.slow = true
	c.proxy.mu.Unlock()
	c.proxy.arm("get") // every read of a payment now waits for the test
	payOnHostedPage(t, link)
	c.eventually("payment.succeeded to be stored", func() bool {
		return c.count(`SELECT count(*) FROM webhook_events WHERE event_type = 'payment.succeeded'`) == 1
	})
	<-c.proxy.held
	if n := c.count(`SELECT count(*) FROM river_job WHERE state = 'running'`); n == 0 {
		t.Fatal("no job is running while a read of the payment is held")
	}

	if err := c.app.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	c.waitListenerClosed() // shutting down: requests are done, jobs may still run
	c.proxy.arm("")        // Orchestrate answers the job's read
	if err := c.app.Wait(40 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0", err)
	}
	if n := c.count(`SELECT count(*) FROM orders WHERE status = 'paid'`); n != 1 {
		t.Errorf("%d orders paid when the process exited, want 1: the running job did not finish", n)
	}
	if n := c.count(`SELECT count(*) FROM webhook_events WHERE event_type = 'payment.succeeded' AND processed_at IS NULL`); n != 0 {
		t.Errorf("payment.succeeded not processed when the process exited")
	}
	if n := c.count(`SELECT count(*) FROM river_job WHERE cardinality(errors) > 0`); n != 0 {
		t.Errorf("%d jobs with a failed attempt, want none: a running job was cancelled", n)
	}
}
