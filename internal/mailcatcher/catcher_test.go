package mailcatcher_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	gomail "github.com/wneessen/go-mail"

	"github.com/orchestrate-checkout/checkout/internal/mailcatcher"
	"github.com/orchestrate-checkout/checkout/mailer"
)

// TestPageShowsTheDecodedText: a message as the shop sends it (plain text and
// HTML alternatives, quoted-printable) is listed with its plain text decoded —
// soft line breaks joined, "=E2=82=AC" shown as "€" — so a person reads it
// on the page, escaped.
func TestPageShowsTheDecodedText(t *testing.T) {
	c, err := mailcatcher.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	smtp, err := mailer.ParseSMTPURL("smtp://" + c.Addr())
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("a long line that quoted-printable breaks ", 4) + "— total €12.50 <b>"
	msg := gomail.NewMsg()
	if err := msg.From("shop@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := msg.To("ada@example.com"); err != nil {
		t.Fatal(err)
	}
	msg.Subject("Order 1001 confirmed")
	msg.SetBodyString(gomail.TypeTextPlain, long+"\nSecond line")
	msg.AddAlternativeString(gomail.TypeTextHTML, "<p>html</p>")
	if err := smtp.Send(context.Background(), msg); err != nil {
		t.Fatalf("sending to the catcher: %v", err)
	}
	msgs := c.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the catcher holds %d messages, want 1", len(msgs))
	}
	if want := long + "\nSecond line"; msgs[0].Text != want {
		t.Errorf("the message's text is %q, want %q\nraw:\n%s", msgs[0].Text, want, msgs[0].Raw)
	}
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/_sandbox/mail", nil))
	if page := rec.Body.String(); !strings.Contains(page, "total €12.50 &lt;b&gt;\nSecond line") {
		t.Errorf("the page does not show the decoded text, escaped:\n%s", page)
	}
}
