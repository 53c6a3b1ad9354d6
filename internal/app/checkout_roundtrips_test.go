package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orchestrate"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
	"github.com/orchestrate-checkout/checkout/orders"
)

// roundTrips counts what the app's pool sends PostgreSQL, by every pgx hook a
// round trip can take: a statement (Query, QueryRow, Exec; begin and commit are
// Execs), a batch, a COPY, and a prepare that was not already cached.
type roundTrips struct {
	mu       sync.Mutex
	sent     []string // statements, batches and copies, in order
	prepared []string // SQL of the prepares that went to the server
}

func (r *roundTrips) note(list *[]string, what string) {
	r.mu.Lock()
	*list = append(*list, strings.Join(strings.Fields(what), " "))
	r.mu.Unlock()
}

// take returns what was sent since the last take, and forgets it.
func (r *roundTrips) take() (sent, prepared []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sent, prepared = r.sent, r.prepared
	r.sent, r.prepared = nil, nil
	return sent, prepared
}

func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	r.note(&r.sent, d.SQL)
	return ctx
}
func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	r.note(&r.sent, fmt.Sprintf("batch of %d statements", d.Batch.Len()))
	return ctx
}
func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (r *roundTrips) TraceCopyFromStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceCopyFromStartData) context.Context {
	r.note(&r.sent, "COPY "+d.TableName.Sanitize())
	return ctx
}
func (r *roundTrips) TraceCopyFromEnd(context.Context, *pgx.Conn, pgx.TraceCopyFromEndData) {}

type prepareSQL struct{}

func (r *roundTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, d pgx.TracePrepareStartData) context.Context {
	return context.WithValue(ctx, prepareSQL{}, d.SQL)
}
func (r *roundTrips) TracePrepareEnd(ctx context.Context, _ *pgx.Conn, d pgx.TracePrepareEndData) {
	if !d.AlreadyPrepared {
		sql, _ := ctx.Value(prepareSQL{}).(string)
		r.note(&r.prepared, sql)
	}
}

// countAtCreate hands the checkout's round trips so far to onCreate when the
// payments call Orchestrate to create a payment.
type countAtCreate struct {
	orders.PaymentsAPI
	onCreate func()
}

func (c countAtCreate) CreatePayment(ctx context.Context, p *orchestrate.CreatePaymentParams) (*orchestrate.Payment, error) {
	c.onCreate()
	return c.PaymentsAPI.CreatePayment(ctx, p)
}

// maxRoundTripsBeforeCreate is issue #16's bound on what a checkout may ask
// PostgreSQL before it calls Orchestrate.
const maxRoundTripsBeforeCreate = 6

// TestCheckoutRoundTripsBeforeCreate: POST /checkout of a new order of a tracked
// product makes at most 6 round trips to PostgreSQL before Orchestrate is asked
// for the payment. The count is every round trip of the app's pool from the
// request's arrival to the create call, middleware included: each statement,
// begin and commit, batch and COPY, and each prepare. pgx prepares a statement
// the first time a connection runs it (its statement cache), once per
// connection's life: the first checkout warms the cache and the one measured
// must prepare nothing (a prepare there would be a statement new to every
// request, such as SQL built per request).
func TestCheckoutRoundTripsBeforeCreate(t *testing.T) {
	db := testdb.New(t)
	if _, err := db.Pool.Exec(t.Context(), `INSERT INTO stock (product_id, on_hand) VALUES (1, 100)`); err != nil {
		t.Fatal(err)
	}

	// A real sandbox over HTTP, in memory so that none of its own statements
	// share the app's pool.
	sbSrv := httptest.NewUnstartedServer(nil)
	sbURL := "http://" + sbSrv.Listener.Addr().String()
	sb, err := sandbox.New(sandbox.Config{APIKey: "sk_sandbox_roundtrips", BaseURL: sbURL, Store: sandbox.NewMemoryStore(),
		Faults: sandbox.Faults{WebhooksDisabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	sbSrv.Config.Handler = sb.Handler()
	sbSrv.Start()
	t.Cleanup(sbSrv.Close)

	rec := &roundTrips{}
	var mu sync.Mutex
	var atCreate [][]string
	var preparedAtCreate [][]string
	a, err := app.New(t.Context(), testConfig(t, map[string]string{
		"DATABASE_URL":         db.URL,
		"ORCHESTRATE_API_KEY":  "sk_sandbox_roundtrips",
		"ORCHESTRATE_BASE_URL": sbURL,
	}), app.WithPoolTracer(rec), app.WithoutJobs(), app.WithLogOutput(io.Discard), app.WithOrchestrateAPI(func(api orders.PaymentsAPI) orders.PaymentsAPI {
		return countAtCreate{PaymentsAPI: api, onCreate: func() {
			sent, prepared := rec.take()
			mu.Lock()
			atCreate = append(atCreate, sent)
			preparedAtCreate = append(preparedAtCreate, prepared)
			mu.Unlock()
		}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	shop := httptest.NewServer(a.Handler)
	t.Cleanup(shop.Close)

	checkout := func(name string) {
		t.Helper()
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(shop.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var csrf string
		u, _ := url.Parse(shop.URL)
		for _, c := range jar.Cookies(u) {
			if c.Name == "_csrf" {
				csrf = c.Value
			}
		}
		post := func(path string, form url.Values) *http.Response {
			t.Helper()
			form.Set("_csrf", csrf)
			resp, err := client.PostForm(shop.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		if resp := post("/cart/items", url.Values{"product_id": {"1"}, "quantity": {"1"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add to cart: %d", resp.StatusCode)
		}
		rec.take() // what the checkout sends starts here
		resp = post("/checkout", url.Values{"name": {name}, "email": {"shopper@example.com"}, "line1": {"1 Main St"},
			"city": {"Austin"}, "region": {"TX"}, "postal_code": {"78701"}, "country": {"US"}, "method": {"standard"}})
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, sbURL) {
			t.Fatalf("POST /checkout = %d to %q, want 303 to the sandbox's payment page", resp.StatusCode, loc)
		}
	}
	checkout("Warm Shopper")
	checkout("Measured Shopper")

	mu.Lock()
	defer mu.Unlock()
	if len(atCreate) != 2 {
		t.Fatalf("Orchestrate was asked to create %d payments for 2 checkouts, want 2", len(atCreate))
	}
	warm, sent, prepared := atCreate[0], atCreate[1], preparedAtCreate[1]
	t.Logf("the first checkout sent %d and prepared %d statements before the create", len(warm), len(preparedAtCreate[0]))
	for i, s := range sent {
		t.Logf("round trip %d: %.120s", i+1, s)
	}
	for _, s := range prepared {
		t.Errorf("the warm checkout prepared a statement, one more round trip on every request: %.200s", s)
	}
	if n := len(sent) + len(prepared); n > maxRoundTripsBeforeCreate {
		t.Errorf("checkout made %d round trips to PostgreSQL before calling Orchestrate, want at most %d", n, maxRoundTripsBeforeCreate)
	}
	var held int
	if err := db.Pool.QueryRow(t.Context(), `SELECT held FROM stock WHERE product_id = 1`).Scan(&held); err != nil {
		t.Fatal(err)
	}
	if held != 2 {
		t.Errorf("stock held = %d after two checkouts of one unit, want 2: the product was not tracked", held)
	}
}
