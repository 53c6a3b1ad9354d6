// Package pgcluster runs a throwaway PostgreSQL server for tests that must stop
// and start the database under the app, which a shared server cannot allow.
//
// It needs PostgreSQL's server programs (initdb, pg_ctl), found on PATH or under
// /usr/lib/postgresql/*/bin. When they are missing the test is skipped, unless CI
// is set: there it fails. As root the server runs as the postgres user.
package pgcluster

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
)

// Cluster is one private PostgreSQL server.
type Cluster struct {
	bin  string // directory of initdb and pg_ctl
	dir  string // data directory (and socket directory)
	port int
	uid  *user.User // the user the server runs as, when not the current one
}

// New initialises a cluster in a temporary directory and starts it; it is
// stopped and removed when the test ends.
func New(t testing.TB) *Cluster {
	t.Helper()
	bin, err := findBin()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pgcluster: %v; CI requires PostgreSQL's server programs", err)
		}
		t.Skipf("pgcluster: %v", err)
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		if c.uid, err = user.Lookup("postgres"); err != nil {
			t.Fatalf("pgcluster: running as root needs the postgres user: %v", err)
		}
	}
	// Not t.TempDir: the postgres user must be able to reach the directory.
	root, err := os.MkdirTemp("", "pgcluster-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	c.dir = filepath.Join(root, "data")
	if c.uid != nil {
		uid, _ := strconv.Atoi(c.uid.Uid)
		gid, _ := strconv.Atoi(c.uid.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := c.command("initdb", "-D", c.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("pgcluster: initdb: %v\n%s", err, out)
	}
	if c.port, err = apptest.FreePort(); err != nil {
		t.Fatal(err)
	}
	c.Start(t)
	t.Cleanup(func() { _ = c.command("pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "stop").Run() })
	return c
}

// URL returns the connection URL of database name.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// Start starts the server and waits until it accepts connections.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -c port=%d -c unix_socket_directories=%s -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
		c.port, c.dir)
	if out, err := c.command("pg_ctl", "-D", c.dir, "-o", opts, "-l", filepath.Join(c.dir, "server.log"), "-w", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		t.Fatalf("pgcluster: start: %v\n%s\n%s", err, out, log)
	}
}

// Stop stops the server at once, dropping every connection, as a crash or a
// failover would.
func (c *Cluster) Stop(t testing.TB) {
	t.Helper()
	if out, err := c.command("pg_ctl", "-D", c.dir, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		t.Fatalf("pgcluster: stop: %v\n%s", err, out)
	}
}

func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.uid != nil {
		return exec.Command("runuser", append([]string{"-u", c.uid.Username, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		// A link on PATH (/usr/local/bin/initdb) leads to the directory that
		// also holds the other programs (pg_basebackup).
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs))) // the newest version first
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("initdb not found on PATH or under /usr/lib/postgresql/*/bin")
}

// Standby makes a hot standby of c with pg_basebackup, streaming from c, and
// starts it on a port of its own; it is stopped and removed when the test
// ends. Queries on it see c's commits once it has replayed them.
func (c *Cluster) Standby(t testing.TB) *Cluster {
	t.Helper()
	s := &Cluster{bin: c.bin, uid: c.uid, dir: c.dir + "-standby"}
	// -R writes primary_conninfo and standby.signal.
	if out, err := c.command("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(c.port), "-U", "postgres",
		"-D", s.dir, "-R", "-X", "stream", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("pgcluster: pg_basebackup: %v\n%s", err, out)
	}
	t.Cleanup(func() { os.RemoveAll(s.dir) })
	var err error
	if s.port, err = apptest.FreePort(); err != nil {
		t.Fatal(err)
	}
	s.Start(t)
	t.Cleanup(func() { _ = s.command("pg_ctl", "-D", s.dir, "-m", "immediate", "-w", "stop").Run() })
	return s
}
