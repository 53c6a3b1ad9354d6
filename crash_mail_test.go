package main

import (
	"context"
	"testing"
)

// TestKilledBeforeReceiptSent: the app is killed with SIGKILL after the paid
// transition committed (with its receipt queued) and while the receipt is at
// the SMTP server's DATA, before it was accepted. After the restart River
// rescues the job and the shopper gets exactly one receipt.
func TestKilledBeforeReceiptSent(t *testing.T) {
	t.Parallel()
	c := newCrashEnv(t)
	held := c.mail.Hold()
	c.start()
	s := c.shopper()
	c.checkoutAsync(s)
	c.eventually("the payment to be created", func() bool {
		return c.count(`SELECT count(*) FROM payment_attempts WHERE payment_link IS NOT NULL`) == 1
	})
	var link string
	if err := c.pool.QueryRow(context.Background(), `SELECT payment_link FROM payment_attempts`).Scan(&link); err != nil {
		t.Fatal(err)
	}
	payOnHostedPage(t, link)
	<-held // the receipt is being sent: the order is paid and its message queued
	c.kill()
	if n := c.count(`SELECT count(*) FROM orders WHERE status = 'paid'`); n != 1 {
		t.Fatalf("%d paid orders at the crash, want 1", n)
	}
	if n := c.count(`SELECT count(*) FROM mail_outbox WHERE kind = 'receipt'`); n != 1 {
		t.Fatalf("%d receipts in the outbox at the crash, want the 1 queued with the paid transition", n)
	}
	c.mail.Release()
	if n := len(c.mail.Messages()); n != 0 {
		t.Fatalf("the SMTP server kept %d messages from the killed app, want none", n)
	}

	c.start()
	c.eventually("the receipt to be sent after the restart", func() bool {
		return c.count(`SELECT count(*) FROM mail_outbox WHERE status = 'sent'`) == 1
	})
	c.eventually("the mail jobs to finish", func() bool {
		return c.count(`SELECT count(*) FROM river_job WHERE kind = 'send_mail' AND state NOT IN ('completed', 'discarded', 'cancelled')`) == 0
	})
	if n := len(c.mail.Messages()); n != 1 {
		t.Errorf("the SMTP server received %d messages, want exactly 1 receipt", n)
	}
	if n := c.count(`SELECT count(*) FROM mail_outbox`); n != 1 {
		t.Errorf("%d outbox rows, want 1", n)
	}
}
