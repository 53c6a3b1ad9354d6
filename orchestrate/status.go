package orchestrate

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Status is the state of a payment as Orchestrate reports it.
//
// A status this package does not know (say "refunded", if Orchestrate adds
// one) is kept verbatim rather than rejected, so a payment is never lost to a
// decode error; check Known before acting on it.
type Status string

// The documented payment statuses (quickstart "Payment status").
const (
	StatusPending   Status = "pending"
	StatusCompleted Status = "completed"
	StatusExpired   Status = "expired"
	StatusFailed    Status = "failed"
)

// ParseStatus maps s to a Status. It ignores case and surrounding whitespace
// for the documented values and treats "succeeded" as StatusCompleted,
// because one Orchestrate page uses that word where the others say
// "completed" (API.md). Any other value is returned unchanged, so Known
// reports false for it. ParseStatus never fails.
func ParseStatus(s string) Status {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "pending":
		return StatusPending
	case "completed", "succeeded":
		return StatusCompleted
	case "expired":
		return StatusExpired
	case "failed":
		return StatusFailed
	default:
		return Status(s)
	}
}

// Known reports whether s is one of the four documented statuses.
func (s Status) Known() bool {
	switch s {
	case StatusPending, StatusCompleted, StatusExpired, StatusFailed:
		return true
	default:
		return false
	}
}

// Final reports whether s is a documented terminal status (completed, expired
// or failed), after which Orchestrate will not change the payment again.
// Pending and unknown statuses are not final: a caller that meets an unknown
// status should keep the payment under review rather than settle it.
func (s Status) Final() bool {
	switch s {
	case StatusCompleted, StatusExpired, StatusFailed:
		return true
	default:
		return false
	}
}

// UnmarshalJSON decodes a JSON string with ParseStatus; null leaves the empty
// Status. It returns an error only when the value is not a string or null.
func (s *Status) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = ""
		return nil
	}
	var raw string
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("orchestrate: status must be a string: %w", err)
	}
	*s = ParseStatus(raw)
	return nil
}
