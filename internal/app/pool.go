package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// openPool connects to PostgreSQL, waiting up to 30 seconds for it to accept
// connections (a database started alongside the app may still be booting).
// tracer, when not nil, sees every statement.
func openPool(ctx context.Context, cfg *Config, tracer pgx.QueryTracer, logger *slog.Logger) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pcfg.MaxConns = cfg.DatabaseMaxConns
	if mode, ok := queryExecModes[cfg.DatabaseQueryExecMode]; ok {
		pcfg.ConnConfig.DefaultQueryExecMode = mode
	}
	pool, err := connect(ctx, pcfg, tracer, logger)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	return pool, nil
}

// directPoolMaxConns bounds the pool on DATABASE_DIRECT_URL: River's fetches,
// completions, leader election and its one LISTEN connection, and the
// migrations' lock, none of which holds a connection for long.
const directPoolMaxConns = 6

// openDirectPool connects to DATABASE_DIRECT_URL with pgx's default execution
// mode (a real session prepares statements fine), waiting like openPool.
func openDirectPool(ctx context.Context, cfg *Config, logger *slog.Logger) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseDirectURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_DIRECT_URL: %w", err)
	}
	pcfg.MaxConns = directPoolMaxConns
	pool, err := connect(ctx, pcfg, nil, logger)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_DIRECT_URL: %w", err)
	}
	return pool, nil
}

// readPoolMaxConns bounds the pool on DATABASE_READ_URL: the admin's totals
// and exports, a few merchants at a time.
const readPoolMaxConns = 4

// openReadPool prepares the pool on DATABASE_READ_URL, in DATABASE_URL's
// execution mode (a replica may sit behind a pooler too). It connects when
// first used and does not wait for the replica: while the replica cannot be
// reached, the reads go to the primary (orders.Orders.WithReadPool).
func openReadPool(ctx context.Context, cfg *Config) (*pgxpool.Pool, error) {
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseReadURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_READ_URL: %w", err)
	}
	pcfg.MaxConns = readPoolMaxConns
	// An unreachable replica costs a merchant's request this much, then the
	// primary answers.
	pcfg.ConnConfig.ConnectTimeout = 2 * time.Second
	if mode, ok := queryExecModes[cfg.DatabaseQueryExecMode]; ok {
		pcfg.ConnConfig.DefaultQueryExecMode = mode
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_READ_URL: %w", err)
	}
	return pool, nil
}

// queryExecModes are DATABASE_QUERY_EXEC_MODE's values, named as pgx names them
// in a connection string's default_query_exec_mode.
var queryExecModes = map[string]pgx.QueryExecMode{
	"cache_statement": pgx.QueryExecModeCacheStatement,
	"cache_describe":  pgx.QueryExecModeCacheDescribe,
	"describe_exec":   pgx.QueryExecModeDescribeExec,
	"exec":            pgx.QueryExecModeExec,
	"simple_protocol": pgx.QueryExecModeSimpleProtocol,
}

// connect opens a pool on pcfg and waits for the database to answer.
func connect(ctx context.Context, pcfg *pgxpool.Config, tracer pgx.QueryTracer, logger *slog.Logger) (*pgxpool.Pool, error) {
	if tracer != nil {
		pcfg.ConnConfig.Tracer = tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err = pool.Ping(pingCtx)
		cancel()
		if err == nil {
			return pool, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			pool.Close()
			return nil, fmt.Errorf("database %s:%d/%s is unreachable: %w", pcfg.ConnConfig.Host, pcfg.ConnConfig.Port, pcfg.ConnConfig.Database, err)
		}
		logger.Warn("waiting for the database", "host", pcfg.ConnConfig.Host, "port", pcfg.ConnConfig.Port, "error", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
