// Command mailoauth sets up OAuth2 mailbox access in Microsoft 365 for a
// business product: it registers and configures the Entra ID application
// through Microsoft Graph, proves a real mailbox login the way the product
// will log in, explains any failure with its fix, and writes the product's
// settings ready to paste. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mailoauth/mailoauth/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.StdIO())
	stop()
	os.Exit(code)
}
