// Package sandbox is a local stand-in for Orchestrate's sandbox
// (https://sandbox.orchestrate.global) that developers run locally and every
// test uses: the payments API of API.md, a hosted payment page with test
// cards, signed webhooks with retries, a dashboard, and fault injection.
//
// It is written from Orchestrate's documentation (quickstart.txt, API.md),
// not from this project's client, so that it checks the client rather than
// mirroring it. It computes webhook signatures itself for the same reason.
//
// # Routes
//
//	POST /api/v1/payments                  create (201), bearer API key
//	GET  /api/v1/payments/{id}             retrieve (200, 404)
//	GET  /api/v1/payments?page=&per_page=  list, newest first
//	GET  /payments/{id}/collection         hosted payment page (payment_link)
//	POST /payments/{id}/pay                pay with a test card
//	POST /payments/{id}/cancel             shopper cancels
//	GET  /_sandbox/                        dashboard (HTML)
//	GET  /_sandbox/deliveries              webhook delivery log (JSON, API key)
//	GET  /_sandbox/faults, PUT             fault settings (JSON, API key)
//	POST /_sandbox/payments/{id}/expire    expire now (API key)
//	POST /_sandbox/payments/{id}/complete  pay without a browser (API key)
//
// # Test cards
//
//	4242 4242 4242 4242  succeeds: completed, payment.succeeded, 303 to success_url
//	4000 0000 0000 0002  declined: 422 "Your card was declined", stays pending, retry on the page
//	4000 0000 0000 0077  stays pending: 303 to success_url with the payment still pending
//
// # Faults
//
// Set at startup (Config.Faults, or FaultsFromEnv reading SANDBOX_ + the
// JSON name in upper case) and at run time with PUT /_sandbox/faults, whose
// JSON fields are: latency, error_status, create_error_rate, create_errors,
// get_error_rate, get_errors, drop_connection_rate, drop_connections,
// lose_create_response_rate, lose_create_response, webhooks_disabled,
// webhook_delay, webhook_duplicate, webhook_reorder and seed. Durations are
// strings like "250ms"; counts fail the next N requests; rates are drawn
// from a generator seeded with seed, so a run can be replayed. See Faults.
//
// # Sandbox behaviour where Orchestrate documents nothing
//
// Amounts are accepted only as JSON numbers in major units, parsed from
// their text without floating point, and returned as strings ("19.99"),
// the form one of Orchestrate's examples uses, so a client must decode
// both. An Idempotency-Key reused with the same API key returns the earlier
// payment (201, Idempotent-Replayed: true) instead of creating another; the
// real API may not do this. Cancel on the hosted page makes the payment
// failed (payment.failed). A payment past expires_at expires by itself,
// found by a sweep about every second or on the next read, and sends
// payment.expired. Webhooks are retried with exponential backoff; events
// to one URL are sent one at a time in the order raised, unless faults say
// otherwise. Every response carries X-Request-Id.
package sandbox
