package sandbox

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPlan(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	d := func(id string, seq int64, url, payment string, due time.Duration, held bool) delivery {
		return delivery{ID: id, Seq: seq, URL: url, PaymentID: payment, NextAttemptAt: t0.Add(due), Held: held, Status: deliveryPending}
	}
	tests := []struct {
		name     string
		pending  []delivery
		busy     map[string]bool
		want     map[string][]string // URL → delivery ids in order
		wantNext time.Duration       // after t0; -1 means none
	}{
		{
			name:     "nothing pending",
			want:     map[string][]string{},
			wantNext: -1,
		},
		{
			name: "due ones in the order raised, per URL",
			pending: []delivery{
				d("a1", 1, "A", "p1", 0, false),
				d("b1", 2, "B", "p1", 0, false),
				d("a2", 3, "A", "p2", -time.Second, false),
				d("a3", 4, "A", "p2", 0, false),
			},
			want:     map[string][]string{"A": {"a2", "a1", "a3"}, "B": {"b1"}},
			wantNext: -1,
		},
		{
			name: "future ones wait and set the next wake-up",
			pending: []delivery{
				d("a1", 1, "A", "p1", 3*time.Second, false),
				d("a2", 2, "A", "p1", time.Second, false),
				d("b1", 3, "B", "p1", 0, false),
			},
			want:     map[string][]string{"B": {"b1"}},
			wantNext: time.Second,
		},
		{
			name: "busy URL skipped",
			pending: []delivery{
				d("a1", 1, "A", "p1", 0, false),
				d("b1", 2, "B", "p1", 0, false),
			},
			busy:     map[string]bool{"A": true},
			want:     map[string][]string{"B": {"b1"}},
			wantNext: -1,
		},
		{
			name: "held group waits for its newest",
			pending: []delivery{
				d("a1", 1, "A", "p1", -time.Second, true),
				d("a2", 2, "A", "p1", 2*time.Second, true),
			},
			want:     map[string][]string{},
			wantNext: 2 * time.Second,
		},
		{
			name: "held group released newest first, in place",
			pending: []delivery{
				d("x", 1, "A", "p0", -3*time.Second, false),
				d("a1", 2, "A", "p1", -2*time.Second, true),
				d("a2", 3, "A", "p1", -time.Second, true),
				d("a3", 4, "A", "p1", -time.Second, true),
				d("y", 5, "A", "p2", 0, false),
				d("b1", 6, "B", "p1", -time.Second, true),
			},
			want:     map[string][]string{"A": {"x", "a3", "a2", "a1", "y"}, "B": {"b1"}},
			wantNext: -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			queues, next := plan(tt.pending, t0, tt.busy)
			got := map[string][]string{}
			for url, q := range queues {
				for _, d := range q {
					got[url] = append(got[url], d.ID)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("queues (-want +got):\n%s", diff)
			}
			wantNext := time.Time{}
			if tt.wantNext >= 0 {
				wantNext = t0.Add(tt.wantNext)
			}
			if !next.Equal(wantNext) {
				t.Errorf("next = %v, want %v", next, wantNext)
			}
		})
	}
}

func TestBackoffDoubles(t *testing.T) {
	s := &Server{cfg: Config{WebhookRetryBase: time.Second}}
	var got []time.Duration
	for n := 1; n <= 8; n++ {
		got = append(got, s.backoff(n))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 64, 128}
	for i := range want {
		want[i] *= time.Second
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
	if got := s.backoff(40); got != maxBackoff {
		t.Errorf("backoff(40) = %v, want the cap %v", got, maxBackoff)
	}
}
