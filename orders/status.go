// The state machines of orders and payment attempts: one table of allowed
// transitions each, from which the SQL takes its conditions (status =
// ANY(predecessors)), so the code and the database cannot disagree.

package orders

import "slices"

// Status is where an order stands. The allowed moves between statuses are written
// once, in orderTransitions, and every UPDATE of an order's status is conditioned on
// the predecessors that table allows, so a replayed or concurrent event is a no-op.
type Status string

// The statuses of an order.
const (
	// StatusAwaitingPayment: created at checkout; a payment may be open.
	StatusAwaitingPayment Status = "awaiting_payment"
	// StatusPaid: Orchestrate reports a completed payment of the right amount. Final.
	StatusPaid Status = "paid"
	// StatusFailed: the last payment failed; the shopper may pay again.
	StatusFailed Status = "failed"
	// StatusExpired: the last payment expired unpaid; the shopper may pay again.
	StatusExpired Status = "expired"
	// StatusNeedsReview: money arrived that does not match the order (amount or
	// currency); a person must look.
	StatusNeedsReview Status = "needs_review"
	// StatusCancelled: the merchant cancelled it before it was paid; no payment
	// can start. A payment already open that completes anyway still pays it.
	StatusCancelled Status = "cancelled"
)

// orderTransitions lists, for each status, the statuses it may move to. Paid is
// final: nothing leaves it. Money received wins: a failed, expired or cancelled
// order that Orchestrate later reports completed becomes paid (a cancelled one is
// then flagged for refund).
var orderTransitions = map[Status][]Status{
	StatusAwaitingPayment: {StatusPaid, StatusFailed, StatusExpired, StatusNeedsReview, StatusCancelled},
	StatusFailed:          {StatusAwaitingPayment, StatusPaid, StatusNeedsReview, StatusCancelled},
	StatusExpired:         {StatusAwaitingPayment, StatusPaid, StatusNeedsReview, StatusCancelled},
	StatusCancelled:       {StatusPaid, StatusNeedsReview},
	StatusNeedsReview:     {},
	StatusPaid:            {},
}

// CanBecome reports whether an order in status s may move to status to.
func (s Status) CanBecome(to Status) bool {
	return slices.Contains(orderTransitions[s], to)
}

// Payable reports whether the shopper may (re)start a payment for an order in s.
func (s Status) Payable() bool {
	return s == StatusAwaitingPayment || s == StatusFailed || s == StatusExpired
}

// Final reports whether no payment event can change an order in s any more.
func (s Status) Final() bool { return s == StatusPaid || s == StatusNeedsReview }

// Label is the status as a shopper or merchant reads it.
func (s Status) Label() string {
	switch s {
	case StatusAwaitingPayment:
		return "Awaiting payment"
	case StatusPaid:
		return "Paid"
	case StatusFailed:
		return "Payment failed"
	case StatusExpired:
		return "Payment expired"
	case StatusNeedsReview:
		return "Needs review"
	case StatusCancelled:
		return "Cancelled"
	}
	return string(s)
}

// predecessors returns the statuses from which an order may move to to, as text for
// a `status = ANY($n)` condition.
func predecessors(to Status) []string {
	var from []string
	for s, next := range orderTransitions {
		if slices.Contains(next, to) {
			from = append(from, string(s))
		}
	}
	slices.Sort(from)
	return from
}

// payableStatuses lists the statuses Payable reports, for SQL that must agree
// with it.
func payableStatuses() []string {
	var payable []string
	for s := range orderTransitions {
		if s.Payable() {
			payable = append(payable, string(s))
		}
	}
	slices.Sort(payable)
	return payable
}

// finalStatuses lists the statuses Final reports, for SQL that must agree with it.
func finalStatuses() []string {
	var final []string
	for s := range orderTransitions {
		if s.Final() {
			final = append(final, string(s))
		}
	}
	slices.Sort(final)
	return final
}

// AttemptStatus is where one payment attempt stands.
type AttemptStatus string

// The statuses of a payment attempt.
const (
	// AttemptCreating: the row exists and Orchestrate is being asked for a payment.
	AttemptCreating AttemptStatus = "creating"
	// AttemptOpen: Orchestrate created a pending payment; the shopper may pay it.
	AttemptOpen AttemptStatus = "open"
	// AttemptUnknown: the create may have reached Orchestrate but no answer came;
	// reconciliation looks the payment up by our metadata.
	AttemptUnknown AttemptStatus = "unknown"
	// AttemptCreateFailed: Orchestrate answered that it created nothing.
	AttemptCreateFailed AttemptStatus = "create_failed"
	// AttemptCompleted: the payment was collected. Final.
	AttemptCompleted AttemptStatus = "completed"
	// AttemptFailed: the payment failed.
	AttemptFailed AttemptStatus = "failed"
	// AttemptExpired: the payment expired unpaid.
	AttemptExpired AttemptStatus = "expired"
)

// attemptTransitions lists the moves an attempt may make. Completed is final; a
// failed or expired attempt Orchestrate later reports completed becomes completed.
var attemptTransitions = map[AttemptStatus][]AttemptStatus{
	AttemptCreating:     {AttemptOpen, AttemptUnknown, AttemptCreateFailed, AttemptCompleted, AttemptFailed, AttemptExpired},
	AttemptUnknown:      {AttemptOpen, AttemptCreateFailed, AttemptCompleted, AttemptFailed, AttemptExpired},
	AttemptOpen:         {AttemptCompleted, AttemptFailed, AttemptExpired},
	AttemptFailed:       {AttemptCompleted},
	AttemptExpired:      {AttemptCompleted},
	AttemptCreateFailed: {},
	AttemptCompleted:    {},
}

// CanBecome reports whether an attempt in status s may move to status to.
func (s AttemptStatus) CanBecome(to AttemptStatus) bool {
	return slices.Contains(attemptTransitions[s], to)
}

// Live reports whether the attempt's payment may still be paid or is not yet known.
func (s AttemptStatus) Live() bool {
	return s == AttemptCreating || s == AttemptOpen || s == AttemptUnknown
}

// attemptPredecessors is predecessors for attempts.
func attemptPredecessors(to AttemptStatus) []string {
	var from []string
	for s, next := range attemptTransitions {
		if slices.Contains(next, to) {
			from = append(from, string(s))
		}
	}
	slices.Sort(from)
	return from
}
