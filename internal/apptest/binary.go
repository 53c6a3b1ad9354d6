// Package apptest runs the real app binary for the tests and benchmarks that
// need a whole process: built once, started on a free loopback port against a
// database the caller chose, ready once /readyz answers 200, stopped with
// SIGTERM or killed with SIGKILL, and restarted on the same port and database.
//
// Binary and Instance return errors, for bench; Start and FreeAddr wrap them
// for tests.
package apptest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// mainPackage is the app's main package, built by import path so the build
// works from any directory of the module.
const mainPackage = "github.com/orchestrate-checkout/checkout"

// Binary is the app's executable, built on first use (as `make run` builds it)
// and shared by every instance started from it. The zero value is ready to use;
// Remove deletes the executable.
type Binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Path builds the binary on the first call and returns its path, or the error
// of that build on every call.
func (b *Binary) Path(ctx context.Context) (string, error) {
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "checkout-bin-")
		if b.err != nil {
			return
		}
		path := filepath.Join(b.dir, "checkout")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", path, mainPackage).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", mainPackage, err, out)
			return
		}
		b.path = path
	})
	return b.path, b.err
}

// Remove deletes the built binary, if any.
func (b *Binary) Remove() error {
	if b.dir == "" {
		return nil
	}
	return os.RemoveAll(b.dir)
}
