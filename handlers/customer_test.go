package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// paymentByLink returns the sandbox's payment whose hosted page is link.
func (a *app) paymentByLink(t *testing.T, link string) orchestrate.Payment {
	t.Helper()
	for _, p := range a.payments(t) {
		if p.PaymentLink == link {
			return p
		}
	}
	t.Fatalf("the sandbox holds no payment with the link %s", link)
	return orchestrate.Payment{}
}

// attemptStates returns the order's attempts, oldest first, as payment id →
// "status" or "status superseded".
func (a *app) attemptStates(t *testing.T) map[string]string {
	t.Helper()
	rows, err := a.pool.Query(t.Context(), `
		SELECT orchestrate_payment_id, status || CASE WHEN superseded_at IS NULL THEN '' ELSE ' superseded' END
		FROM payment_attempts`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var id, state string
		if err := rows.Scan(&id, &state); err != nil {
			t.Fatal(err)
		}
		got[id] = state
	}
	return got
}

// TestCheckoutAgainWithCorrectedDetails: a shopper checks out with a typo in their
// email, goes back from the payment page and submits the corrected address. The
// order takes the new address, and since Orchestrate keeps the customer a payment
// was created with (and cannot cancel it), the shopper is sent to a new payment
// carrying the corrected customer. The superseded payment stays reconciled but is
// no longer the order's: its expiry does not fail the order, the current one's
// failure does, and paying it still pays the order (money wins).
func TestCheckoutAgainWithCorrectedDetails(t *testing.T) {
	a := newApp(t)
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["enamel-mug"], "1")

	checkout := func(name, email string) string {
		t.Helper()
		p := s.checkout(name, email)
		if p.StatusCode != http.StatusSeeOther {
			t.Fatalf("checkout as %s <%s> = %d, want 303; body %s", name, email, p.StatusCode, p.body)
		}
		return p.Header.Get("Location")
	}
	typo := checkout("Ada Lovelace", "typo@exmaple.com")
	fixed := checkout("Ada Lovelace", "ada@example.com")
	if fixed == typo {
		t.Fatalf("the corrected checkout was sent to the payment with the typo, %s", typo)
	}
	customer := func(link string) orchestrate.Customer {
		c := a.paymentByLink(t, link).Customer
		c.ID = ""
		return c
	}
	if diff := cmp.Diff(orchestrate.Customer{Name: "Ada Lovelace", Email: "ada@example.com"}, customer(fixed)); diff != "" {
		t.Errorf("the customer Orchestrate received for the new payment (-want +got):\n%s", diff)
	}
	if got := customer(typo).Email; got != "typo@exmaple.com" {
		t.Errorf("the first payment's customer email = %q; Orchestrate keeps what it was created with", got)
	}
	var orders int
	var ref, email string
	if err := a.pool.QueryRow(t.Context(), `SELECT count(*) OVER (), public_ref, customer_email FROM orders`).Scan(&orders, &ref, &email); err != nil {
		t.Fatal(err)
	}
	if orders != 1 || email != "ada@example.com" {
		t.Errorf("%d orders, with the email %q; want 1 order with the corrected address", orders, email)
	}
	if got := s.get("/orders/" + ref).body; !strings.Contains(got, "ada@example.com") || strings.Contains(got, "exmaple") {
		t.Error("the order page does not show the corrected email alone")
	}

	// The same details again (a double click, Back and submit) land on the same
	// payment; a changed name alone makes a new one too.
	if again := checkout("Ada Lovelace", "ada@example.com"); again != fixed {
		t.Errorf("an unchanged re-checkout went to %s, want the payment it had, %s", again, fixed)
	}
	renamed := checkout("Ada King", "ada@example.com")
	if renamed == fixed || customer(renamed).Name != "Ada King" {
		t.Errorf("after changing the name the shopper is at %s for %+v; want a new payment for Ada King", renamed, customer(renamed))
	}
	if n := len(a.payments(t)); n != 3 {
		t.Errorf("the sandbox holds %d payments, want 3", n)
	}
	typoID, fixedID, renamedID := paymentIDOf(t, typo), paymentIDOf(t, fixed), paymentIDOf(t, renamed)
	want := map[string]string{typoID: "open superseded", fixedID: "open superseded", renamedID: "open"}
	if diff := cmp.Diff(want, a.attemptStates(t)); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	if got := a.orderEvents(t, ref, "flag"); !cmp.Equal(got, []string{
		"awaiting_payment>customer_changed", "open>superseded",
		"awaiting_payment>customer_changed", "open>superseded",
	}) {
		t.Errorf("flag events %v, want the customer changed and the open attempt superseded, twice", got)
	}

	// A superseded payment that expires does not fail the order: a newer one is open.
	a.control(t, "/_sandbox/payments/"+fixedID+"/expire")
	eventually(t, "the expiry to be applied", func() bool { return a.attemptStates(t)[fixedID] == "expired superseded" })
	if got := a.orderStatus(t, ref); got != "awaiting_payment" {
		t.Errorf("order after its superseded payment expired = %s, want awaiting_payment", got)
	}

	// The current payment cancelled fails the order, though the superseded first
	// one is still open at Orchestrate: it is not offered any more.
	cancelOnHostedPage(t, renamed)
	eventually(t, "the cancel to fail the order", func() bool { return a.orderStatus(t, ref) == "failed" })

	// Money wins: the shopper pays the first payment after all (another tab).
	if resp := payOnHostedPage(t, typo, "4242 4242 4242 4242"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("paying the superseded payment = %d, want 303", resp.StatusCode)
	}
	eventually(t, "the superseded payment to pay the order", func() bool { return a.orderStatus(t, ref) == "paid" })
}
