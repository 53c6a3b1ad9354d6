package orders

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOrderTransitions(t *testing.T) {
	all := []Status{StatusAwaitingPayment, StatusPaid, StatusFailed, StatusExpired, StatusNeedsReview, StatusCancelled}
	allowed := map[[2]Status]bool{
		{StatusAwaitingPayment, StatusPaid}:        true,
		{StatusAwaitingPayment, StatusFailed}:      true,
		{StatusAwaitingPayment, StatusExpired}:     true,
		{StatusAwaitingPayment, StatusNeedsReview}: true,
		{StatusFailed, StatusAwaitingPayment}:      true, // pay again
		{StatusFailed, StatusPaid}:                 true, // money received wins
		{StatusFailed, StatusNeedsReview}:          true,
		{StatusExpired, StatusAwaitingPayment}:     true,
		{StatusExpired, StatusPaid}:                true,
		{StatusExpired, StatusNeedsReview}:         true,
		{StatusAwaitingPayment, StatusCancelled}:   true, // the merchant cancels
		{StatusFailed, StatusCancelled}:            true,
		{StatusExpired, StatusCancelled}:           true,
		{StatusCancelled, StatusPaid}:              true, // money wins, flagged for refund
		{StatusCancelled, StatusNeedsReview}:       true,
	}
	for _, from := range all {
		for _, to := range all {
			if got, want := from.CanBecome(to), allowed[[2]Status{from, to}]; got != want {
				t.Errorf("%s → %s allowed = %v, want %v", from, to, got, want)
			}
		}
	}
	for _, to := range all {
		if StatusPaid.CanBecome(to) {
			t.Errorf("paid can become %s; paid must be final", to)
		}
	}
}

func TestPredecessors(t *testing.T) {
	tests := []struct {
		to   Status
		want []string
	}{
		{StatusPaid, []string{"awaiting_payment", "cancelled", "expired", "failed"}},
		{StatusAwaitingPayment, []string{"expired", "failed"}},
		{StatusFailed, []string{"awaiting_payment"}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, predecessors(tc.to)); diff != "" {
			t.Errorf("predecessors(%s) (-want +got):\n%s", tc.to, diff)
		}
	}
}

func TestAttemptTransitions(t *testing.T) {
	tests := []struct {
		from, to AttemptStatus
		want     bool
	}{
		{AttemptCreating, AttemptOpen, true},
		{AttemptCreating, AttemptUnknown, true},
		{AttemptUnknown, AttemptOpen, true},
		{AttemptOpen, AttemptCompleted, true},
		{AttemptOpen, AttemptCreating, false},
		{AttemptFailed, AttemptCompleted, true}, // money received wins
		{AttemptExpired, AttemptCompleted, true},
		{AttemptCompleted, AttemptFailed, false},
		{AttemptCompleted, AttemptExpired, false},
		{AttemptCompleted, AttemptOpen, false},
		{AttemptCreateFailed, AttemptOpen, false},
		{AttemptOpen, AttemptOpen, false},
	}
	for _, tc := range tests {
		if got := tc.from.CanBecome(tc.to); got != tc.want {
			t.Errorf("%s → %s = %v, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}

func TestStatusPredicates(t *testing.T) {
	tests := []struct {
		s              Status
		payable, final bool
	}{
		{StatusAwaitingPayment, true, false},
		{StatusFailed, true, false},
		{StatusExpired, true, false},
		{StatusPaid, false, true},
		{StatusNeedsReview, false, true},
	}
	for _, tc := range tests {
		if tc.s.Payable() != tc.payable || tc.s.Final() != tc.final {
			t.Errorf("%s: Payable %v Final %v, want %v %v", tc.s, tc.s.Payable(), tc.s.Final(), tc.payable, tc.final)
		}
	}
}
