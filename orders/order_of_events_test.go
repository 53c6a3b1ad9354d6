package orders_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/orchestrate-checkout/checkout/orchestrate"
)

// permutations returns every ordering of s.
func permutations[T any](s []T) [][]T {
	if len(s) <= 1 {
		return [][]T{slices.Clone(s)}
	}
	var out [][]T
	for i := range s {
		rest := slices.Concat(s[:i:i], s[i+1:])
		for _, p := range permutations(rest) {
			out = append(out, append([]T{s[i]}, p...))
		}
	}
	return out
}

// TestEveryOrderOfEvents applies the payment states behind payment.created,
// .succeeded, .failed and .expired in all 24 orders, each delivered twice (once
// straight after itself and once again at the end), and checks what must hold
// whatever the order: paid is never left, money received wins, every status change
// wrote exactly one event and nothing else did, and a full replay changes nothing.
func TestEveryOrderOfEvents(t *testing.T) {
	states := []orchestrate.Status{orchestrate.StatusPending, orchestrate.StatusCompleted, orchestrate.StatusFailed, orchestrate.StatusExpired}
	for _, perm := range permutations(states) {
		var seq []orchestrate.Status
		for _, s := range perm {
			seq = append(seq, s, s) // an immediate duplicate
		}
		seq = append(seq, perm...) // and a late replay of every event
		name := fmt.Sprint(perm)
		t.Run(strings.Trim(name, "[]"), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := context.Background()
			id := f.attempt(t, "open")
			prevStatus, _, prevEvents := f.state(t)
			prevAttempt := f.attemptStatus(t, id)
			paidSeen := false
			for i, s := range seq {
				if _, err := f.payments.Apply(ctx, id, payment("pay_1", s, 1999, "USD"), "webhook", ""); err != nil {
					t.Fatalf("step %d (%s): %v", i, s, err)
				}
				status, _, events := f.state(t)
				attempt := f.attemptStatus(t, id)
				if paidSeen && status != "paid" {
					t.Fatalf("step %d (%s): order left paid for %s", i, s, status)
				}
				paidSeen = paidSeen || status == "paid"
				// One event per change, none for a no-op.
				want := 0
				if status != prevStatus {
					want++
				}
				if attempt != prevAttempt {
					want++
				}
				if got := len(events) - len(prevEvents); got != want {
					t.Fatalf("step %d (%s): %d new events %v for order %s→%s, attempt %s→%s",
						i, s, got, events[len(prevEvents):], prevStatus, status, prevAttempt, attempt)
				}
				prevStatus, prevEvents, prevAttempt = status, events, attempt
			}
			if prevStatus != "paid" || prevAttempt != "completed" {
				t.Errorf("after %v: order %s, attempt %s; a completed payment must win", seq, prevStatus, prevAttempt)
			}
			var paidEvents int
			for _, e := range prevEvents {
				if strings.HasSuffix(e, ">paid") {
					paidEvents++
				}
			}
			if paidEvents != 1 {
				t.Errorf("%d paid transitions in %v, want 1", paidEvents, prevEvents)
			}
		})
	}
}

// TestEveryOrderWithoutPayment: without a completed payment the order ends in the
// state of the first final payment state it heard of; it never goes back to
// awaiting payment by itself, and duplicates write nothing.
func TestEveryOrderWithoutPayment(t *testing.T) {
	states := []orchestrate.Status{orchestrate.StatusPending, orchestrate.StatusFailed, orchestrate.StatusExpired}
	for _, perm := range permutations(states) {
		t.Run(fmt.Sprint(perm), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			id := f.attempt(t, "open")
			first := ""
			for _, s := range slices.Concat(perm, perm) {
				if first == "" && s != orchestrate.StatusPending {
					first = string(s)
				}
				if _, err := f.payments.Apply(context.Background(), id, payment("pay_1", s, 1999, "USD"), "webhook", ""); err != nil {
					t.Fatal(err)
				}
			}
			status, _, events := f.state(t)
			if status != first {
				t.Errorf("order is %s after %v, want %s", status, perm, first)
			}
			if len(events) != 2 { // attempt open→first, order awaiting→first
				t.Errorf("events %v, want one for the attempt and one for the order", events)
			}
		})
	}
}

func (f *fixture) attemptStatus(t *testing.T, id string) string {
	t.Helper()
	var s string
	if err := f.pool.QueryRow(context.Background(), `SELECT status FROM payment_attempts WHERE id = $1`, id).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}
