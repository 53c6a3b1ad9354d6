package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// How much the dashboard shows; the JSON endpoint can ask for more.
const (
	dashboardPayments   = 50
	dashboardDeliveries = 100
	maxDeliveriesListed = 1000
)

// dashboardView is the dashboard's view model.
type dashboardView struct {
	Title         string
	Payments      []dashboardPayment
	TotalPayments int
	MorePayments  bool
	Deliveries    []dashboardDelivery
	Webhooks      []string
	Faults        string
}

type dashboardPayment struct {
	ID      string
	Status  string
	Amount  string
	Created string
	Link    string
}

type dashboardDelivery struct {
	EventType    string
	EventID      string
	URL          string
	Status       string
	Attempts     int
	LastResponse string
	Created      string
	ResendAction string
}

// handleDashboard renders GET /_sandbox/: recent payments, webhook
// deliveries with a Resend button each, registered webhooks and faults. It
// needs no API key: like the hosted page it is for a developer's browser,
// and it changes nothing but through cross-origin-protected forms.
func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	ps, total, err := s.store.listPayments(r.Context(), 0, dashboardPayments)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	ds, err := s.store.listDeliveries(r.Context(), dashboardDeliveries)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	faults, _ := json.MarshalIndent(s.faults.get(), "", "  ") // Faults always marshals.
	v := dashboardView{
		Title:         "Dashboard",
		TotalPayments: total,
		MorePayments:  total > len(ps),
		Faults:        string(faults),
	}
	for _, p := range ps {
		v.Payments = append(v.Payments, dashboardPayment{
			ID:      p.ID,
			Status:  string(p.Status),
			Amount:  formatMinor(p.AmountMinor) + " " + p.Currency,
			Created: p.CreatedAt.UTC().Format(time.DateTime),
			Link:    s.paymentLink(p.ID),
		})
	}
	for _, d := range ds {
		v.Deliveries = append(v.Deliveries, dashboardDelivery{
			EventType:    d.EventType,
			EventID:      d.EventID,
			URL:          d.URL,
			Status:       string(d.Status),
			Attempts:     len(d.Attempts),
			LastResponse: lastResponse(d),
			Created:      d.CreatedAt.UTC().Format(time.DateTime),
			ResendAction: "/_sandbox/deliveries/" + d.ID + "/resend",
		})
	}
	for _, e := range s.hooks.list() {
		v.Webhooks = append(v.Webhooks, e.URL)
	}
	s.render(w, http.StatusOK, s.pages.dashboard, v)
}

// lastResponse summarises a delivery's latest attempt for the dashboard.
func lastResponse(d delivery) string {
	if len(d.Attempts) == 0 {
		if d.Status == deliveryPending {
			return "next attempt " + d.NextAttemptAt.UTC().Format(time.TimeOnly)
		}
		return "none"
	}
	a := d.Attempts[len(d.Attempts)-1]
	if a.StatusCode != 0 {
		return fmt.Sprintf("%d in %s", a.StatusCode, a.Duration.Round(time.Millisecond))
	}
	return a.Error
}

// handleResend handles the dashboard's POST
// /_sandbox/deliveries/{id}/resend: the same event is queued again for the
// same URL, and the browser goes back to the dashboard (303).
func (s *Server) handleResend(w http.ResponseWriter, r *http.Request) {
	if err := s.resend(r.Context(), r.PathValue("id")); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/_sandbox/", http.StatusSeeOther)
}

// deliveryResource is a delivery in GET /_sandbox/deliveries.
type deliveryResource struct {
	ID             string            `json:"id"`
	EventID        string            `json:"event_id"`
	EventType      string            `json:"event_type"`
	PaymentID      string            `json:"payment_id"`
	URL            string            `json:"url"`
	Status         deliveryStatus    `json:"status"`
	AttemptCount   int               `json:"attempt_count"`
	LastStatusCode int               `json:"last_status_code"`
	Attempts       []attemptResource `json:"attempts"`
	NextAttemptAt  *string           `json:"next_attempt_at"` // null unless pending
	CreatedAt      string            `json:"created_at"`
	ResendOf       string            `json:"resend_of,omitempty"`
	Event          json.RawMessage   `json:"event"` // the envelope exactly as signed
}

type attemptResource struct {
	At         string  `json:"at"`
	StatusCode int     `json:"status_code"` // 0 when no response came
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

// handleListDeliveries answers GET /_sandbox/deliveries?limit=N (API key
// required) with {"items": [...]}, newest first, every attempt included:
// the delivery log tests assert on. limit defaults to 100, at most 1000.
func (s *Server) handleListDeliveries(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", dashboardDeliveries)
	if err != nil || limit < 1 || limit > maxDeliveriesListed {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("limit must be an integer from 1 to %d", maxDeliveriesListed))
		return
	}
	ds, err := s.store.listDeliveries(r.Context(), limit)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	out := struct {
		Items []deliveryResource `json:"items"`
	}{Items: make([]deliveryResource, 0, len(ds))}
	for _, d := range ds {
		out.Items = append(out.Items, deliveryJSON(d))
	}
	writeJSON(w, http.StatusOK, out)
}

// deliveryJSON renders d for the JSON delivery log.
func deliveryJSON(d delivery) deliveryResource {
	res := deliveryResource{
		ID:           d.ID,
		EventID:      d.EventID,
		EventType:    d.EventType,
		PaymentID:    d.PaymentID,
		URL:          d.URL,
		Status:       d.Status,
		AttemptCount: len(d.Attempts),
		Attempts:     make([]attemptResource, 0, len(d.Attempts)),
		CreatedAt:    d.CreatedAt.UTC().Format(time.RFC3339Nano),
		ResendOf:     d.ResendOf,
		Event:        d.Body,
	}
	for _, a := range d.Attempts {
		res.Attempts = append(res.Attempts, attemptResource{
			At:         a.At.UTC().Format(time.RFC3339Nano),
			StatusCode: a.StatusCode,
			Error:      a.Error,
			DurationMS: float64(a.Duration) / float64(time.Millisecond),
		})
		res.LastStatusCode = a.StatusCode
	}
	if d.Status == deliveryPending {
		next := d.NextAttemptAt.UTC().Format(time.RFC3339Nano)
		res.NextAttemptAt = &next
	}
	if !json.Valid(res.Event) {
		res.Event = nil
	}
	return res
}
