package sandbox_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/go-cmp/cmp"

	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

// cells returns the trimmed text of each cell of a table row.
func cells(row *goquery.Selection) []string {
	var out []string
	row.Find("td").Each(func(_ int, td *goquery.Selection) {
		out = append(out, strings.Join(strings.Fields(td.Text()), " "))
	})
	return out
}

func TestDashboardListsPaymentsAndDeliveries(t *testing.T) {
	// The receiver refuses the first attempt; the retry is an hour away,
	// so the dashboard shows a pending delivery with one 500 attempt.
	rc := newReceiver(t, "whsec_dash", statusSequence(500))
	e := newEnv(t, sandbox.Config{WebhookRetryBase: time.Hour})
	e.registerReceiver(rc)
	e.run()
	p := e.create(paymentRequest())
	eventually(t, "the first attempt to be logged", func() bool {
		log := e.deliveries()
		return len(log.Items) == 1 && log.Items[0].AttemptCount == 1
	})

	dash := e.page(e.URL + "/_sandbox/")
	if dash.Status != http.StatusOK {
		t.Fatalf("dashboard status %d", dash.Status)
	}
	rows := dash.Doc.Find("table.payments tbody tr")
	if rows.Length() != 1 {
		t.Fatalf("payment rows = %d, want 1", rows.Length())
	}
	created, _ := time.Parse(time.RFC3339, p.CreatedAt)
	want := []string{p.ID, "pending", "19.99 USD", created.Format(time.DateTime), "Open"}
	if diff := cmp.Diff(want, cells(rows)); diff != "" {
		t.Errorf("payment row (-want +got):\n%s", diff)
	}
	if href, _ := rows.Find("a").Attr("href"); href != p.PaymentLink {
		t.Errorf("hosted page link = %q, want %q", href, p.PaymentLink)
	}

	deliveries := dash.Doc.Find("table.deliveries tbody tr")
	if deliveries.Length() != 1 {
		t.Fatalf("delivery rows = %d, want 1", deliveries.Length())
	}
	got := cells(deliveries)
	for i, want := range []string{"payment.created evt_", rc.URL, "pending", "1", "500 in "} {
		if !strings.HasPrefix(got[i], want) {
			t.Errorf("delivery cell %d = %q, want it to start with %q", i, got[i], want)
		}
	}
	if _, ok := dash.form(t, "Resend"); !ok {
		t.Errorf("no Resend button")
	}
	if !strings.Contains(dash.Doc.Find("#webhooks-title").Parent().Text(), rc.URL) {
		t.Errorf("registered webhooks section lacks %s", rc.URL)
	}

	resp, _ := e.do(http.MethodGet, "/", nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/_sandbox/" {
		t.Errorf("GET / = %d to %q, want a redirect to the dashboard", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = e.do(http.MethodGet, "/_sandbox/deliveries", nil, "Authorization", "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("delivery log without the API key: status %d, want 401", resp.StatusCode)
	}
}
