package sandbox_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

// TestPostgresStateSurvivesRestart runs one sandbox on a Postgres store,
// stops using it, and starts a second Server on the same pool, as after a
// restart of the app: payments, idempotency keys and queued webhooks carry
// over, and payments that ran out meanwhile expire.
func TestPostgresStateSurvivesRestart(t *testing.T) {
	pool := sandbox.NewTestPool(t)
	ctx := context.Background()
	rc := newReceiver(t, "whsec_restart", nil)

	store1, err := sandbox.NewPostgresStore(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	first := newEnv(t, sandbox.Config{Store: store1})
	first.registerReceiver(rc)
	// No Run on the first server: its webhooks stay queued in the database.
	paid := first.create(paymentRequest(), "Idempotency-Key", "restart-1")
	wantRedirect(t, first.pay(first.page(paid.PaymentLink), "4242424242424242"), paid.SuccessURL)
	paid = first.get(paid.ID)
	lapsing := paymentRequest()
	lapsing["expires_in"] = 1
	lapsed := first.create(lapsing)

	store2, err := sandbox.NewPostgresStore(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	second := newEnv(t, sandbox.Config{Store: store2})
	second.registerReceiver(rc)

	// payment_link follows the new server's base URL; everything else is
	// as the first server left it.
	ignoreLink := cmpopts.IgnoreFields(apiPayment{}, "PaymentLink")
	if diff := cmp.Diff(paid, second.get(paid.ID), ignoreLink); diff != "" {
		t.Errorf("paid payment after restart (-before +after):\n%s", diff)
	}
	replay := second.create(paymentRequest(), "Idempotency-Key", "restart-1")
	if replay.ID != paid.ID {
		t.Errorf("idempotency key after restart created %s, want %s", replay.ID, paid.ID)
	}
	_, data := second.do(http.MethodGet, "/api/v1/payments", nil)
	if n := decode[listBody](t, data).Pagination.TotalItems; n != 2 {
		t.Errorf("payments after restart = %d, want 2", n)
	}

	// The second server's workers deliver what the first one queued, and
	// expire the payment that ran out.
	second.run()
	var got []received
	eventually(t, "queued and expiry webhooks", func() bool {
		got = rc.events()
		return len(got) >= 4
	})
	seen := map[string]bool{}
	for _, r := range got {
		if !r.SignedOK {
			t.Errorf("%s not signed with the registered secret", r.Event.Type)
		}
		seen[r.Event.Payload.ID[:8]+" "+r.Event.Type] = true
	}
	for _, want := range []string{
		paid.ID[:8] + " payment.created", paid.ID[:8] + " payment.succeeded",
		lapsed.ID[:8] + " payment.created", lapsed.ID[:8] + " payment.expired",
	} {
		if !seen[want] {
			t.Errorf("missing webhook %s; got %v", want, seen)
		}
	}
	if got := second.get(lapsed.ID).Status; got != "expired" {
		t.Errorf("lapsed payment status = %q, want expired", got)
	}
	eventually(t, "every delivery to be recorded as delivered", func() bool {
		log := second.deliveries()
		for _, d := range log.Items {
			if d.Status != "delivered" {
				return false
			}
		}
		return len(log.Items) == 4
	})
}
