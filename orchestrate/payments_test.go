package orchestrate

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// listServer serves GET /api/v1/payments over n payments p1..pn (newest
// first), with metadata attempt_id=att-<i> sent as a number for even i.
type listServer struct {
	mu      sync.Mutex
	queries []string
	n       int
	failOn  int // page that answers 500, 0 for none
}

func (s *listServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.queries = append(s.queries, r.URL.RawQuery)
	s.mu.Unlock()
	if r.URL.Path != "/api/v1/payments" {
		http.NotFound(w, r)
		return
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if page == s.failOn {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	items := []map[string]any{}
	for i := (page-1)*perPage + 1; i <= min(page*perPage, s.n); i++ {
		var attempt any = fmt.Sprintf("att-%d", i)
		if i%2 == 0 {
			attempt = i // numeric, as Orchestrate may echo it
		}
		items = append(items, map[string]any{
			"id": fmt.Sprintf("p%d", i), "status": "pending", "amount": "10.00", "currency": "USD",
			"metadata": map[string]any{"attempt_id": attempt},
		})
	}
	json.NewEncoder(w).Encode(map[string]any{
		"items": items,
		"pagination": map[string]int{
			"page": page, "per_page": perPage, "total_pages": (s.n + perPage - 1) / perPage, "total_items": s.n,
		},
	})
}

func (s *listServer) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

func startListServer(t *testing.T, n int) (*listServer, *Client) {
	t.Helper()
	ls := &listServer{n: n}
	srv := httptest.NewServer(ls)
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL)
	return ls, c
}

func TestListPayments(t *testing.T) {
	tests := []struct {
		name      string
		params    *ListPaymentsParams
		wantQuery string
		wantIDs   []string
		wantPage  Pagination
	}{
		{name: "defaults", params: nil, wantQuery: "page=1&per_page=10", wantIDs: []string{"p1", "p2", "p3"},
			wantPage: Pagination{Page: 1, PerPage: 10, TotalPages: 1, TotalItems: 3}},
		{name: "zero values", params: &ListPaymentsParams{}, wantQuery: "page=1&per_page=10", wantIDs: []string{"p1", "p2", "p3"},
			wantPage: Pagination{Page: 1, PerPage: 10, TotalPages: 1, TotalItems: 3}},
		{name: "second page", params: &ListPaymentsParams{Page: 2, PerPage: 2}, wantQuery: "page=2&per_page=2", wantIDs: []string{"p3"},
			wantPage: Pagination{Page: 2, PerPage: 2, TotalPages: 2, TotalItems: 3}},
		{name: "max per page", params: &ListPaymentsParams{PerPage: 100}, wantQuery: "page=1&per_page=100", wantIDs: []string{"p1", "p2", "p3"},
			wantPage: Pagination{Page: 1, PerPage: 100, TotalPages: 1, TotalItems: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls, c := startListServer(t, 3)
			list, err := c.ListPayments(t.Context(), tt.params)
			if err != nil {
				t.Fatalf("ListPayments: %v", err)
			}
			var ids []string
			for _, p := range list.Items {
				ids = append(ids, p.ID)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPage, list.Pagination); diff != "" {
				t.Errorf("pagination (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{tt.wantQuery}, ls.Queries()); diff != "" {
				t.Errorf("queries (-want +got):\n%s", diff)
			}
			if list.Items[0].Amount != 1000 {
				t.Errorf("Amount = %d, want 1000", list.Items[0].Amount)
			}
		})
	}
}

func TestListPaymentsValidation(t *testing.T) {
	c, _ := newTestClient(t, "http://127.0.0.1:1")
	for _, p := range []*ListPaymentsParams{{Page: -1}, {PerPage: -1}, {PerPage: 101}} {
		if _, err := c.ListPayments(t.Context(), p); !errors.Is(err, ErrInvalidParams) {
			t.Errorf("ListPayments(%+v) err = %v, want ErrInvalidParams", p, err)
		}
	}
}

func TestListPaymentsBadItem(t *testing.T) {
	_, srv := startFakeAPI(t, reply{status: 200, body: `{"items":[{"id":"p1","amount":"1.001","currency":"USD"}],"pagination":{"page":1}}`})
	c, _ := newTestClient(t, srv.URL)
	_, err := c.ListPayments(t.Context(), nil)
	if _, ok := errors.AsType[*DecodeError](err); !ok || !errors.Is(err, ErrInvalidAmount) {
		t.Errorf("err = %v, want *DecodeError wrapping ErrInvalidAmount", err)
	}
}

func TestPaymentsIterator(t *testing.T) {
	tests := []struct {
		name        string
		n, perPage  int
		stopAfter   int // 0 for all
		wantCount   int
		wantQueries []string
	}{
		{name: "all pages", n: 25, perPage: 10, wantCount: 25,
			wantQueries: []string{"page=1&per_page=10", "page=2&per_page=10", "page=3&per_page=10"}},
		{name: "exact pages", n: 20, perPage: 10, wantCount: 20,
			wantQueries: []string{"page=1&per_page=10", "page=2&per_page=10"}},
		{name: "empty list", n: 0, perPage: 10, wantCount: 0,
			wantQueries: []string{"page=1&per_page=10"}},
		{name: "default page size", n: 11, perPage: 0, wantCount: 11,
			wantQueries: []string{"page=1&per_page=10", "page=2&per_page=10"}},
		{name: "early break fetches no more", n: 25, perPage: 10, stopAfter: 12, wantCount: 12,
			wantQueries: []string{"page=1&per_page=10", "page=2&per_page=10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls, c := startListServer(t, tt.n)
			var ids []string
			for p, err := range c.Payments(t.Context(), tt.perPage) {
				if err != nil {
					t.Fatalf("iterator error: %v", err)
				}
				ids = append(ids, p.ID)
				if len(ids) == tt.stopAfter {
					break
				}
			}
			if len(ids) != tt.wantCount {
				t.Errorf("got %d payments, want %d", len(ids), tt.wantCount)
			}
			for i, id := range ids {
				if want := fmt.Sprintf("p%d", i+1); id != want {
					t.Fatalf("payment %d is %s, want %s", i, id, want)
				}
			}
			if diff := cmp.Diff(tt.wantQueries, ls.Queries()); diff != "" {
				t.Errorf("queries (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPaymentsIteratorError(t *testing.T) {
	ls := &listServer{n: 25, failOn: 2}
	srv := httptest.NewServer(ls)
	t.Cleanup(srv.Close)
	c, _ := newTestClient(t, srv.URL)
	var count int
	var gotErr error
	for p, err := range c.Payments(t.Context(), 10) {
		if err != nil {
			if p != nil {
				t.Errorf("payment %v yielded with error", p)
			}
			gotErr = err
			continue
		}
		count++
	}
	if count != 10 {
		t.Errorf("got %d payments before the error, want 10", count)
	}
	if apiErr, ok := errors.AsType[*Error](gotErr); !ok || apiErr.StatusCode != 500 {
		t.Errorf("error = %v, want the 500 after retries", gotErr)
	}
}

func TestFindPaymentByMetadata(t *testing.T) {
	tests := []struct {
		name         string
		n            int
		value        string
		maxPages     int
		wantID       string // "" means not found
		wantRequests int
	}{
		{name: "first page", n: 250, value: "att-3", maxPages: 3, wantID: "p3", wantRequests: 1},
		{name: "second page", n: 250, value: "att-151", maxPages: 3, wantID: "p151", wantRequests: 2},
		{name: "numeric metadata matches its text", n: 250, value: "212", maxPages: 3, wantID: "p212", wantRequests: 3},
		{name: "beyond max pages", n: 250, value: "att-201", maxPages: 2, wantRequests: 2},
		{name: "absent stops at last page", n: 150, value: "att-999", maxPages: 10, wantRequests: 2},
		{name: "empty list", n: 0, value: "att-1", maxPages: 10, wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ls, c := startListServer(t, tt.n)
			p, err := c.FindPaymentByMetadata(t.Context(), "attempt_id", tt.value, tt.maxPages)
			if n := len(ls.Queries()); n != tt.wantRequests {
				t.Errorf("made %d requests, want %d", n, tt.wantRequests)
			}
			for _, q := range ls.Queries() {
				if q[len(q)-len("per_page=100"):] != "per_page=100" {
					t.Errorf("query %q does not use the maximum page size", q)
				}
			}
			if tt.wantID == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("FindPaymentByMetadata = %v, %v; want ErrNotFound", p, err)
				}
				return
			}
			if err != nil || p.ID != tt.wantID {
				t.Errorf("FindPaymentByMetadata = %v, %v; want %s", p, err, tt.wantID)
			}
		})
	}
}

func TestFindPaymentByMetadataValidation(t *testing.T) {
	c, _ := newTestClient(t, "http://127.0.0.1:1")
	if _, err := c.FindPaymentByMetadata(t.Context(), "", "x", 1); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("empty key: err = %v, want ErrInvalidParams", err)
	}
	if _, err := c.FindPaymentByMetadata(t.Context(), "k", "x", 0); !errors.Is(err, ErrInvalidParams) {
		t.Errorf("maxPages 0: err = %v, want ErrInvalidParams", err)
	}
}

func TestFindPaymentByMetadataListNotFound(t *testing.T) {
	// A 404 from the list endpoint (a wrong base URL, say) must not read as
	// "no such payment", or the caller would create a duplicate.
	_, srv := startFakeAPI(t, reply{status: 404, body: `{"message":"no route"}`})
	c, _ := newTestClient(t, srv.URL)
	_, err := c.FindPaymentByMetadata(t.Context(), "attempt_id", "att-1", 3)
	if err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want an error that does not match ErrNotFound", err)
	}
}

func TestFindPaymentByMetadataError(t *testing.T) {
	_, srv := startFakeAPI(t, reply{status: 401, body: `{"message":"bad key"}`})
	c, _ := newTestClient(t, srv.URL)
	_, err := c.FindPaymentByMetadata(t.Context(), "attempt_id", "att-1", 3)
	if errors.Is(err, ErrNotFound) {
		t.Errorf("a failed lookup matched ErrNotFound: %v", err)
	}
	if apiErr, ok := errors.AsType[*Error](err); !ok || apiErr.StatusCode != 401 {
		t.Errorf("err = %v, want the 401", err)
	}
}
