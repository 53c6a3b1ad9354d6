package orchestrate_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

func ExampleFormatAmount() {
	fmt.Println(orchestrate.FormatAmount(1999, orchestrate.USD))
	fmt.Println(orchestrate.FormatAmount(5, orchestrate.EUR))
	// Output:
	// 19.99
	// 0.05
}

func ExampleParseAmount() {
	for _, s := range []string{"500.0", "19.99", "19.999"} {
		minor, err := orchestrate.ParseAmount(s, orchestrate.USD)
		fmt.Println(minor, err)
	}
	// Output:
	// 50000 <nil>
	// 1999 <nil>
	// 0 orchestrate: invalid amount: "19.999" has more than 2 decimals for USD
}

func ExampleConstructEvent() {
	secret := "whsec_example"
	body := []byte(`{"id":"evt_1","type":"payment.succeeded","payload":{"id":"pay_1"}}`)
	header := orchestrate.Sign(body, secret) // what Orchestrate sends in X-Webhook-Signature

	event, err := orchestrate.ConstructEvent(body, header, secret)
	if err != nil {
		fmt.Println("reject with 400:", err)
		return
	}
	// The event is a hint: re-read the payment with GetPayment before acting.
	fmt.Println(event.Type, event.PaymentID)

	_, err = orchestrate.ConstructEvent(body, header, "wrong secret")
	fmt.Println(errors.Is(err, orchestrate.ErrInvalidSignature))
	// Output:
	// payment.succeeded pay_1
	// true
}

func ExampleClient_CreatePayment() {
	// A stand-in for Orchestrate.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"pay_1","status":"pending","amount":"19.99","currency":"USD",
			"metadata":{"attempt_id":"att_42"},"payment_link":"https://pay.example/pay_1"}`)
	}))
	defer srv.Close()

	ctx := context.Background()
	client, err := orchestrate.NewClient(srv.URL, "sk_test_example")
	if err != nil {
		fmt.Println(err)
		return
	}
	attemptID := "att_42" // your own payment-attempt id
	payment, err := client.CreatePayment(ctx, &orchestrate.CreatePaymentParams{
		Amount:         1999,
		Currency:       orchestrate.USD,
		SuccessURL:     "https://shop.example/orders/42/paid",
		CancelURL:      "https://shop.example/orders/42/cancelled",
		Metadata:       map[string]string{"attempt_id": attemptID},
		ExpiresIn:      time.Hour,
		IdempotencyKey: attemptID,
	})
	if orchestrate.IsOutcomeUnknown(err) {
		// The payment may exist: find it rather than create a second one.
		payment, err = client.FindPaymentByMetadata(ctx, "attempt_id", attemptID, 3)
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(payment.ID, payment.Status, payment.Amount, payment.PaymentLink)
	// Output: pay_1 pending 1999 https://pay.example/pay_1
}
