package orchestrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Page sizes for listing (API.md "List": per_page defaults to 10, at most 100).
const (
	DefaultPerPage = 10
	MaxPerPage     = 100
)

// CreatePaymentParams are the fields of a new payment.
type CreatePaymentParams struct {
	// Amount is in minor units of Currency (1999 is $19.99) and must be > 0.
	Amount int64
	// Currency must be one Orchestrate supports (case is ignored).
	Currency Currency
	// MCC is the merchant category code, e.g. 6012; 0 omits it.
	MCC int
	// Customer's Name and Email are sent; its ID is ignored.
	Customer    Customer
	Description string
	// SuccessURL and CancelURL are where the shopper returns; each, if
	// set, must be an absolute http or https URL. Arrival at SuccessURL is
	// not proof of payment (API.md).
	SuccessURL string
	CancelURL  string
	// Metadata is echoed back on the payment. Put the order and payment
	// attempt ids here so FindPaymentByMetadata can find the payment.
	Metadata map[string]string
	// ExpiresIn is how long the payment stays payable, sent as whole
	// seconds; 0 leaves it to Orchestrate.
	ExpiresIn time.Duration
	// IdempotencyKey is required and sent as the Idempotency-Key header.
	// Derive it from your own payment-attempt id so a repeated create for
	// the same attempt sends the same key. Orchestrate does not document
	// honouring it (API.md), so do not rely on it to prevent duplicates.
	IdempotencyKey string
}

