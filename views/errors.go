package views

// ErrorPage is shown for 404, 500 and every other error a person can reach.
type ErrorPage struct {
	Layout  Layout
	Status  int
	Heading string
	Message string
	// RequestID lets a shopper quote the failing request to support.
	RequestID string
	// BackURL and BackLabel lead back to where the reader was: the shop or the admin.
	BackURL   string
	BackLabel string
}
