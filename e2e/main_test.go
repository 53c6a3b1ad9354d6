package e2e

import (
	"os"
	"testing"

	"github.com/orchestrate-checkout/checkout/internal/apptest"
)

// appBinary is the app the tests start, built by the first of them.
var appBinary apptest.Binary

func TestMain(m *testing.M) {
	code := m.Run()
	vnu.stop()
	appBinary.Remove()
	os.Exit(code)
}
