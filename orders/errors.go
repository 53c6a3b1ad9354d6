// The sentinel errors every store in this package wraps.

package orders

import "errors"

// Sentinel errors returned by this package's stores. Callers match them with
// errors.Is; the handlers map each to one HTTP status in one table.
var (
	// ErrNotFound means the requested row does not exist (or is not visible to the
	// caller, such as another shopper's order).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a uniqueness rule was violated, such as a second open
	// payment attempt for one order.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the input broke a domain rule; the wrapping error says which.
	ErrInvalid = errors.New("invalid input")
	// ErrNotOffered means a product has no price in the currency asked for, so
	// the shop does not sell it in that currency.
	ErrNotOffered = errors.New("not sold in this currency")
	// ErrBusy means the work met contention it gave up waiting out (a product's
	// last units changing hands faster than a checkout could read them); nothing
	// was written, and trying again a moment later succeeds.
	ErrBusy = errors.New("busy; try again")
)
