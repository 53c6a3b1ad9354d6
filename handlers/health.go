package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthz answers 200 while the process is alive; it touches nothing else, so a
// slow database never gets a healthy process restarted.
func (h *handler) healthz(c echo.Context) error {
	return c.JSONBlob(http.StatusOK, healthyBody)
}

// healthyBody is what c.JSON writes for {"status": "ok"}, encoded once: a probe
// hit many times a second need not run the JSON encoder.
var healthyBody = []byte(`{"status":"ok"}` + "\n")

// Readiness reports whether the app can serve: nil when the database answers and
// every migration is applied, ErrDraining once the instance is shutting down.
type Readiness interface {
	Ready(ctx context.Context) error
}

// ErrDraining is Readiness's answer while the instance drains before it stops.
var ErrDraining = errors.New("draining: shutting down")

// readyz answers 200 when the database is reachable and fully migrated, 503
// otherwise, so a load balancer sends no traffic to an instance that cannot serve
// (or is about to stop: the body then says "draining").
func (h *handler) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	err := h.deps.Readiness.Ready(ctx)
	if errors.Is(err, ErrDraining) {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "draining"})
	}
	if err != nil {
		logger(c).Warn("not ready", "error", err)
		// The reason is logged, not returned: it may name hosts and users.
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// MetricsHandler serves reg at GET (and HEAD) /metrics, and nothing else. main
// serves it on its own listener (METRICS_ADDR), never on the shop's: the figures
// are for the operator, not for shoppers.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}
