package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// senders are B5's concurrency levels (requests in flight, closed loop).
var senders = []int{1, 8, 32}

// eventBody is a payment.succeeded delivery shaped like the sandbox's.
func eventBody(n uint64, run string) []byte {
	return []byte(`{"id":"evt_` + run + `_` + strconv.FormatUint(n, 10) + `","api_version":"2024-06-01","type":"payment.succeeded",` +
		`"created_at":"2026-01-01T00:00:00Z","payload":{"id":"pay_` + run + `_` + strconv.FormatUint(n, 10) + `","status":"succeeded",` +
		`"amount":4200,"currency":"USD","metadata":{"order_id":"1","order_number":"FK-100001","attempt_id":"00000000-0000-4000-8000-000000000000"}}}`)
}

var runSeq atomic.Uint64

// webhookTargeter sends signed deliveries to url. Of every `every` deliveries the
// first is a new event and the rest repeat it (every = 1: all unique; 20: 95%
// duplicates). Event ids are unique per targeter, so runs never collide.
func webhookTargeter(urls []string, every uint64) vegeta.Targeter {
	run := strconv.FormatInt(time.Now().UnixNano(), 36) + strconv.FormatUint(runSeq.Add(1), 10)
	var n atomic.Uint64
	return func(t *vegeta.Target) error {
		i := n.Add(1) - 1
		body := eventBody(i/every, run)
		t.Method = http.MethodPost
		t.URL = urls[i%uint64(len(urls))]
		t.Body = body
		t.Header = http.Header{
			"Content-Type":              {"application/json"},
			"User-Agent":                {"Orchestrate-Webhooks/1.0"},
			orchestrate.SignatureHeader: {"sha256=" + orchestrate.Sign(body, webhookSecret)},
		}
		return nil
	}
}

// webhookScript is the SQL POST /webhooks/orchestrate runs for a new event, as
// orders.Inbox.Receive and River's InsertTx issue it (captured with a pgx
// tracer): the inbox insert, River's unique job insert and its insert
// notification, in one transaction, with random keys.
const webhookScript = `\set k random(1, 9000000000000000000)
BEGIN;
INSERT INTO webhook_events (dedup_key, event_id, event_type, payment_id, raw_body, headers, result, error, processed_at)
VALUES ('event:' || 'evt_pgb_' || CAST(:k AS text) || '_' || CAST(:client_id AS text), 'evt_pgb_' || CAST(:k AS text), 'payment.succeeded', 'pay_pgb_' || CAST(:k AS text),
  convert_to('{"id":"evt_pgb_' || CAST(:k AS text) || '","api_version":"2024-06-01","type":"payment.succeeded","created_at":"2026-01-01T00:00:00Z","payload":{"id":"pay_pgb_' || CAST(:k AS text) || '","status":"succeeded","amount":4200,"currency":"USD","metadata":{"order_id":"1","order_number":"FK-100001","attempt_id":"00000000-0000-4000-8000-000000000000"}}}', 'UTF8'),
  '{"Content-Type":"application/json","User-Agent":"Orchestrate-Webhooks/1.0","X-Webhook-Signature":"sha256=0000000000000000000000000000000000000000000000000000000000000000"}'::jsonb,
  NULL, NULL, CASE WHEN NULL::text IS NULL THEN NULL ELSE now() END)
ON CONFLICT (dedup_key) DO NOTHING
RETURNING id;
WITH raw_job_data AS (
    SELECT
        unnest(ARRAY[0]::bigint[]) AS id,
        unnest(ARRAY[('{"payment_id":"pay_pgb_' || CAST(:k AS text) || '_' || CAST(:client_id AS text) || '"}')::jsonb]) AS args,
        unnest(ARRAY[now()]::timestamptz[]) AS created_at,
        unnest(ARRAY['confirm_payment']::text[]) AS kind,
        unnest(ARRAY[20]::smallint[]) AS max_attempts,
        unnest(ARRAY['{}'::jsonb]) AS metadata,
        unnest(ARRAY[1]::smallint[]) AS priority,
        unnest(ARRAY['default']::text[]) AS queue,
        unnest(ARRAY[now()]::timestamptz[]) AS scheduled_at,
        unnest(ARRAY['available']::text[]) AS state,
        unnest(ARRAY['']::text[]) AS tags,
        unnest(ARRAY[sha256(convert_to('pay_pgb_' || CAST(:k AS text) || '_' || CAST(:client_id AS text), 'UTF8'))]::bytea[]) AS unique_key,
        unnest(ARRAY[241]::integer[]) AS unique_states
)
INSERT INTO river_job(id, args, created_at, kind, max_attempts, metadata, priority, queue, scheduled_at, state, tags, unique_key, unique_states)
SELECT
    coalesce(nullif(id, 0), nextval('river_job_id_seq'::regclass)), args,
    coalesce(nullif(created_at, '0001-01-01 00:00:00 +0000'), now()) AS created_at,
    kind, max_attempts, coalesce(metadata, '{}'::jsonb) AS metadata, priority, queue,
    coalesce(nullif(scheduled_at, '0001-01-01 00:00:00 +0000'), now()) AS scheduled_at,
    state::river_job_state, string_to_array(tags, ',')::varchar(255)[],
    nullif(unique_key, '')::bytea, nullif(unique_states::integer, 0)::bit(8)
FROM raw_job_data
ON CONFLICT (unique_key)
    WHERE unique_key IS NOT NULL AND unique_states IS NOT NULL AND river_job_state_in_bitmask(unique_states, state)
    DO UPDATE SET kind = river_job.kind
RETURNING river_job.id, river_job.args, river_job.attempt, river_job.attempted_at, river_job.attempted_by, river_job.created_at, river_job.errors, river_job.finalized_at, river_job.kind, river_job.max_attempts, river_job.metadata, river_job.priority, river_job.queue, river_job.state, river_job.scheduled_at, river_job.tags, river_job.unique_key, river_job.unique_states,
    (xmax != 0) AS unique_skipped_as_duplicate;
WITH topic_to_notify AS (
    SELECT concat(coalesce(NULL::text, current_schema()), '.', 'river_insert'::text) AS topic,
           unnest(ARRAY['{"queue": "default"}']::text[]) AS payload
)
SELECT pg_notify(topic_to_notify.topic, topic_to_notify.payload) FROM topic_to_notify;
COMMIT;
`

