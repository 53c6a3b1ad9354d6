// Prometheus metrics of reconciliation: confirmations, committed transitions and
// the age of the oldest attempt still waiting for its outcome.

package orders

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what reconciliation does, for Prometheus: confirmations by cause
// and outcome, applied transitions by subject and from → to, and the age of the
// oldest attempt still waiting for its outcome. Register it with a registry; a nil
// *Metrics counts nothing.
type Metrics struct {
	pool          *pgxpool.Pool
	logger        *slog.Logger
	confirmations *prometheus.CounterVec
	transitions   *prometheus.CounterVec
	oldestOpen    *prometheus.Desc
}

// NewMetrics returns the reconciliation metrics; pool answers the oldest open
// attempt's age at each scrape.
func NewMetrics(pool *pgxpool.Pool, logger *slog.Logger) *Metrics {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Metrics{
		pool:   pool,
		logger: logger,
		confirmations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payment_confirmations_total",
			Help: "Payments read back from Orchestrate and applied, by cause (webhook, sweep, return page, …) and outcome (applied, unchanged, unknown_payment, nothing_to_read, error).",
		}, []string{"cause", "outcome"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "order_transitions_total",
			Help: "Committed state transitions, by subject (order, attempt, flag) and from → to; the same rows as order_events.",
		}, []string{"subject", "from", "to"}),
		oldestOpen: prometheus.NewDesc("payment_attempt_oldest_open_seconds",
			"Age of the oldest payment attempt whose outcome is not known yet (creating, open or unknown); 0 when there is none.",
			nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	m.confirmations.Describe(ch)
	m.transitions.Describe(ch)
	ch <- m.oldestOpen
}

// Collect implements prometheus.Collector. The oldest open attempt is read at
// scrape time, bounded to a second; a failed read omits the gauge rather than
// report a wrong age.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.confirmations.Collect(ch)
	m.transitions.Collect(ch)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var age float64
	err := m.pool.QueryRow(ctx, `
		SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8
		FROM payment_attempts WHERE status IN ('creating', 'open', 'unknown')`).Scan(&age)
	if err != nil {
		m.logger.Warn("metrics: reading the oldest open attempt", "error", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(m.oldestOpen, prometheus.GaugeValue, age)
}

// confirmed counts one confirmation.
func (m *Metrics) confirmed(cause, outcome string) {
	if m == nil {
		return
	}
	m.confirmations.WithLabelValues(cause, outcome).Inc()
}

// committed counts the transitions of a transaction that committed.
func (m *Metrics) committed(events []Event) {
	if m == nil {
		return
	}
	for _, e := range events {
		from := ""
		if e.FromStatus != nil {
			from = *e.FromStatus
		}
		m.transitions.WithLabelValues(e.Subject, from, e.ToStatus).Inc()
	}
}
