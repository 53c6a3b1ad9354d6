package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
	"github.com/orchestrate-checkout/checkout/internal/pgbouncer"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// The PgBouncer tests run the real binary with DATABASE_URL on a PgBouncer in
// transaction pooling and DATABASE_DIRECT_URL on PostgreSQL, as production
// runs it, and check the shop, the admin, the webhooks and the jobs all work.

const poolerAdminPassword = "pooler-admin-password"

// poolerEnv is the environment of an app behind bouncer: the built-in sandbox
// on its own port, delivering every webhook twice.
func poolerEnv(t *testing.T, db *testdb.DB) (env []string, sandboxURL string) {
	sandboxAddr := apptest.FreeAddr(t)
	return []string{
		"DATABASE_DIRECT_URL=" + db.URL,
		"DATABASE_QUERY_EXEC_MODE=cache_describe",
		"DATABASE_MAX_CONNS=8",
		"SANDBOX_ADDR=" + sandboxAddr,
		"SANDBOX_PUBLIC_URL=http://" + sandboxAddr,
		"SANDBOX_WEBHOOK_DUPLICATE=true",
		"SWEEP_INTERVAL=1s",
		"ADMIN_PASSWORD=" + poolerAdminPassword,
		"LOG_LEVEL=debug",
	}, "http://" + sandboxAddr
}

// TestThroughPgBouncer: migrations at startup on an empty database, a checkout
// paid on the sandbox with every webhook delivered twice (paid exactly once), a
// payment whose webhooks never come (the sweeper confirms it), the admin's
// sign-in, list and CSV; and no error about prepared statements, LISTEN or
// advisory locks in the app's log.
func TestThroughPgBouncer(t *testing.T) {
	t.Parallel()
	db := testdb.NewEmpty(t)
	bouncer := pgbouncer.Start(t, testdb.ServerURL(t), pgbouncer.Options{PoolSize: 10})
	env, sandboxURL := poolerEnv(t, db)
	in := apptest.Start(t, &appBinary, apptest.Options{DatabaseURL: bouncer.URL(db.Name), Env: env})

	count := func(query string, args ...any) int {
		t.Helper()
		var n int
		if err := db.Pool.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\napp log:\n%s", what, readFile(in.LogPath))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// River listens on a direct session, not on one of PgBouncer's: through
	// transaction pooling its LISTEN would land on a server connection shared by
	// every client, and its notifications would never reach it.
	pooled, err := bouncer.ServerPIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pooled) == 0 {
		t.Fatal("PgBouncer holds no server connection: the app does not go through it")
	}
	rows, err := db.Pool.Query(context.Background(),
		`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN %'`, db.Name)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	direct := 0
	for _, pid := range pids {
		if !pooled[int(pid)] {
			direct++
		}
	}
	if direct == 0 {
		t.Errorf("no direct session LISTENs (backends that last ran LISTEN: %v, PgBouncer's: %v)", pids, pooled)
	}

	// A shopper checks out and pays; the sandbox delivers each webhook twice.
	first := checkoutThrough(t, in.URL, db.Pool, sandboxURL)
	payOnHostedPage(t, first.link)
	eventually("the first order to be paid", func() bool {
		return count(`SELECT count(*) FROM orders WHERE id = $1 AND status = 'paid'`, first.order) == 1
	})
	// A repeat is answered and stores nothing, so the sandbox's log of its
	// attempts is where the duplicate shows.
	succeeded := regexp.MustCompile(`sandbox: webhook attempt.* event=payment\.succeeded .*status_code=200`)
	eventually("the duplicate delivery", func() bool {
		return len(succeeded.FindAllStringIndex(readFile(in.LogPath), -1)) >= 2
	})
	if n := count(`SELECT count(*) FROM order_events WHERE order_id = $1 AND subject = 'order' AND to_status = 'paid'`, first.order); n != 1 {
		t.Errorf("the first order became paid %d times, want once", n)
	}

	// Webhooks off: only the sweeper (a River periodic job, run by the leader)
	// can learn that the second payment succeeded.
	setSandboxFaults(t, sandboxURL, `{"webhooks_disabled": true}`)
	second := checkoutThrough(t, in.URL, db.Pool, sandboxURL)
	payOnHostedPage(t, second.link)
	eventually("the sweeper to confirm the second order", func() bool {
		return count(`SELECT count(*) FROM orders WHERE id = $1 AND status = 'paid'`, second.order) == 1
	})
	if n := count(`SELECT count(*) FROM webhook_events WHERE payment_id = $1`, second.payment); n != 0 {
		t.Errorf("%d webhooks arrived for the second payment with webhooks disabled", n)
	}

	// The admin signs in, lists the orders and downloads them as CSV.
	admin := newBrowser(in.URL)
	resp := admin.post(t, "/admin/login", url.Values{"username": {"admin"}, "password": {poolerAdminPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("admin sign-in = %d, want 303", resp.StatusCode)
	}
	for _, path := range []string{"/admin/orders", "/admin/orders.csv"} {
		code, body := admin.get(t, path)
		if code != http.StatusOK || !strings.Contains(body, first.number) || !strings.Contains(body, second.number) {
			t.Errorf("GET %s = %d, want 200 listing orders %s and %s:\n%.2000s", path, code, first.number, second.number, body)
		}
	}

	if err := in.Stop(); err != nil {
		t.Fatal(err)
	}
	checkPoolerLog(t, readFile(in.LogPath))
}

// TestThroughPgBouncerThreeStartTogether starts three instances at the same
// moment on an empty database through PgBouncer: each migration is applied once
// and all three become ready.
func TestThroughPgBouncerThreeStartTogether(t *testing.T) {
	t.Parallel()
	db := testdb.NewEmpty(t)
	bouncer := pgbouncer.Start(t, testdb.ServerURL(t), pgbouncer.Options{PoolSize: 30})
	opts := make([]apptest.Options, 3)
	for i := range opts {
		env, _ := poolerEnv(t, db)
		opts[i] = apptest.Options{DatabaseURL: bouncer.URL(db.Name), Env: env}
	}
	ins := startTogether(t, opts...)
	var applied, distinct int
	if err := db.Pool.QueryRow(context.Background(),
		`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0 AND is_applied`).Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied != distinct || applied == 0 {
		t.Errorf("goose recorded %d applications of %d migrations, want each once", applied, distinct)
	}
	// The migrations' session advisory locks were taken and released on one
	// session each; through transaction pooling an unlock can land on another
	// server connection and leave the lock held.
	var held int
	if err := db.Pool.QueryRow(context.Background(), `
		SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
		WHERE l.locktype = 'advisory' AND d.datname = $1`, db.Name).Scan(&held); err != nil {
		t.Fatal(err)
	}
	if held != 0 {
		t.Errorf("%d advisory locks are still held after the instances started", held)
	}
	for _, in := range ins {
		if err := in.Stop(); err != nil {
			t.Error(err)
		}
		checkPoolerLog(t, readFile(in.LogPath))
	}
}

// startTogether starts one instance per options at the same moment and waits
// until every one is ready; each is closed when the test ends.
func startTogether(t *testing.T, opts ...apptest.Options) []*apptest.Instance {
	t.Helper()
	if _, err := appBinary.Path(context.Background()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ins := make([]*apptest.Instance, len(opts))
	errs := make([]error, len(opts))
	for i, o := range opts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ins[i], errs[i] = appBinary.Start(context.Background(), o)
		}()
	}
	wg.Wait()
	for i, in := range ins {
		if in != nil {
			t.Cleanup(func() { in.Close() })
		}
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
	}
	return ins
}

// poolerErrors are what a session feature used through transaction pooling
// makes PostgreSQL, PgBouncer or the app say.
var poolerErrors = regexp.MustCompile(`(?i)prepared statement|LISTEN|advisory|unsupported startup parameter|SQLSTATE 26000|SQLSTATE 42P05`)

// checkPoolerLog fails the test on any warning or error line naming a session
// feature.
func checkPoolerLog(t *testing.T, log string) {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		if (strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN")) && poolerErrors.MatchString(line) {
			t.Errorf("the app's log has: %s", line)
		}
	}
}

