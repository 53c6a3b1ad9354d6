package handlers

import "time"

// now is the clock's time in the store's time zone.
func (h *handler) now() time.Time { return h.cfg.Clock.Now().In(h.cfg.Location) }

// adminTime formats a time for the admin: in the store's time zone, to the
// second, with the zone's abbreviation (EST, EDT, UTC) so a reader knows which.
func (h *handler) adminTime(t time.Time) string {
	return t.In(h.cfg.Location).Format("2006-01-02 15:04:05 MST")
}

func (h *handler) adminTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return h.adminTime(*t)
}
