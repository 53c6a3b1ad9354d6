package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/jonboulle/clockwork"

	"github.com/orchestrate-checkout/checkout/internal/seed"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
	"github.com/orchestrate-checkout/checkout/orders"
)

// TestAdminOverviewDayAndWeekBoundaries renders the overview just after and just
// before midnight — a Monday, a Sunday, New Year's Day, in UTC and in Toronto,
// and in the week Toronto's clocks went forward — with orders paid a second
// before, at and a minute after every boundary nearby (the store's midnight and
// Monday, and UTC's). Every figure (count and sum per currency, today and this
// week), the day each names and each link's paid_since (followed to the list)
// must match what PostgreSQL's own calendar says for the store's zone.
func TestAdminOverviewDayAndWeekBoundaries(t *testing.T) {
	tests := []struct {
		name        string
		zone        string
		now         time.Time // the clock, in UTC
		today, week string    // the days the overview must start from
		asOf        string    // how it must show the clock's time
	}{
		{"Monday 00:05 UTC", "UTC", utc("2026-11-30 00:05"), "2026-11-30", "2026-11-30", "2026-11-30 00:05:00 UTC"},
		{"Sunday 23:59 UTC", "UTC", utc("2026-11-29 23:59"), "2026-11-29", "2026-11-23", "2026-11-29 23:59:00 UTC"},
		{"1 January 00:05 UTC", "UTC", utc("2027-01-01 00:05"), "2027-01-01", "2026-12-28", "2027-01-01 00:05:00 UTC"},
		{"Monday 00:05 in Toronto", "America/Toronto", utc("2026-11-30 05:05"), "2026-11-30", "2026-11-30", "2026-11-30 00:05:00 EST"},
		{"Sunday 23:59 in Toronto, Monday in UTC", "America/Toronto", utc("2026-11-30 04:59"), "2026-11-29", "2026-11-23", "2026-11-29 23:59:00 EST"},
		{"1 January 00:05 in Toronto", "America/Toronto", utc("2027-01-01 05:05"), "2027-01-01", "2026-12-28", "2027-01-01 00:05:00 EST"},
		{"Sunday 23:59 in Toronto, the week the clocks went forward", "America/Toronto", utc("2026-03-09 03:59"), "2026-03-08", "2026-03-02", "2026-03-08 23:59:00 EDT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatal(err)
			}
			a := newAppWith(t, testdb.New(t).Pool, appOptions{clock: clockwork.NewFakeClockAt(tt.now), location: loc})
			ctx := context.Background()

			// Orders paid around every boundary near now, in every currency, and
			// failed orders created there (never revenue).
			var boundaries []time.Time
			for _, day := range []string{tt.today, tt.week} {
				start, err := time.ParseInLocation(time.DateOnly, day, loc)
				if err != nil {
					t.Fatal(err)
				}
				boundaries = append(boundaries, start, start.In(time.UTC).Truncate(24*time.Hour))
			}
			boundaries = append(boundaries, tt.now.Truncate(24*time.Hour), tt.now.Add(-time.Minute))
			currencies := orders.Currencies
			n := 0
			for _, b := range boundaries {
				for _, at := range []time.Time{b.Add(-time.Second), b, b.Add(time.Minute)} {
					if at.After(tt.now) {
						continue
					}
					n++
					a.exec(t, `INSERT INTO orders (public_ref, status, currency, total_minor, customer_name, customer_email, created_at, paid_at)
						VALUES (md5(random()::text), 'paid', $1, $2, 'Paid Customer', 'paid@example.com', $3::timestamptz - interval '2 minutes', $3)`,
						currencies[n%len(currencies)], 1000+137*n, at)
					a.exec(t, `INSERT INTO orders (public_ref, status, currency, total_minor, customer_name, customer_email, created_at)
						VALUES (md5(random()::text), 'failed', $1, 999, 'Failed Customer', 'failed@example.com', $2)`,
						currencies[n%len(currencies)], at)
				}
			}

			admin := a.newAdmin(t)
			p := admin.get("/admin")
			if p.StatusCode != 200 {
				t.Fatalf("GET /admin = %d", p.StatusCode)
			}
			if !strings.Contains(p.doc.Text(), "As of "+tt.asOf+".") {
				t.Errorf("the overview does not say it is as of %s", tt.asOf)
			}
			for _, w := range []struct{ id, unit, day, label string }{
				{"revenue-today", "day", tt.today, "today (" + tt.today + ", " + tt.zone + ")"},
				{"revenue-week", "week", tt.week, "this week (since Monday " + tt.week + ", " + tt.zone + ")"},
			} {
				section := p.doc.Find("#" + w.id)
				if h := strings.TrimSpace(section.Find("h2").Text()); h != "Paid "+w.label {
					t.Errorf("%s heading = %q, want %q", w.id, h, "Paid "+w.label)
				}
				// PostgreSQL's calendar in the store's zone is the oracle.
				var since string
				if err := a.pool.QueryRow(ctx, `SELECT date_trunc($1, $2::timestamptz AT TIME ZONE $3)::date::text`,
					w.unit, tt.now, tt.zone).Scan(&since); err != nil {
					t.Fatal(err)
				}
				if since != w.day {
					t.Fatalf("PostgreSQL starts the %s on %s in %s; the test expects %s", w.unit, since, tt.zone, w.day)
				}
				want := map[string]orders.CurrencyTotal{}
				rows, err := a.pool.Query(ctx, `
					SELECT currency, count(*), sum(total_minor)::bigint FROM orders
					WHERE status = 'paid' AND paid_at >= date_trunc($1, $2::timestamptz AT TIME ZONE $3) AT TIME ZONE $3
					GROUP BY currency`, w.unit, tt.now, tt.zone)
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var ct orders.CurrencyTotal
					if err := rows.Scan(&ct.Currency, &ct.Count, &ct.Minor); err != nil {
						t.Fatal(err)
					}
					want[ct.Currency] = ct
				}
				if rows.Close(); rows.Err() != nil {
					t.Fatal(rows.Err())
				}
				if len(want) == 0 {
					t.Fatalf("no order was paid since the start of the %s: the case tests nothing", w.unit)
				}
				links := section.Find("a")
				if links.Length() != len(want) {
					t.Errorf("%s lists %d currencies, want %d: %q", w.id, links.Length(), len(want), strings.Join(strings.Fields(section.Text()), " "))
				}
				links.Each(func(_ int, s *goquery.Selection) {
					href, _ := s.Attr("href")
					u, err := url.Parse(href)
					if err != nil {
						t.Fatal(err)
					}
					q := u.Query()
					ct, ok := want[q.Get("currency")]
					if !ok {
						t.Errorf("%s lists %q, which had no payment", w.id, q.Get("currency"))
						return
					}
					text := strings.Join(strings.Fields(s.Text()), " ")
					wantText := ct.Total().String() + " " + ct.Currency + " · " + nOrders(ct.Count)
					if text != wantText {
						t.Errorf("%s %s = %q, want %q", w.id, ct.Currency, text, wantText)
					}
					if q.Get("paid_since") != w.day || q.Get("status") != "paid" {
						t.Errorf("%s %s links to %s, want paid orders since %s", w.id, ct.Currency, href, w.day)
					}
					// The link lists exactly those orders, and totals them alike.
					numbers, totals, _ := admin.listAll(href)
					if int64(len(numbers)) != ct.Count {
						t.Errorf("%s %s link lists %d orders, want %d", w.id, ct.Currency, len(numbers), ct.Count)
					}
					if wantTotal := ct.Total().String() + " (" + nOrders(ct.Count) + ")"; totals[ct.Currency] != wantTotal {
						t.Errorf("%s %s link totals %q, want %q", w.id, ct.Currency, totals[ct.Currency], wantTotal)
					}
				})
			}
		})
	}
}

