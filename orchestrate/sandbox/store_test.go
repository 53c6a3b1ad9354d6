package sandbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// storeImpls opens a fresh, empty store of each implementation.
var storeImpls = []struct {
	name string
	open func(t *testing.T) Store
}{
	{"memory", func(*testing.T) Store { return NewMemoryStore() }},
	{"postgres", func(t *testing.T) Store {
		s, err := NewPostgresStore(context.Background(), testDatabase(t))
		if err != nil {
			t.Fatalf("NewPostgresStore: %v", err)
		}
		return s
	}},
}

// testPayment returns a pending payment created at created.
func testPayment(created time.Time) payment {
	mcc := 6012
	return payment{
		ID:          newUUID(),
		KeyScope:    "scope-a",
		RequestHash: "hash",
		Status:      statusPending,
		AmountMinor: 1999,
		Currency:    "EUR",
		MCC:         &mcc,
		Description: "order 1",
		Metadata:    map[string]string{"order_id": "o-1"},
		Customer:    customer{ID: newUUID(), Name: "Ann", Email: "ann@example.com"},
		SuccessURL:  "https://shop.example/ok",
		CancelURL:   "https://shop.example/cancel",
		CreatedAt:   created,
		UpdatedAt:   created,
		ExpiresAt:   created.Add(time.Hour),
	}
}

func testDelivery(paymentID string, body string) delivery {
	t := now()
	return delivery{
		ID:            randomID("dlv_"),
		EventID:       randomID("evt_"),
		EventType:     eventCreated,
		PaymentID:     paymentID,
		URL:           "http://hooks.example/a",
		Body:          []byte(body),
		Status:        deliveryPending,
		NextAttemptAt: t,
		CreatedAt:     t,
	}
}

