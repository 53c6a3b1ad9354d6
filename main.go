// Command checkout is the Orchestrate reference checkout: a shop whose orders are
// paid on Orchestrate's hosted page and reconciled from its webhooks and API.
//
//	checkout            serve the shop (and, with no ORCHESTRATE_API_KEY, a local sandbox)
//	checkout sandbox    serve only the Orchestrate sandbox
//
// Configuration comes from the environment; see internal/app/config.go and the README.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/orchestrate-checkout/checkout/internal/app"
	"github.com/orchestrate-checkout/checkout/orchestrate/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "checkout:", err)
		os.Exit(1)
	}
}

// run loads the configuration, builds the app and serves until ctx is cancelled,
// then shuts down gracefully (app.App.Run).
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "sandbox" {
		return sandbox.Command(ctx, args[1:], getenv, stdout)
	}
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q (want no arguments, or \"sandbox\")", args[0])
	}
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		return err
	}
	a, err := app.New(ctx, cfg, app.WithLogOutput(stdout))
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}