// createPaymentRequest is the JSON body of POST /payments.
type createPaymentRequest struct {
	// json.Number writes the exact decimal text as a JSON number.
	Amount      json.Number       `json:"amount"`
	Currency    Currency          `json:"currency"`
	MCC         int               `json:"mcc,omitempty"`
	Customer    *Customer         `json:"customer,omitempty"`
	Description string            `json:"description,omitempty"`
	SuccessURL  string            `json:"success_url,omitempty"`
	CancelURL   string            `json:"cancel_url,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	ExpiresIn   int64             `json:"expires_in,omitempty"`
}

// request validates p and builds the body; errors wrap ErrInvalidParams (or
// ErrUnsupportedCurrency as well, for the currency).
func (p *CreatePaymentParams) request() (createPaymentRequest, error) {
	if p == nil {
		return createPaymentRequest{}, fmt.Errorf("%w: nil CreatePaymentParams", ErrInvalidParams)
	}
	if p.IdempotencyKey == "" {
		return createPaymentRequest{}, fmt.Errorf("%w: IdempotencyKey is required", ErrInvalidParams)
	}
	if len(p.IdempotencyKey) > 255 || !validHeaderValue(p.IdempotencyKey) {
		return createPaymentRequest{}, fmt.Errorf("%w: IdempotencyKey must be at most 255 printable ASCII characters", ErrInvalidParams)
	}
	cur, err := ParseCurrency(string(p.Currency))
	if err != nil {
		return createPaymentRequest{}, fmt.Errorf("%w: %w", ErrInvalidParams, err)
	}
	if p.Amount <= 0 {
		return createPaymentRequest{}, fmt.Errorf("%w: Amount must be positive, got %d", ErrInvalidParams, p.Amount)
	}
	if p.MCC < 0 || p.MCC > 9999 {
		return createPaymentRequest{}, fmt.Errorf("%w: MCC must be a 4-digit code, got %d", ErrInvalidParams, p.MCC)
	}
	for _, u := range []struct{ name, raw string }{{"SuccessURL", p.SuccessURL}, {"CancelURL", p.CancelURL}} {
		if u.raw != "" && !absoluteHTTPURL(u.raw) {
			return createPaymentRequest{}, fmt.Errorf("%w: %s must be an absolute http or https URL", ErrInvalidParams, u.name)
		}
	}
	if p.ExpiresIn < 0 || p.ExpiresIn%time.Second != 0 {
		return createPaymentRequest{}, fmt.Errorf("%w: ExpiresIn must be a non-negative whole number of seconds, got %s", ErrInvalidParams, p.ExpiresIn)
	}
	var customer *Customer
	if p.Customer.Name != "" || p.Customer.Email != "" {
		customer = &Customer{Name: p.Customer.Name, Email: p.Customer.Email}
	}
	return createPaymentRequest{
		Amount:      json.Number(FormatAmount(p.Amount, cur)),
		Currency:    cur,
		MCC:         p.MCC,
		Customer:    customer,
		Description: p.Description,
		SuccessURL:  p.SuccessURL,
		CancelURL:   p.CancelURL,
		Metadata:    p.Metadata,
		ExpiresIn:   int64(p.ExpiresIn / time.Second),
	}, nil
}

func absoluteHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// CreatePayment creates a payment (POST /api/v1/payments) and returns it.
//
// It is retried only when the request provably never left this process
// (e.g. the connection was refused), because Orchestrate does not document
// idempotency. Otherwise errors are returned as they are:
//
//   - an error wrapping ErrInvalidParams if p is invalid; nothing was sent;
//   - *Error for a non-2xx response; IsPermanent tells a rejected payment,
//     IsOutcomeUnknown a 5xx after which a payment may exist;
//   - *TransportError for a network failure; RequestSent (and
//     IsOutcomeUnknown) says whether a payment may exist;
//   - *DecodeError if the 2xx body is unreadable: the payment most likely
//     exists.
//
// Whenever IsOutcomeUnknown(err) is true, resolve the attempt with
// FindPaymentByMetadata before creating again.
func (c *Client) CreatePayment(ctx context.Context, p *CreatePaymentParams) (*Payment, error) {
	body, err := p.request()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("%w: encoding request: %v", ErrInvalidParams, err)
	}
	var out Payment
	err = c.do(ctx, request{
		method:      http.MethodPost,
		path:        "/payments",
		body:        b,
		header:      http.Header{"Idempotency-Key": {p.IdempotencyKey}},
		retryUnsent: true,
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetPayment returns the payment with the given id
// (GET /api/v1/payments/:id), retrying transient failures.
//
// It returns an error wrapping ErrInvalidParams for an empty id or one that
// is a path dot-segment ("." or ".."), an *Error matching ErrNotFound when
// Orchestrate has no such payment, another *Error, a *TransportError or a
// *DecodeError.
func (c *Client) GetPayment(ctx context.Context, id string) (*Payment, error) {
	if id == "" || id == "." || id == ".." {
		// Dot segments survive path escaping and would be resolved by
		// servers and proxies into a different endpoint.
		return nil, fmt.Errorf("%w: invalid payment id %q", ErrInvalidParams, id)
	}
	var out Payment
	if err := c.do(ctx, request{method: http.MethodGet, path: "/payments/" + url.PathEscape(id)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListPaymentsParams selects a page of payments.
type ListPaymentsParams struct {
	// Page is 1-based; 0 means 1.
	Page int
	// PerPage is between 1 and MaxPerPage; 0 means DefaultPerPage.
	PerPage int
}

// PaymentList is one page of payments.
type PaymentList struct {
	Items      []Payment  `json:"items"`
	Pagination Pagination `json:"pagination"`
}

// Pagination describes where a PaymentList sits in the whole list.
type Pagination struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	TotalPages int `json:"total_pages"`
	TotalItems int `json:"total_items"`
}

// ListPayments returns one page of payments (GET /api/v1/payments),
// retrying transient failures. A nil p means the first page with the
// default size.
//
// It returns an error wrapping ErrInvalidParams if Page is negative or
// PerPage is outside 0..MaxPerPage, an *Error, a *TransportError, or a
// *DecodeError (also when any one payment on the page cannot be decoded).
func (c *Client) ListPayments(ctx context.Context, p *ListPaymentsParams) (*PaymentList, error) {
	var params ListPaymentsParams
	if p != nil {
		params = *p
	}
	if params.Page < 0 {
		return nil, fmt.Errorf("%w: Page must be >= 1, got %d", ErrInvalidParams, params.Page)
	}
	if params.PerPage < 0 || params.PerPage > MaxPerPage {
		return nil, fmt.Errorf("%w: PerPage must be between 1 and %d, got %d", ErrInvalidParams, MaxPerPage, params.PerPage)
	}
	params.Page = max(params.Page, 1)
	if params.PerPage == 0 {
		params.PerPage = DefaultPerPage
	}
	q := url.Values{
		"page":     {strconv.Itoa(params.Page)},
		"per_page": {strconv.Itoa(params.PerPage)},
	}
	var out PaymentList
	if err := c.do(ctx, request{method: http.MethodGet, path: "/payments", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Payments iterates over all payments, perPage at a time (0 means
// DefaultPerPage), in the order Orchestrate lists them. It stops after the
// last page (per the pagination block, or at the first empty page) or at the
// first error, which it yields with a nil payment (a perPage outside
// 0..MaxPerPage is such an error, wrapping ErrInvalidParams).
//
// Pages are fetched lazily, so payments created or removed while iterating
// can shift items between pages: a payment may be seen twice or, if others
// are removed, missed.
func (c *Client) Payments(ctx context.Context, perPage int) iter.Seq2[*Payment, error] {
	return func(yield func(*Payment, error) bool) {
		for page := 1; ; page++ {
			list, err := c.ListPayments(ctx, &ListPaymentsParams{Page: page, PerPage: perPage})
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range list.Items {
				if !yield(&list.Items[i], nil) {
					return
				}
			}
			if len(list.Items) == 0 || page >= list.Pagination.TotalPages {
				return
			}
		}
	}
}

// FindPaymentByMetadata returns the first payment, in list order, whose
// Metadata[key] equals value, reading at most maxPages pages of MaxPerPage
// payments. Use it to resolve a create whose outcome is unknown: look for
// the payment-attempt id you put in Metadata.
//
// The list order is undocumented; Orchestrate lists newest first in
// practice, which keeps recent payments within the first pages.
//
// It returns an error wrapping ErrNotFound only if the pages were read and no
// payment in them matches; an error wrapping ErrInvalidParams if key is
// empty or maxPages < 1; or any error from ListPayments, except that a 404
// from the list endpoint is returned as a plain error that does not match
// ErrNotFound, since it proves nothing about the payment.
func (c *Client) FindPaymentByMetadata(ctx context.Context, key, value string, maxPages int) (*Payment, error) {
	if key == "" {
		return nil, fmt.Errorf("%w: metadata key is empty", ErrInvalidParams)
	}
	if maxPages < 1 {
		return nil, fmt.Errorf("%w: maxPages must be >= 1, got %d", ErrInvalidParams, maxPages)
	}
	for page := 1; page <= maxPages; page++ {
		list, err := c.ListPayments(ctx, &ListPaymentsParams{Page: page, PerPage: MaxPerPage})
		if errors.Is(err, ErrNotFound) {
			// A 404 from the list endpoint means the endpoint is missing
			// (wrong base URL, a proxy), not that no payment matches.
			// Passing it on as ErrNotFound would tell the caller it is safe
			// to create the payment again, so the chain is cut here.
			return nil, fmt.Errorf("orchestrate: listing payments failed (not a missing payment): %s", err)
		}
		if err != nil {
			return nil, err
		}
		for i := range list.Items {
			if v, ok := list.Items[i].Metadata[key]; ok && v == value {
				return &list.Items[i], nil
			}
		}
		if len(list.Items) == 0 || page >= list.Pagination.TotalPages {
			break
		}
	}
	return nil, fmt.Errorf("%w: no payment with metadata %q=%q in the first %d page(s)", ErrNotFound, truncate(key, 64), truncate(value, 64), maxPages)
}
