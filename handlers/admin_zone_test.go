package handlers_test

import (
	"context"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"
	"github.com/jonboulle/clockwork"

	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

// TestAdminTimesFollowStoreZone: with STORE_TIMEZONE=America/Toronto every time
// the admin shows — the orders list, the order's facts, attempts and timeline,
// the webhook inbox and the CSV (ISO 8601 with the offset, and its file name) —
// is Toronto's, and the list's date filters are Toronto's days: an order placed
// at 23:59:59 on Sunday in Toronto (04:59:59 on Monday in UTC) is Sunday's.
func TestAdminTimesFollowStoreZone(t *testing.T) {
	toronto, err := time.LoadLocation("America/Toronto")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, time.December, 1, 12, 0, 0, 0, time.UTC)
	a := newAppWith(t, testdb.New(t).Pool, appOptions{clock: clockwork.NewFakeClockAt(now), location: toronto})
	ctx := context.Background()

	var id int64
	var number, sunday string
	err = a.pool.QueryRow(ctx, `
		INSERT INTO orders (public_ref, status, currency, total_minor, customer_name, customer_email, created_at, paid_at)
		VALUES (md5(random()::text), 'paid', 'CAD', 2500, 'Monday Customer', 'monday@example.com',
		        '2026-11-30 14:15:00Z', '2026-11-30 14:17:30Z') RETURNING id, number`).Scan(&id, &number)
	if err != nil {
		t.Fatal(err)
	}
	a.exec(t, `INSERT INTO payment_attempts (id, order_id, status, amount_minor, currency, orchestrate_payment_id,
	                                         created_at, expires_at, completed_at, applied, last_checked_at)
		VALUES (gen_random_uuid(), $1, 'completed', 2500, 'CAD', 'pay_toronto', '2026-11-30 14:15:01Z',
		        '2026-11-30 15:15:01Z', '2026-11-30 14:17:28Z', true, '2026-11-30 14:17:31Z')`, id)
	a.exec(t, `INSERT INTO order_events (order_id, subject, from_status, to_status, cause, created_at)
		VALUES ($1, 'order', 'awaiting_payment', 'paid', 'webhook', '2026-11-30 14:17:30Z')`, id)
	a.exec(t, `INSERT INTO webhook_events (dedup_key, event_id, event_type, payment_id, raw_body, received_at, processed_at, result)
		VALUES ('event:evt_toronto', 'evt_toronto', 'payment.succeeded', 'pay_toronto', '{}', '2026-11-30 14:17:29Z',
		        '2026-11-30 14:17:30Z', 'applied')`)
	if err := a.pool.QueryRow(ctx, `
		INSERT INTO orders (public_ref, status, currency, total_minor, customer_name, customer_email, created_at)
		VALUES (md5(random()::text), 'failed', 'CAD', 1500, 'Sunday Customer', 'sunday@example.com',
		        '2026-11-30 04:59:59Z') RETURNING number`).Scan(&sunday); err != nil {
		t.Fatal(err)
	}
	admin := a.newAdmin(t)

	// The list.
	list := admin.get("/admin/orders")
	created := map[string]string{}
	list.doc.Find("#orders tbody tr").Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("data-number")
		created[n] = strings.Join(strings.Fields(s.Text()), " ")
	})
	for n, want := range map[string]string{number: "2026-11-30 09:15:00 EST", sunday: "2026-11-29 23:59:59 EST"} {
		if !strings.Contains(created[n], want) {
			t.Errorf("the list shows %s as %q, want it created %s", n, created[n], want)
		}
	}
	// The date filters are Toronto's days.
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"from=2026-11-30", []string{number}},
		{"to=2026-11-29", []string{sunday}},
		{"from=2026-11-29&to=2026-11-29", []string{sunday}},
		{"from=2026-11-29&to=2026-11-30", []string{number, sunday}},
		{"status=paid&paid_since=2026-11-30", []string{number}},
		{"status=paid&paid_since=2026-12-01", nil},
	} {
		got, _, _ := admin.listAll("/admin/orders?" + tt.query)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s lists (-want +got):\n%s", tt.query, diff)
		}
	}

	// The order page: its facts, its attempt and its timeline.
	p := admin.get("/admin/orders/" + strconv.FormatInt(id, 10))
	text := func(sel string) string { return strings.Join(strings.Fields(p.doc.Find(sel).Text()), " ") }
	for sel, wants := range map[string][]string{
		"#customer": {"2026-11-30 09:15:00 EST", "2026-11-30 09:17:30 EST"},
		"#attempts": {"2026-11-30 09:15:01 EST", "2026-11-30 10:15:01 EST", "2026-11-30 09:17:28 EST"},
		"#timeline": {"2026-11-30 09:17:29 EST", "2026-11-30 09:17:30 EST", "2026-11-30 09:17:31 EST"},
	} {
		for _, want := range wants {
			if !strings.Contains(text(sel), want) {
				t.Errorf("%s does not show %s: %q", sel, want, text(sel))
			}
		}
	}
	if strings.Contains(p.body, "UTC") || strings.Contains(p.body, "14:1") {
		t.Error("the order page shows a time in UTC")
	}

	// The webhook inbox.
	inbox := strings.Join(strings.Fields(admin.get("/admin/webhooks").doc.Find("#deliveries").Text()), " ")
	if !strings.Contains(inbox, "2026-11-30 09:17:29 EST") {
		t.Errorf("the inbox does not show the delivery received at 09:17:29 EST: %q", inbox)
	}

	// The CSV: ISO 8601 with Toronto's offset, named for Toronto's time.
	export := admin.get("/admin/orders.csv")
	if cd := export.Header.Get("Content-Disposition"); cd != `attachment; filename="orders-20261201-070000.csv"` {
		t.Errorf("Content-Disposition = %q, want the file named for 07:00 in Toronto", cd)
	}
	records, err := csv.NewReader(strings.NewReader(export.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, r := range records[1:] {
		got[r[0]] = [2]string{r[1], r[9]}
	}
	want := map[string][2]string{
		number: {"2026-11-30T09:15:00-05:00", "2026-11-30T09:17:30-05:00"},
		sunday: {"2026-11-29T23:59:59-05:00", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CSV created_at and paid_at (-want +got):\n%s", diff)
	}
}