type poolerOrder struct {
	order         int64
	number        string
	payment, link string
}

// checkoutThrough puts a mug in a new shopper's cart, checks out and returns the
// order and the payment link the app redirected to.
func checkoutThrough(t *testing.T, appURL string, pool *pgxpool.Pool, sandboxURL string) poolerOrder {
	t.Helper()
	var productID string
	if err := pool.QueryRow(context.Background(), `SELECT id::text FROM products WHERE slug = 'enamel-mug'`).Scan(&productID); err != nil {
		t.Fatal(err)
	}
	s := newBrowser(appURL)
	if resp := s.post(t, "/cart/items", url.Values{"product_id": {productID}, "quantity": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add to cart = %d", resp.StatusCode)
	}
	resp := s.post(t, "/checkout", withShipping(url.Values{"name": {"Ada Lovelace"}, "email": {"ada@example.com"}}))
	link := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(link, sandboxURL+"/") {
		t.Fatalf("checkout = %d to %q, want 303 to the sandbox's payment page", resp.StatusCode, link)
	}
	var o poolerOrder
	o.link = link
	if err := pool.QueryRow(context.Background(), `
		SELECT o.id, o.number, a.orchestrate_payment_id FROM payment_attempts a JOIN orders o ON o.id = a.order_id
		WHERE a.payment_link = $1`, link).Scan(&o.order, &o.number, &o.payment); err != nil {
		t.Fatalf("the order of payment link %s: %v", link, err)
	}
	return o
}

// browser keeps cookies and does not follow redirects.
type browser struct {
	c    *http.Client
	base string
}

func newBrowser(base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// post submits a form with the CSRF token from the cookie.
func (b *browser) post(t *testing.T, path string, form url.Values) *http.Response {
	t.Helper()
	u, _ := url.Parse(b.base)
	token := func() string {
		for _, ck := range b.c.Jar.Cookies(u) {
			if ck.Name == "_csrf" {
				return ck.Value
			}
		}
		return ""
	}
	if token() == "" {
		b.get(t, "/")
	}
	form.Set("_csrf", token())
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the status and headers matter
	resp.Body.Close()
	return resp
}

// setSandboxFaults replaces the built-in sandbox's fault settings.
func setSandboxFaults(t *testing.T, sandboxURL, faults string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, sandboxURL+"/_sandbox/faults", strings.NewReader(faults))
	req.Header.Set("Authorization", "Bearer sk_sandbox_dev")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("set sandbox faults %s = %d %s", faults, resp.StatusCode, b)
	}
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(b)
}
