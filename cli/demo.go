package cli

import (
	"context"
	"fmt"

	"github.com/mailoauth/mailoauth/engine"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
)

func runDemo(ctx context.Context, args []string, io IO) error {
	o, err := parseSetupFlags("demo", "Run the wizard against a built-in simulated Microsoft 365 tenant (no Microsoft account needed).", args, io, true)
	if err != nil {
		return err
	}
	// The demo approves the admin's sign-in itself (--auto-approve) rather
	// than the simulator approving every sign-in as one user: the login
	// test signs in as the mailbox user, which the demo plays separately.
	opts := sim.Options{Delays: sim.DemoDelays()}
	if o.demoNoDelay {
		opts.Delays = sim.Delays{}
	}
	s, err := sim.Start(opts)
	if err != nil {
		return fmt.Errorf("starting the simulated tenant: %w", err)
	}
	defer s.Close()
	c, err := simcloud.Cloud(s)
	if err != nil {
		return err
	}
	info := s.Info()
	fmt.Fprintf(io.Err, "Demo: a simulated Microsoft 365 tenant %q (%s) is running on 127.0.0.1.\n", info.TenantName, info.TenantID)
	fmt.Fprintf(io.Err, "Sign in as %s (the device-login page opens in your browser, or approve in the terminal).\n", engine.DemoAdmin)
	fmt.Fprintf(io.Err, "Use the mailbox %s; its demo password is filled in for the login test.\n\n", engine.DemoMailbox)
	return o.run(ctx, io, c, s)
}
