package sandbox

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/bojanz/currency"
)

// cardNumber is a test card number without spaces.
type cardNumber string

// The test cards the hosted page accepts. Any other number is refused, so a
// demo cannot be mistaken for a real payment form.
const (
	cardSucceeds cardNumber = "4242424242424242" // pays the payment
	cardDeclined cardNumber = "4000000000000002" // declined; the shopper may retry
	cardPending  cardNumber = "4000000000000077" // stays pending; shopper sent to success_url
)

// last4 is what payment_method reports of the card.
func (c cardNumber) last4() string { return string(c[len(c)-4:]) }

// grouped formats the number in blocks of four, as printed on a card.
func (c cardNumber) grouped() string {
	var b strings.Builder
	for i, r := range c {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// testCards is the list the hosted page shows, in this order.
var testCards = []struct {
	number cardNumber
	result string
}{
	{cardSucceeds, "Payment succeeds"},
	{cardDeclined, "Card is declined (retry with another card)"},
	{cardPending, "Payment stays pending"},
}

// normalizeCard strips the spaces and dashes people type in card numbers.
func normalizeCard(s string) cardNumber {
	return cardNumber(strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s)))
}

// Messages the hosted page shows for a refused card.
const (
	msgCardMissing  = "Enter a card number."
	msgCardUnknown  = "This is not a test card. Use one of the test cards listed below."
	msgCardDeclined = "Your card was declined. Try another card."
)

// collectionView is the hosted payment page's view model.
type collectionView struct {
	Title        string
	MerchantName string
	Description  string
	Amount       string
	Status       string
	Payable      bool
	PayAction    string
	CancelAction string
	CardNumber   string
	Error        string
	PaidWith     string
	SuccessURL   string
	CancelURL    string
	ExpiresAt    string
	TestCards    []testCardView
}

type testCardView struct {
	Number string
	Result string
}

// handleCollection renders GET /payments/{id}/collection: the pay form for
// a pending payment, or what became of it. 404 for an unknown payment.
func (s *Server) handleCollection(w http.ResponseWriter, r *http.Request) {
	p, ok := s.hostedPayment(w, r)
	if !ok {
		return
	}
	s.renderCollection(w, r, http.StatusOK, p, "", "")
}

