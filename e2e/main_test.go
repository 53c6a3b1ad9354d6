package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// appBinary is the app built once for the whole package by TestMain.
var appBinary string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// runTests builds the app binary the tests start, exactly as `make run` builds it
// (`go build .` at the module root), runs the tests and removes the binary.
func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "checkout-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	appBinary = filepath.Join(dir, "checkout")
	build := exec.Command("go", "build", "-o", appBinary, ".")
	build.Dir = ".." // the module root, where main.go lives
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building the app:", err)
		return 1
	}
	defer vnu.stop()
	return m.Run()
}