func TestStore(t *testing.T) {
	ctx := context.Background()
	for _, impl := range storeImpls {
		t.Run(impl.name, func(t *testing.T) {
			t.Run("create and get", func(t *testing.T) {
				s := impl.open(t)
				p := testPayment(now())
				got, created, err := s.createPayment(ctx, p, nil)
				if err != nil || !created {
					t.Fatalf("createPayment = %v, %v", created, err)
				}
				if diff := cmp.Diff(p, got); diff != "" {
					t.Errorf("createPayment result (-want +got):\n%s", diff)
				}
				read, err := s.getPayment(ctx, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(p, read); diff != "" {
					t.Errorf("getPayment (-want +got):\n%s", diff)
				}
				if _, err := s.getPayment(ctx, newUUID()); !errors.Is(err, errNotFound) {
					t.Errorf("getPayment(unknown) error = %v, want errNotFound", err)
				}
			})

			t.Run("idempotency key", func(t *testing.T) {
				s := impl.open(t)
				first := testPayment(now())
				first.IdempotencyKey = "key-1"
				if _, created, err := s.createPayment(ctx, first, []delivery{testDelivery(first.ID, `{}`)}); err != nil || !created {
					t.Fatalf("first create = %v, %v", created, err)
				}
				again := testPayment(now())
				again.IdempotencyKey = "key-1"
				got, created, err := s.createPayment(ctx, again, []delivery{testDelivery(again.ID, `{}`)})
				if err != nil || created || got.ID != first.ID {
					t.Errorf("same key: created %v, id %s, err %v; want the first payment %s", created, got.ID, err, first.ID)
				}
				otherScope := testPayment(now())
				otherScope.IdempotencyKey, otherScope.KeyScope = "key-1", "scope-b"
				if _, created, err := s.createPayment(ctx, otherScope, nil); err != nil || !created {
					t.Errorf("same key, other API key: created %v, err %v; want a new payment", created, err)
				}
				ds, err := s.pendingDeliveries(ctx)
				if err != nil || len(ds) != 1 || ds[0].PaymentID != first.ID {
					t.Errorf("deliveries = %d (err %v), want only the first payment's", len(ds), err)
				}
			})

			t.Run("concurrent creates with one key", func(t *testing.T) {
				s := impl.open(t)
				const n = 10
				ids := make([]string, n)
				made := make([]bool, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						p := testPayment(now())
						p.IdempotencyKey = "race"
						got, created, err := s.createPayment(ctx, p, nil)
						if err != nil {
							t.Errorf("createPayment: %v", err)
						}
						ids[i], made[i] = got.ID, created
					})
				}
				wg.Wait()
				createdCount := 0
				for i := range n {
					if made[i] {
						createdCount++
					}
					if ids[i] != ids[0] {
						t.Errorf("create %d returned %s, create 0 returned %s", i, ids[i], ids[0])
					}
				}
				if createdCount != 1 {
					t.Errorf("%d creates reported created, want exactly 1", createdCount)
				}
			})

			t.Run("list newest first", func(t *testing.T) {
				s := impl.open(t)
				var ids []string
				start := now()
				for i := range 5 {
					p := testPayment(start) // same timestamp: order must not depend on it
					p.Description = fmt.Sprint(i)
					if _, _, err := s.createPayment(ctx, p, nil); err != nil {
						t.Fatal(err)
					}
					ids = append([]string{p.ID}, ids...)
				}
				for _, tt := range []struct{ offset, limit int }{{0, 10}, {0, 2}, {2, 2}, {4, 2}, {5, 2}} {
					got, total, err := s.listPayments(ctx, tt.offset, tt.limit)
					if err != nil || total != 5 {
						t.Fatalf("listPayments(%d, %d): total %d, err %v", tt.offset, tt.limit, total, err)
					}
					var gotIDs []string
					for _, p := range got {
						gotIDs = append(gotIDs, p.ID)
					}
					want := ids[min(tt.offset, 5):min(tt.offset+tt.limit, 5)]
					if diff := cmp.Diff(want, gotIDs, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("listPayments(%d, %d) (-want +got):\n%s", tt.offset, tt.limit, diff)
					}
				}
			})

			t.Run("conditional update", func(t *testing.T) {
				s := impl.open(t)
				p := testPayment(now())
				if _, _, err := s.createPayment(ctx, p, nil); err != nil {
					t.Fatal(err)
				}
				paid := p.clone()
				paid.Status = statusCompleted
				at := now()
				paid.CompletedAt = &at
				paid.PaymentMethod = &paymentMethod{Type: "card", Last4: "4242"}
				if err := s.updatePayment(ctx, paid, statusPending, []delivery{testDelivery(p.ID, `{"n":1}`)}); err != nil {
					t.Fatalf("first update: %v", err)
				}
				failed := p.clone()
				failed.Status = statusFailed
				if err := s.updatePayment(ctx, failed, statusPending, []delivery{testDelivery(p.ID, `{"n":2}`)}); !errors.Is(err, errConflict) {
					t.Errorf("second update from pending = %v, want errConflict", err)
				}
				ghost := testPayment(now())
				if err := s.updatePayment(ctx, ghost, statusPending, nil); !errors.Is(err, errNotFound) {
					t.Errorf("update of unknown payment = %v, want errNotFound", err)
				}
				got, _ := s.getPayment(ctx, p.ID)
				if diff := cmp.Diff(paid, got); diff != "" {
					t.Errorf("stored payment (-want +got):\n%s", diff)
				}
				ds, _ := s.pendingDeliveries(ctx)
				if len(ds) != 1 || string(ds[0].Body) != `{"n":1}` {
					t.Errorf("deliveries = %+v, want only the winning update's", ds)
				}
			})

			t.Run("due payments", func(t *testing.T) {
				s := impl.open(t)
				t0 := now()
				overdue := testPayment(t0.Add(-2 * time.Hour)) // expired an hour ago
				justDue := testPayment(t0.Add(-time.Hour))     // expires now
				future := testPayment(t0)                      // an hour left
				done := testPayment(t0.Add(-2 * time.Hour))    // overdue but completed
				done.Status = statusCompleted
				for _, p := range []payment{justDue, future, done, overdue} {
					if _, _, err := s.createPayment(ctx, p, nil); err != nil {
						t.Fatal(err)
					}
				}
				got, err := s.duePayments(ctx, t0, 10)
				if err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, p := range got {
					ids = append(ids, p.ID)
				}
				if diff := cmp.Diff([]string{overdue.ID, justDue.ID}, ids); diff != "" {
					t.Errorf("duePayments (-want +got):\n%s", diff)
				}
				if got, _ := s.duePayments(ctx, t0, 1); len(got) != 1 || got[0].ID != overdue.ID {
					t.Errorf("duePayments with limit 1 = %d payments, want the most overdue", len(got))
				}
			})

			t.Run("deliveries", func(t *testing.T) {
				s := impl.open(t)
				a := testDelivery("p1", `{"id":"evt_a", "spacing":  "kept"}`)
				b := testDelivery("p1", `{"id":"evt_b"}`)
				c := testDelivery("p2", `{"id":"evt_c"}`)
				if err := s.addDeliveries(ctx, []delivery{a, b}); err != nil {
					t.Fatal(err)
				}
				if err := s.addDeliveries(ctx, []delivery{c}); err != nil {
					t.Fatal(err)
				}
				pending, err := s.pendingDeliveries(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var order []string
				for _, d := range pending {
					order = append(order, d.ID)
				}
				if diff := cmp.Diff([]string{a.ID, b.ID, c.ID}, order); diff != "" {
					t.Errorf("pending order (-want +got):\n%s", diff)
				}
				if !(pending[0].Seq < pending[1].Seq && pending[1].Seq < pending[2].Seq) {
					t.Errorf("seq not increasing: %d %d %d", pending[0].Seq, pending[1].Seq, pending[2].Seq)
				}

				b.Status = deliveryDelivered
				b.Attempts = []attempt{{At: now(), StatusCode: 200, Duration: 3 * time.Millisecond}}
				if err := s.updateDelivery(ctx, b); err != nil {
					t.Fatal(err)
				}
				got, err := s.getDelivery(ctx, b.ID)
				if err != nil {
					t.Fatal(err)
				}
				b.Seq = got.Seq
				if diff := cmp.Diff(b, got); diff != "" {
					t.Errorf("getDelivery after update (-want +got):\n%s", diff)
				}
				gotA, _ := s.getDelivery(ctx, a.ID)
				if string(gotA.Body) != string(a.Body) {
					t.Errorf("body changed in storage: %s", gotA.Body)
				}
				pending, _ = s.pendingDeliveries(ctx)
				if len(pending) != 2 {
					t.Errorf("pending after delivering one = %d, want 2", len(pending))
				}
				list, err := s.listDeliveries(ctx, 2)
				if err != nil || len(list) != 2 || list[0].ID != c.ID || list[1].ID != b.ID {
					t.Errorf("listDeliveries(2) = %d items (err %v), want c then b", len(list), err)
				}
				if _, err := s.getDelivery(ctx, "dlv_none"); !errors.Is(err, errNotFound) {
					t.Errorf("getDelivery(unknown) = %v, want errNotFound", err)
				}
				if err := s.updateDelivery(ctx, testDelivery("p", "{}")); !errors.Is(err, errNotFound) {
					t.Errorf("updateDelivery(unknown) = %v, want errNotFound", err)
				}
			})
		})
	}
}

func TestNewPostgresStoreConcurrentStartup(t *testing.T) {
	pool := testDatabase(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := NewPostgresStore(context.Background(), pool); err != nil {
				t.Errorf("NewPostgresStore: %v", err)
			}
		})
	}
	wg.Wait()
	var tables int
	err := pool.QueryRow(context.Background(),
		`SELECT count(*) FROM information_schema.tables WHERE table_schema = 'orchestrate_sandbox'`).Scan(&tables)
	if err != nil || tables != 2 {
		t.Errorf("tables in orchestrate_sandbox = %d (err %v), want 2", tables, err)
	}
}
