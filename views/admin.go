package views

// The merchant's admin. Every string here may hold a customer's or Orchestrate's
// text; the components print them escaped and never as raw HTML.

// Flash is a one-time message shown after a redirect (sync, re-process).
type Flash struct {
	Message string
	Tone    string // ok, warn or bad
}

// AdminSignInPage is the sign-in form.
type AdminSignInPage struct {
	Layout    Layout
	CSRFToken string
	Username  string // kept after a failure; the password never is
	Next      string // a local /admin path to go to afterwards
	Error     string
}

// Option is one choice of a select.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// AdminTotal is a count and sum in one currency, linking to the orders behind it.
type AdminTotal struct {
	Currency string
	Count    int64
	Amount   string
	Link     string
}

// AdminCount is a number of things, linking to the orders behind it.
type AdminCount struct {
	Label  string
	Status string // a CSS badge class
	Count  int64
	Link   string
}

// AdminOverviewPage is /admin.
type AdminOverviewPage struct {
	Layout       Layout
	TodayLabel   string
	WeekLabel    string
	Today        []AdminTotal
	Week         []AdminTotal
	ByStatus     []AdminCount
	Attention    []AdminCount // refund needed, oversold, stuck attempts
	Oversold     []AdminOversold
	LowStock     []AdminLowStock // sold out first
	LowStockAt   int             // the availability at or below which a product is listed
	OrdersLink   string
	WebhooksLink string
	GeneratedAt  string // the time the figures were read, in the store's time zone
}

// AdminOversold is an oversold order the overview names, with what it is short.
type AdminOversold struct {
	Number string
	URL    string
	Short  string // "1 × Enamel camp mug, 2 × Tea towel"
}

// AdminLowStock is a product running low on the overview.
type AdminLowStock struct {
	Name      string
	URL       string
	OnHand    int
	Held      int
	Available int
}

// AdminOrdersFilter is the filter form as the admin typed it.
type AdminOrdersFilter struct {
	Status    string
	Currency  string
	From      string // YYYY-MM-DD
	To        string // YYYY-MM-DD, inclusive
	PaidSince string
	Flag      string
	Query     string
	// Fulfilment is "", "to_ship" or "shipped".
	Fulfilment string
}

// AdminOrderRow is one line of the orders list.
type AdminOrderRow struct {
	URL          string
	Number       string
	Created      string
	Customer     string
	Email        string
	Status       string
	StatusLabel  string
	Total        string
	RefundNeeded bool
	Oversold     bool
	Short        string // what an oversold order is short: "1 × Enamel camp mug"
	Fulfilment   string // "to_ship", "shipped" or ""
}

// AdminOrdersPage is /admin/orders.
type AdminOrdersPage struct {
	Layout      Layout
	Filter      AdminOrdersFilter
	Statuses    []Option
	Currencies  []Option
	Flags       []Option
	Fulfilments []Option
	Orders      []AdminOrderRow
	TotalsURL   string // the totals of the filtered set, loaded after the page
	NextURL     string // older orders; empty on the last page
	PrevURL     string // newer orders; empty on the first page
	FirstURL    string // the newest orders with the same filter
	CSVURL      string
	Filtered    bool // any filter is set
}

// AdminTotals is the count and sum per currency of a filtered set of orders.
type AdminTotals struct {
	Totals  []AdminTotal
	ListURL string // the list they total
}

// AdminAttempt is one payment attempt on the order page.
type AdminAttempt struct {
	ID        string
	PaymentID string
	Status    string
	Link      string // Orchestrate's payment_link
	Created   string
	Expires   string
	Completed string
	Applied   bool
	Error     string
}

// AdminTimelineEntry is one line of an order's history.
type AdminTimelineEntry struct {
	At        string
	Kind      string // event, webhook or confirmation
	Title     string
	Actor     string // who did it, for the merchant's actions ("" for the app's)
	Detail    string
	PaymentID string
	Payload   string // a webhook's raw body, shown as text
	WebhookID string
}

// AdminOrderPage is /admin/orders/:id.
type AdminOrderPage struct {
	Layout       Layout
	Flash        Flash
	Number       string
	PublicURL    string // the shopper's page
	Status       string
	StatusLabel  string
	RefundNeeded bool
	Total        string
	Customer     string
	Email        string
	Shipping     Shipping
	Created      string
	Paid         string
	Items        []OrderItem
	Attempts     []AdminAttempt
	Timeline     []AdminTimelineEntry
	SyncURL      string
	CSRFToken    string
	Short        []string // each line an oversold order is short ("1 × Enamel camp mug")
	Actions      AdminOrderActions
}

// AdminDelivery is one row of the webhook inbox.
type AdminDelivery struct {
	ID           string
	Received     string
	EventID      string
	Type         string
	PaymentID    string
	OrderNumber  string
	OrderURL     string
	Processed    bool
	Result       string
	Outcome      string
	Error        string
	Payload      string
	ReprocessURL string // empty when the delivery names no payment
}

// AdminWebhooksPage is /admin/webhooks.
type AdminWebhooksPage struct {
	Layout     Layout
	Flash      Flash
	Type       string
	Result     string
	PaymentID  string
	Types      []Option
	Results    []Option
	Deliveries []AdminDelivery
	NextURL    string
	Here       string // this page's URL, to come back to after a re-process
	CSRFToken  string
}

// AdminOutgoingPage is /admin/outgoing-webhooks.
type AdminOutgoingPage struct {
	Layout    Layout
	Flash     Flash
	Enabled   bool   // a MERCHANT_WEBHOOK_URL is configured
	Schedule  string // when failed deliveries are retried, in words
	Webhooks  []AdminOutgoing
	NextURL   string
	CSRFToken string
}

// AdminOutgoing is one webhook sent (or to be sent) to the merchant's systems.
type AdminOutgoing struct {
	ID          string
	Type        string
	OrderNumber string
	OrderURL    string
	Created     string
	Status      string // pending, delivered or failed
	Attempts    int
	LastResult  string
	NextAttempt string
	Payload     string
	ResendURL   string
	Log         []AdminOutgoingAttempt
}

// AdminOutgoingAttempt is one delivery attempt.
type AdminOutgoingAttempt struct {
	At       string
	Result   string // "HTTP 200", or the error when no answer came
	OK       bool
	Duration string
	Response string
}
