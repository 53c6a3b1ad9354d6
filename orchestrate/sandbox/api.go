package sandbox

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// handleCreatePayment implements POST /api/v1/payments: 201 with the new
// payment object, 400 for a body that is not a JSON object, 422 naming
// every invalid field.
//
// Sandbox behaviour, not documented by Orchestrate: a request carrying an
// Idempotency-Key already used with the same API key creates nothing and
// answers 201 with the earlier payment as it is now, plus the header
// Idempotent-Replayed: true; reusing a key with different parameters is a
// 422. The real API may ignore the header, so the app must not rely on it.
func (s *Server) handleCreatePayment(w http.ResponseWriter, r *http.Request) {
	params, apiErr := decodeCreateRequest(w, r)
	if apiErr != nil {
		writeError(w, apiErr.status, apiErr.message)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Idempotency-Key must be at most %d bytes", maxIdempotencyKey))
		return
	}
	t := now()
	p := payment{
		ID:             newUUID(),
		KeyScope:       s.keyScope,
		IdempotencyKey: key,
		RequestHash:    params.hash(),
		Status:         statusPending,
		AmountMinor:    params.AmountMinor,
		Currency:       params.Currency,
		MCC:            params.MCC,
		Description:    params.Description,
		Metadata:       params.Metadata,
		Customer:       customer{ID: newUUID(), Name: params.CustomerName, Email: params.CustomerEmail},
		SuccessURL:     params.SuccessURL,
		CancelURL:      params.CancelURL,
		CreatedAt:      t,
		UpdatedAt:      t,
		ExpiresAt:      t.Add(params.ExpiresIn),
	}
	ds := s.eventDeliveries(eventCreated, p, t)
	stored, created, err := s.store.createPayment(r.Context(), p, ds)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	if created {
		s.log.Info("sandbox: payment created", "payment", p.ID, "amount", formatMinor(p.AmountMinor), "currency", p.Currency)
		if len(ds) > 0 {
			s.wakeDeliveries()
		}
	} else {
		if stored.RequestHash != p.RequestHash {
			writeError(w, http.StatusUnprocessableEntity, "Idempotency-Key was already used with different parameters")
			return
		}
		if stored, err = s.expireIfDue(r.Context(), stored); err != nil {
			s.internalError(w, r, err)
			return
		}
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if s.faults.loseCreateResponse() {
		s.log.Info("sandbox: fault: losing create response", "payment", stored.ID)
		dropConnection(w)
		return
	}
	w.Header().Set("Location", "/api/v1/payments/"+stored.ID)
	writeJSON(w, http.StatusCreated, s.resource(stored))
}

// handleGetPayment implements GET /api/v1/payments/{id}: 200 with the
// payment object, 404 when unknown.
func (s *Server) handleGetPayment(w http.ResponseWriter, r *http.Request) {
	p, err := s.loadPayment(r.Context(), r.PathValue("id"))
	if errors.Is(err, errNotFound) {
		writeError(w, http.StatusNotFound, "payment not found")
		return
	}
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.resource(p))
}

// listResponse is the list endpoint's body (API.md, List).
type listResponse struct {
	Items      []paymentResource `json:"items"`
	Pagination pagination        `json:"pagination"`
}

type pagination struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	TotalPages int `json:"total_pages"`
	TotalItems int `json:"total_items"`
}

// List paging limits (API.md: per_page defaults to 10, at most 100).
const (
	defaultPerPage = 10
	maxPerPage     = 100
)

// handleListPayments implements GET /api/v1/payments?page=&per_page=:
// payments newest first. A page past the end is empty, not an error.
// per_page above 100 is refused with 422 rather than silently capped, so a
// client that asks for more than it can get finds out here.
func (s *Server) handleListPayments(w http.ResponseWriter, r *http.Request) {
	page, err := queryInt(r, "page", 1)
	if err != nil || page < 1 || page > math.MaxInt32 {
		writeError(w, http.StatusUnprocessableEntity, "page must be a positive integer")
		return
	}
	perPage, err := queryInt(r, "per_page", defaultPerPage)
	if err != nil || perPage < 1 || perPage > maxPerPage {
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("per_page must be an integer from 1 to %d", maxPerPage))
		return
	}
	items, total, err := s.store.listPayments(r.Context(), (page-1)*perPage, perPage)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	resp := listResponse{
		Items: make([]paymentResource, 0, len(items)),
		Pagination: pagination{
			Page:       page,
			PerPage:    perPage,
			TotalPages: (total + perPage - 1) / perPage,
			TotalItems: total,
		},
	}
	for _, p := range items {
		if p, err = s.expireIfDue(r.Context(), p); err != nil {
			s.internalError(w, r, err)
			return
		}
		resp.Items = append(resp.Items, s.resource(p))
	}
	writeJSON(w, http.StatusOK, resp)
}

// queryInt reads an integer query parameter, def when absent.
func queryInt(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}

// handleForceExpire implements POST /_sandbox/payments/{id}/expire: the
// payment expires now (with its payment.expired webhook), as if its
// expires_at had passed. 200 with the payment, also when it was already
// expired; 404 unknown; 409 when it is completed or failed.
func (s *Server) handleForceExpire(w http.ResponseWriter, r *http.Request) {
	s.force(w, r, statusExpired, func(p payment) (payment, error) {
		return s.transition(r.Context(), p, statusExpired, func(q *payment, t time.Time) { q.ExpiresAt = t })
	})
}

// handleForceComplete implements POST /_sandbox/payments/{id}/complete: the
// payment is paid with the success test card, without a browser, and
// payment.succeeded is sent. 200 with the payment, also when it was
// already completed; 404 unknown; 409 when it is expired or failed.
func (s *Server) handleForceComplete(w http.ResponseWriter, r *http.Request) {
	s.force(w, r, statusCompleted, func(p payment) (payment, error) {
		return s.complete(r.Context(), p, cardSucceeds.last4())
	})
}

// force runs a control endpoint's transition to status to.
func (s *Server) force(w http.ResponseWriter, r *http.Request, to status, change func(payment) (payment, error)) {
	id := r.PathValue("id")
	p, err := s.loadPayment(r.Context(), id)
	if err == nil && p.Status == statusPending {
		p, err = change(p)
		if errors.Is(err, errConflict) {
			// Changed meanwhile: answer with what is stored now.
			p, err = s.store.getPayment(r.Context(), id)
		}
	}
	switch {
	case errors.Is(err, errNotFound):
		writeError(w, http.StatusNotFound, "payment not found")
	case err != nil:
		s.internalError(w, r, err)
	case p.Status != to:
		writeError(w, http.StatusConflict, fmt.Sprintf("payment is %s; only a pending payment can become %s", p.Status, to))
	default:
		writeJSON(w, http.StatusOK, s.resource(p))
	}
}