// utc parses "2006-01-02 15:04" as a UTC time.
func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestAdminOverview: on a Wednesday afternoon (the clock is pinned; the
// boundaries have a test of their own) every figure of the overview matches the
// database and links to exactly the orders behind it.
func TestAdminOverview(t *testing.T) {
	now := time.Date(2026, time.November, 25, 15, 0, 0, 0, time.UTC)
	a := newAppWith(t, testdb.New(t).Pool, appOptions{clock: clockwork.NewFakeClockAt(now)})
	ctx := context.Background()
	if err := seed.Orders(ctx, a.pool, seed.Options{Orders: 500, Now: now, Span: 30 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	admin := a.newAdmin(t)
	p := admin.get("/admin")
	if p.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin = %d", p.StatusCode)
	}
	for _, status := range []string{"awaiting_payment", "paid", "failed", "expired", "needs_review"} {
		sel := p.doc.Find(`#by-status a[data-status="` + status + `"]`)
		want := strconv.Itoa(a.count(t, `SELECT count(*) FROM orders WHERE status = $1`, status))
		if got := strings.TrimSpace(sel.Find(".value").Text()); got != want {
			t.Errorf("%s count = %q, want %s", status, got, want)
		}
		if href, _ := sel.Attr("href"); href != "/admin/orders?status="+status {
			t.Errorf("%s links to %q", status, href)
		}
	}
	attention := map[string]string{}
	p.doc.Find("#attention a").Each(func(_ int, s *goquery.Selection) {
		attention[strings.TrimSpace(s.Find(".label").Text())] = strings.TrimSpace(s.Find(".value").Text())
	})
	wantStuckOpen := strconv.Itoa(a.count(t, `SELECT count(*) FROM payment_attempts WHERE status = 'open' AND expires_at < $1`, now))
	wantUnknown := strconv.Itoa(a.count(t, `SELECT count(*) FROM payment_attempts WHERE status = 'unknown'`))
	wantRefund := strconv.Itoa(a.count(t, `SELECT count(*) FROM orders WHERE refund_needed`))
	if attention["Payments open past expiry"] != wantStuckOpen || attention["Payments of unknown outcome"] != wantUnknown ||
		attention["Refund needed"] != wantRefund || wantStuckOpen == "0" || wantUnknown == "0" {
		t.Errorf("attention = %v, want open past expiry %s, unknown %s, refund %s", attention, wantStuckOpen, wantUnknown, wantRefund)
	}
	// Today's and this week's revenue per currency match the database and link
	// to exactly those orders.
	for _, w := range []struct {
		id    string
		start time.Time
	}{
		{"revenue-today", time.Date(2026, time.November, 25, 0, 0, 0, 0, time.UTC)},
		{"revenue-week", time.Date(2026, time.November, 23, 0, 0, 0, 0, time.UTC)},
	} {
		links := p.doc.Find("#" + w.id + " a")
		if links.Length() != 4 {
			t.Fatalf("%s lists %d currencies; the seed pays orders in all four every day", w.id, links.Length())
		}
		links.Each(func(_ int, s *goquery.Selection) {
			href, _ := s.Attr("href")
			u, err := url.Parse(href)
			if err != nil {
				t.Fatal(err)
			}
			cur := u.Query().Get("currency")
			n := a.count(t, `SELECT count(*) FROM orders WHERE status = 'paid' AND currency = $1 AND paid_at >= $2`, cur, w.start)
			if !strings.Contains(s.Text(), "· "+nOrders(int64(n))) || u.Query().Get("paid_since") != w.start.Format(time.DateOnly) {
				t.Errorf("%s %s = %q (link %s), want %d orders since %s", w.id, cur, s.Text(), href, n, w.start.Format(time.DateOnly))
			}
			numbers, _, _ := admin.listAll(href)
			if len(numbers) != n {
				t.Errorf("the %s %s link lists %d orders, want %d", w.id, cur, len(numbers), n)
			}
		})
	}
	// The stuck link lists the orders whose attempt is stuck at the clock's time.
	stuck := a.count(t, `SELECT count(DISTINCT order_id) FROM payment_attempts
		WHERE status = 'unknown' OR (status = 'open' AND expires_at < $1)`, now)
	if numbers, _, _ := admin.listAll("/admin/orders?flag=stuck"); len(numbers) != stuck {
		t.Errorf("the stuck orders list %d orders, want %d", len(numbers), stuck)
	}
}
