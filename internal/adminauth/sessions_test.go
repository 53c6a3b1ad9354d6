package adminauth_test

import (
	"context"
	"testing"

	"github.com/orchestrate-checkout/checkout/internal/adminauth"
	"github.com/orchestrate-checkout/checkout/internal/testdb"
)

func TestPruneExpiredSessions(t *testing.T) {
	db := testdb.New(t)
	ctx := context.Background()
	if _, err := db.Pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES
		('old', '', now() - interval '1 minute'), ('live', '', now() + interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	if err := adminauth.PruneExpiredSessions(ctx, db.Pool); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	rows, err := db.Pool.Query(ctx, `SELECT token FROM sessions ORDER BY token`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tok string
		if err := rows.Scan(&tok); err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	if len(tokens) != 1 || tokens[0] != "live" {
		t.Errorf("sessions left = %v, want [live]", tokens)
	}
}
