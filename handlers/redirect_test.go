package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orders"
)

// foreignLinks is an Orchestrate that answers with payment links on another host,
// as a compromised or buggy API might.
type foreignLinks struct{ orders.PaymentsAPI }

func (f foreignLinks) CreatePayment(ctx context.Context, params *orchestrate.CreatePaymentParams) (*orchestrate.Payment, error) {
	p, err := f.PaymentsAPI.CreatePayment(ctx, params)
	if p != nil {
		p.PaymentLink = "https://evil.example/payments/" + p.ID + "/collection"
	}
	return p, err
}

// TestCheckoutNeverRedirectsOffOrchestrate: a payment link on any host but
// Orchestrate's is refused, so the checkout cannot become an open redirect.
func TestCheckoutNeverRedirectsOffOrchestrate(t *testing.T) {
	a := newAppWith(t, testdb.New(t).Pool, appOptions{api: func(api orders.PaymentsAPI) orders.PaymentsAPI {
		return foreignLinks{api}
	}})
	s := a.newShopper(t)
	s.addToCart(a.productIDs(t)["enamel-mug"], "1")
	p := s.checkout("Ada Lovelace", "ada@example.com")
	if loc := p.Header.Get("Location"); strings.Contains(loc, "evil.example") {
		t.Fatalf("checkout = %d, redirected to %q", p.StatusCode, loc)
	}
	if p.StatusCode == http.StatusSeeOther {
		if next := s.get(p.Header.Get("Location")); strings.Contains(string(next.body), "evil.example") {
			t.Errorf("the page after checkout links to the foreign payment link")
		}
	}
}