// handlePay handles POST /payments/{id}/pay with the form field
// card_number (spaces optional):
//
//   - success card: the payment completes (payment.succeeded is sent) and
//     the browser is redirected (303) to success_url;
//   - declined card: 422 with "Your card was declined" on the same page,
//     the payment stays pending and no webhook is sent, so the shopper can
//     retry (a decline is an attempt, not the payment's end);
//   - pending card: nothing changes and the browser is redirected to
//     success_url, so the merchant's success page meets a payment that is
//     still pending;
//   - anything else: 422 with a message and the input kept.
//
// A payment no longer pending is not charged again: a completed one
// redirects to success_url (a double-clicked Pay), others back to the page.
func (s *Server) handlePay(w http.ResponseWriter, r *http.Request) {
	p, ok := s.hostedPayment(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	input := r.PostFormValue("card_number")
	if p.Status != statusPending {
		s.redirectSettled(w, r, p)
		return
	}
	switch card := normalizeCard(input); card {
	case "":
		s.renderCollection(w, r, http.StatusUnprocessableEntity, p, input, msgCardMissing)
	case cardDeclined:
		s.log.Info("sandbox: card declined", "payment", p.ID)
		s.renderCollection(w, r, http.StatusUnprocessableEntity, p, input, msgCardDeclined)
	case cardPending:
		s.log.Info("sandbox: card left pending", "payment", p.ID)
		http.Redirect(w, r, p.SuccessURL, http.StatusSeeOther)
	case cardSucceeds:
		q, err := s.complete(r.Context(), p, card.last4())
		if errors.Is(err, errConflict) {
			// It expired, or was paid in another tab, meanwhile.
			if q, err = s.store.getPayment(r.Context(), p.ID); err == nil {
				s.redirectSettled(w, r, q)
				return
			}
		}
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		http.Redirect(w, r, q.SuccessURL, http.StatusSeeOther)
	default:
		s.renderCollection(w, r, http.StatusUnprocessableEntity, p, input, msgCardUnknown)
	}
}

// handleCancel handles POST /payments/{id}/cancel: the shopper gives up, the
// payment becomes failed (payment.failed is sent) and the browser is
// redirected (303) to cancel_url. Orchestrate does not say what its Cancel
// does; "failed" is the documented status that fits a payment the shopper
// abandoned, and it lets the merchant release the order at once instead of
// waiting for expiry. A completed payment is not touched.
func (s *Server) handleCancel(w http.ResponseWriter, r *http.Request) {
	p, ok := s.hostedPayment(w, r)
	if !ok {
		return
	}
	if p.Status == statusPending {
		q, err := s.transition(r.Context(), p, statusFailed, nil)
		if errors.Is(err, errConflict) {
			q, err = s.store.getPayment(r.Context(), p.ID)
		}
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		p = q
	}
	if p.Status == statusCompleted {
		s.redirectSettled(w, r, p)
		return
	}
	http.Redirect(w, r, p.CancelURL, http.StatusSeeOther)
}

// hostedPayment loads the page's payment, answering 404 or 500 itself when
// it cannot.
func (s *Server) hostedPayment(w http.ResponseWriter, r *http.Request) (payment, bool) {
	p, err := s.loadPayment(r.Context(), r.PathValue("id"))
	if err != nil {
		s.renderError(w, r, err)
		return payment{}, false
	}
	return p, true
}

// redirectSettled sends the browser on from a payment that is no longer
// pending: to success_url when paid, otherwise back to its page, which says
// what happened.
func (s *Server) redirectSettled(w http.ResponseWriter, r *http.Request, p payment) {
	if p.Status == statusCompleted {
		http.Redirect(w, r, p.SuccessURL, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/payments/"+p.ID+"/collection", http.StatusSeeOther)
}

// renderCollection renders the hosted page for p with status; input and
// problem refill the form after a refused card.
func (s *Server) renderCollection(w http.ResponseWriter, r *http.Request, status int, p payment, input, problem string) {
	v := collectionView{
		Title:        "Pay " + s.cfg.MerchantName,
		MerchantName: s.cfg.MerchantName,
		Description:  p.Description,
		Amount:       payerAmount(p.AmountMinor, p.Currency),
		Status:       string(p.Status),
		Payable:      p.Status == statusPending,
		PayAction:    "/payments/" + p.ID + "/pay",
		CancelAction: "/payments/" + p.ID + "/cancel",
		CardNumber:   input,
		Error:        problem,
		SuccessURL:   p.SuccessURL,
		CancelURL:    p.CancelURL,
		ExpiresAt:    p.ExpiresAt.UTC().Format(time.RFC1123),
	}
	if pm := p.PaymentMethod; pm != nil {
		v.PaidWith = pm.Type + " ending in " + pm.Last4
	}
	for _, c := range testCards {
		v.TestCards = append(v.TestCards, testCardView{Number: c.number.grouped(), Result: c.result})
	}
	// The forms' 303 answers lead to the merchant's site: allow those
	// origins as form targets, since browsers apply form-action to redirects.
	s.render(w, status, s.pages.collection, v, p.SuccessURL, p.CancelURL)
}

// renderError renders the HTML page for a failed lookup or store call.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, errNotFound) {
		s.renderMessage(w, http.StatusNotFound, "Not found", "There is no such payment or delivery in this sandbox.")
		return
	}
	s.log.Error("sandbox: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	s.renderMessage(w, http.StatusInternalServerError, "Something went wrong", "The sandbox could not complete this request; see its log.")
}

// handleCrossOrigin answers a form POST a browser says came from another
// site.
func (s *Server) handleCrossOrigin(w http.ResponseWriter, r *http.Request) {
	s.renderMessage(w, http.StatusForbidden, "Forbidden", "Cross-origin form submissions are refused.")
}

// payerLocale is the CLDR locale of the hosted page's amounts: international
// English, whose symbols tell the dollars apart (US$, CA$).
var payerLocale = currency.NewLocale("en-001")

// payerAmount writes an amount as the payer reads it, with its currency's symbol
// and decimals from CLDR: "€32.00", "CA$46.00".
func payerAmount(minor int64, code string) string {
	a, err := currency.NewAmountFromInt64(minor, code)
	if err != nil {
		return formatMinor(minor) + " " + code // never: the API accepts only the four
	}
	return currency.NewFormatter(payerLocale).Format(a)
}
