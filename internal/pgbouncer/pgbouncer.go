// Package pgbouncer runs a real PgBouncer (Debian's pgbouncer) in transaction
// pooling in front of a test PostgreSQL, as production runs one in front of the
// app: the tests that prove the app works through a pooler start it.
package pgbouncer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
)

// Options configure a PgBouncer.
type Options struct {
	PoolSize int // default_pool_size: server connections per database and user; 0 is 10
}

// Bouncer is a running PgBouncer.
type Bouncer struct {
	Addr    string // host:port it listens on
	LogPath string // its log (stderr)
	server  *url.URL
	cleanup []func() // run last first by Close
}

// Binary returns the pgbouncer executable's path, or "" when it is not installed.
func Binary() string {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/pgbouncer"); err == nil {
		return "/usr/sbin/pgbouncer"
	}
	return ""
}

// Start runs PgBouncer in transaction pooling in front of the server serverURL
// names (any of its databases can be reached through it, by the same user and
// password), waits until a query goes through it, and stops it when the test
// ends. Without pgbouncer installed the test is skipped, or fails under CI.
func Start(t testing.TB, serverURL string, o Options) *Bouncer {
	t.Helper()
	if Binary() == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("pgbouncer is not installed; CI requires it (.ci/run installs Debian's pgbouncer)")
		}
		t.Skip("pgbouncer is not installed (apt-get install pgbouncer)")
	}
	b, err := Run(serverURL, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// Run is Start outside a test (the benchmarks use it): it returns an error
// where Start fails or skips, and the caller stops the bouncer with Close.
func Run(serverURL string, o Options) (_ *Bouncer, err error) {
	bin := Binary()
	if bin == "" {
		return nil, errors.New("pgbouncer is not installed (apt-get install pgbouncer)")
	}
	if o.PoolSize == 0 {
		o.PoolSize = 10
	}
	server, err := url.Parse(serverURL)
	if err != nil {
		return nil, fmt.Errorf("pgbouncer: server URL: %w", err)
	}
	port, err := apptest.FreePort()
	if err != nil {
		return nil, err
	}
	// PgBouncer refuses to run as root; then it runs as nobody, which must
	// read its configuration.
	dir, err := os.MkdirTemp("", "pgbouncer-")
	if err != nil {
		return nil, err
	}
	b := &Bouncer{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), LogPath: filepath.Join(dir, "pgbouncer.log"), server: server}
	b.cleanup = append(b.cleanup, func() { os.RemoveAll(dir) })
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	host, serverPort := server.Hostname(), server.Port()
	if serverPort == "" {
		serverPort = "5432"
	}
	name := server.User.Username()
	password, _ := server.User.Password()
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits
admin_users = %s
`, host, serverPort, port, filepath.Join(dir, "users.txt"), o.PoolSize, name)
	users := fmt.Sprintf("%q %q\n", name, password)
	for file, text := range map[string]string{"pgbouncer.ini": ini, "users.txt": users} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	args := []string{filepath.Join(dir, "pgbouncer.ini")}
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("nobody"); err != nil {
			return nil, fmt.Errorf("pgbouncer must not run as root and there is no user nobody: %w", err)
		}
		args = append([]string{"-u", "nobody"}, args...)
	}
	logFile, err := os.Create(b.LogPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting pgbouncer: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }() //nolint:errcheck // its log says why
	b.cleanup = append(b.cleanup, func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill() //nolint:errcheck // it would not stop
			<-exited
		}
		logFile.Close()
	})
	if err := b.wait(exited); err != nil {
		log, _ := os.ReadFile(b.LogPath)
		return nil, fmt.Errorf("pgbouncer did not start: %w\n%s", err, log)
	}
	return b, nil
}

// Close stops the bouncer and removes its files; Start's cleanup calls it.
func (b *Bouncer) Close() {
	for i := len(b.cleanup) - 1; i >= 0; i-- {
		b.cleanup[i]()
	}
	b.cleanup = nil
}

// URL is the URL of database db on the server, reached through the bouncer.
func (b *Bouncer) URL(db string) string {
	u := *b.server
	u.Host = b.Addr
	u.Path = "/" + db
	return u.String()
}

// ServerPIDs returns the process ids of the PostgreSQL backends PgBouncer
// holds now (its admin console's SHOW SERVERS), so a test can tell a pooled
// session from a direct one in pg_stat_activity.
func (b *Bouncer) ServerPIDs(ctx context.Context) (map[int]bool, error) {
	cfg, err := pgx.ParseConfig(b.URL("pgbouncer"))
	if err != nil {
		return nil, err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol // the console speaks no other
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SHOW SERVERS")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	col := -1
	for i, f := range rows.FieldDescriptions() {
		if f.Name == "remote_pid" {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("pgbouncer: SHOW SERVERS has no remote_pid column")
	}
	pids := map[int]bool{}
	for rows.Next() {
		pid, err := strconv.Atoi(string(rows.RawValues()[col]))
		if err != nil {
			return nil, fmt.Errorf("pgbouncer: SHOW SERVERS: remote_pid: %w", err)
		}
		pids[pid] = true
	}
	return pids, rows.Err()
}

// Log returns what PgBouncer has logged so far.
func (b *Bouncer) Log() string {
	log, err := os.ReadFile(b.LogPath)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(log)
}

// wait tries a query through the bouncer until one succeeds, for up to 10 s.
func (b *Bouncer) wait(exited <-chan struct{}) error {
	db := strings.TrimPrefix(b.server.Path, "/")
	if db == "" {
		db = "postgres"
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		cfg, err := pgx.ParseConfig(b.URL(db))
		if err != nil {
			cancel()
			return err
		}
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			_, err = conn.Exec(ctx, "SELECT 1")
			conn.Close(ctx)
		}
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("the process exited (%v)", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return err
		}
	}
}
