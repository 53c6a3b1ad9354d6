package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestAdminWebhookInbox(t *testing.T) {
	a := newApp(t)
	a.setFaults(t, `{"webhooks_disabled": true}`) // the test writes the inbox itself
	o := a.checkoutOne(t)
	var paymentID string
	if err := a.pool.QueryRow(context.Background(), `
		SELECT orchestrate_payment_id FROM payment_attempts a JOIN orders o ON o.id = a.order_id WHERE o.public_ref = $1`, o.ref).Scan(&paymentID); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rows := []struct{ key, typ, payment, result, errText string }{
		{"event:evt_1", "payment.created", paymentID, "unchanged", ""},
		{"event:evt_2", "payment.succeeded", paymentID, "", "read payment: 503"},
		{"event:evt_3", "payment.failed", "pay_someone_else", "unknown_payment", ""},
		{"sha256:abc", "", "", "invalid", "not JSON"},
	}
	for _, r := range rows {
		if _, err := a.pool.Exec(ctx, `
			INSERT INTO webhook_events (dedup_key, event_type, payment_id, raw_body, result, error, processed_at)
			VALUES ($1, nullif($2, ''), nullif($3, ''), '{}', nullif($4, ''), nullif($5, ''), CASE WHEN $4 = '' THEN NULL ELSE now() END)`,
			r.key, r.typ, r.payment, r.result, r.errText); err != nil {
			t.Fatal(err)
		}
	}
	admin := a.newAdmin(t)
	ids := func(path string) []string {
		p := admin.get(path)
		if p.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, p.StatusCode)
		}
		var out []string
		p.doc.Find("#deliveries tbody tr").Each(func(_ int, s *goquery.Selection) {
			out = append(out, s.Find("td").Eq(1).Contents().First().Text())
		})
		return out
	}
	tests := []struct {
		path string
		want int
	}{
		{"/admin/webhooks", 4},
		{"/admin/webhooks?type=payment.succeeded", 1},
		{"/admin/webhooks?result=pending", 1},
		{"/admin/webhooks?result=error", 2},
		{"/admin/webhooks?result=unknown_payment", 1},
		{"/admin/webhooks?payment=" + paymentID, 2},
	}
	for _, tt := range tests {
		if got := ids(tt.path); len(got) != tt.want {
			t.Errorf("%s lists %d deliveries %q, want %d", tt.path, len(got), got, tt.want)
		}
	}
	if p := admin.get("/admin/webhooks?result=bogus"); p.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown result filter = %d, want 400", p.StatusCode)
	}
	p := admin.get("/admin/webhooks?payment=" + paymentID)
	if p.doc.Find(`#deliveries a[href="/admin/orders/`+a.orderIDByRef(t, o.ref)+`"]`).Length() != 2 {
		t.Error("deliveries do not link to their order")
	}

	// Re-process the delivery that failed: its result is cleared, a job confirms
	// the payment again, and the admin is sent back to the filtered inbox.
	var id int64
	if err := a.pool.QueryRow(ctx, `SELECT id FROM webhook_events WHERE dedup_key = 'event:evt_2'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	here := "/admin/webhooks?result=error"
	p = admin.post("/admin/webhooks/"+strconv.FormatInt(id, 10)+"/reprocess", url.Values{"next": {here}})
	if p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != here {
		t.Fatalf("re-process = %d %q, want 303 to %s", p.StatusCode, p.Header.Get("Location"), here)
	}
	if flash := admin.get(here).doc.Find("#flash").Text(); !strings.Contains(flash, "queued") {
		t.Errorf("flash after re-process = %q", flash)
	}
	eventually(t, "the re-processed delivery to be processed", func() bool {
		return a.count(t, `SELECT count(*) FROM webhook_events WHERE id = $1 AND processed_at IS NOT NULL AND error IS NULL`, id) == 1
	})
	// A delivery naming no payment cannot be re-processed, and says why.
	var invalid int64
	if err := a.pool.QueryRow(ctx, `SELECT id FROM webhook_events WHERE dedup_key = 'sha256:abc'`).Scan(&invalid); err != nil {
		t.Fatal(err)
	}
	admin.post("/admin/webhooks/"+strconv.FormatInt(invalid, 10)+"/reprocess", nil)
	if flash := admin.get("/admin/webhooks").doc.Find("#flash").Text(); !strings.Contains(flash, "names no payment") {
		t.Errorf("flash after re-processing an invalid delivery = %q", flash)
	}
	if p := admin.post("/admin/webhooks/987654/reprocess", nil); p.StatusCode != http.StatusNotFound {
		t.Errorf("re-process of an unknown delivery = %d, want 404", p.StatusCode)
	}
}