// webhookLoad is the median closed-loop throughput and p50 of deliveries to urls
// with n senders.
func (e *env) webhookLoad(ctx context.Context, urls []string, n int, every uint64) (rps float64, p50 time.Duration, err error) {
	closedLoop(ctx, webhookTargeter(urls, every), n, e.opts.dur/4) // warm-up
	var rs, ps []float64
	for range e.opts.runs {
		s := closedLoop(ctx, webhookTargeter(urls, every), n, e.opts.dur)
		if err := s.check(fmt.Sprintf("webhooks, %d senders", n)); err != nil {
			return 0, 0, err
		}
		rs = append(rs, s.RPS)
		ps = append(ps, float64(s.P50))
	}
	return median(rs), time.Duration(median(ps)), nil
}

func runB5(ctx context.Context, e *env) ([]Row, error) {
	a, err := e.baseApp(ctx)
	if err != nil {
		return nil, err
	}
	url := a.URL + "/webhooks/orchestrate"
	e.b5 = map[int]float64{}
	var rows []Row
	for _, n := range senders {
		rps, p50, err := e.webhookLoad(ctx, []string{url}, n, 1)
		if err != nil {
			return nil, err
		}
		pg, err := e.pgbenchMedian(ctx, webhookScript, n)
		if err != nil {
			return nil, err
		}
		e.b5[n] = rps
		ratio := rps / pg.TPS
		e.logf("  %2d senders: app %.0f req/s p50 %s; pgbench %.0f tps, latency %s", n, rps, ms(p50), pg.TPS, ms(pg.Latency))
		row := Row{
			ID: "B5", What: fmt.Sprintf("webhook ack, unique events, %d sender(s)", n),
			Figure:   fmt.Sprintf("%.0f req/s; p50 %s", rps, ms(p50)),
			Baseline: fmt.Sprintf("%.0f tps; avg %s (pgbench, endpoint's SQL, %d clients)", pg.TPS, ms(pg.Latency), n),
			Ratio:    fmt.Sprintf("%.2f×", ratio),
			Target:   "≥ 0.70×",
			Verdict:  verdict(ratio >= 0.70),
		}
		if n == 1 {
			overhead := p50 - pg.Latency
			row.Ratio += fmt.Sprintf("; p50 overhead %s", ms(overhead))
			row.Target = "≥ 0.70×; p50 overhead ≤ 0.5 ms"
			row.Verdict = verdict(ratio >= 0.70 && overhead <= 500*time.Microsecond)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// b6Senders is the concurrency of the duplicate storm, compared with B5 at the same.
const b6Senders = 8

func runB6(ctx context.Context, e *env) ([]Row, error) {
	a, err := e.baseApp(ctx)
	if err != nil {
		return nil, err
	}
	url := a.URL + "/webhooks/orchestrate"
	base, ok := e.b5[b6Senders]
	note := "B5's figure"
	if !ok {
		if base, _, err = e.webhookLoad(ctx, []string{url}, b6Senders, 1); err != nil {
			return nil, err
		}
		note = "B5 measured here"
	}
	rps, _, err := e.webhookLoad(ctx, []string{url}, b6Senders, 20)
	if err != nil {
		return nil, err
	}
	ratio := rps / base
	e.logf("  95%% duplicates: %.0f req/s vs unique %.0f req/s", rps, base)
	return []Row{{
		ID: "B6", What: fmt.Sprintf("webhook storm, 95%% duplicates, %d senders", b6Senders),
		Figure: fmt.Sprintf("%.0f req/s", rps), Baseline: fmt.Sprintf("%.0f req/s (unique events, %s)", base, note),
		Ratio: fmt.Sprintf("%.2f×", ratio), Target: "≥ 1.0×", Verdict: verdict(ratio >= 1.0),
	}}, nil
}
