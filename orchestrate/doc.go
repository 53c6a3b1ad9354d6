// Package orchestrate is a small client for the Orchestrate payments API
// (https://orchestrate.global): create, read and list payments, and verify
// and parse webhooks. It uses only the standard library and imports nothing
// else from this repository, so it can be copied into another project.
//
// # Usage
//
//	client, err := orchestrate.NewClient("https://sandbox.orchestrate.global", apiKey,
//		orchestrate.WithLogger(logger))
//	if err != nil {
//		return err
//	}
//	payment, err := client.CreatePayment(ctx, &orchestrate.CreatePaymentParams{
//		Amount:         1999, // minor units: $19.99
//		Currency:       orchestrate.USD,
//		Customer:       orchestrate.Customer{Name: "Ada", Email: "ada@example.com"},
//		Description:    "Order 123",
//		SuccessURL:     "https://shop.example/orders/123/paid",
//		CancelURL:      "https://shop.example/orders/123/cancelled",
//		Metadata:       map[string]string{"order_id": "123", "attempt_id": attemptID},
//		ExpiresIn:      time.Hour,
//		IdempotencyKey: attemptID,
//	})
//	if orchestrate.IsOutcomeUnknown(err) {
//		// A payment may exist: look for it before creating another. If
//		// errors.Is(err, orchestrate.ErrNotFound), none is listed and the
//		// attempt can be retried with the same IdempotencyKey.
//		payment, err = client.FindPaymentByMetadata(ctx, "attempt_id", attemptID, 3)
//	}
//	if err != nil {
//		return err
//	}
//	// Redirect the shopper to payment.PaymentLink.
//
// A webhook handler verifies and parses the raw body, then re-reads the
// payment, because an event is only a hint:
//
//	event, err := orchestrate.ConstructEvent(body, r.Header.Get(orchestrate.SignatureHeader), secret)
//	if err != nil {
//		return err // 400: not from Orchestrate, or not an event
//	}
//	payment, err := client.GetPayment(ctx, event.PaymentID)
//
// # Choices where Orchestrate's documentation is silent
//
// This package follows the project's API notes (API.md), which mark each
// behaviour as documented by Orchestrate, shown only in one of their
// examples, or a choice of this project. The choices, and where they live:
//
//   - Money (money.go). Amounts are int64 minor units everywhere in Go.
//     Requests send major units as a JSON number written from the integer's
//     digits (1999 → 19.99), never through a float64, because API.md's
//     example sends 99.99 for $99.99. Responses may carry the amount as a
//     number or a string ("500.0" in the quickstart); both are parsed from
//     their decimal text, and a value with more decimals than the currency
//     has (19.999 USD) is rejected, not rounded. Extra zero decimals
//     ("19.990") are accepted since they are exact.
//   - Status (status.go). "succeeded" is read as completed, as one
//     Orchestrate page uses it. Unknown statuses are kept verbatim rather
//     than failing the decode; see Status.Known and Status.Final.
//   - Payment link (payment.go). payment_link is used, falling back to
//     next_action.url when absent. Metadata values that come back as numbers
//     or booleans become their JSON text.
//   - Headers (client.go). Every request sends Authorization: Bearer,
//     Accept: application/json, a User-Agent, and Content-Type:
//     application/json when it has a body. Creates send an Idempotency-Key
//     header, but Orchestrate documents no idempotency, so nothing here
//     relies on it.
//   - Retries (retry.go, client.go). GetPayment and ListPayments are
//     retried on network errors, timeouts, 408, 429 (honouring Retry-After
//     in seconds or as an HTTP date, up to the maximum backoff) and 5xx,
//     with capped exponential backoff and full jitter, never sleeping past
//     the context's deadline. CreatePayment is retried only when the
//     request provably never left the process (DNS failure, refused dial,
//     TLS handshake timeout: nothing written, as net/http/httptrace
//     reports); net/http's own silent replay of a POST carrying an
//     Idempotency-Key on a broken keep-alive connection is disabled for it.
//     Untrusted TLS certificates and cancelled contexts are never retried.
//   - Outcome of a failed create (error.go). IsOutcomeUnknown is true when
//     the request may have been received but no usable answer came back:
//     a timeout or dropped connection after writing, an unreadable 2xx
//     body, and also a 5xx answer, because a gateway error or a crash after
//     commit can hide a created payment and no idempotency is documented.
//     Callers resolve such an attempt with FindPaymentByMetadata, which
//     assumes the list is newest first (undocumented) and reads a bounded
//     number of pages.
//   - Errors (error.go). Error bodies are read for "message" (API.md: always
//     present), falling back to a short excerpt of a non-JSON body; the
//     request id comes from X-Request-Id or Request-Id. The API key never
//     appears in an error or log record, even when the server echoes it.
//   - Redirects (client.go). The default HTTP client does not follow them,
//     so a redirected POST cannot silently become a GET.
//   - Webhooks (webhook.go). Signature header X-Webhook-Signature carrying
//     the lowercase hex HMAC-SHA256 of the raw body under the webhook
//     secret, optionally prefixed "sha256=", compared in constant time.
//     Every envelope field but type and payload.id is optional.
package orchestrate
