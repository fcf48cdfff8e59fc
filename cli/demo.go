package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mailoauth/mailoauth/engine"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
)

const demoExamples = `  # The wizard on a simulated tenant: no Microsoft account needed
  mailoauth demo

  # A demo that runs by itself, for a screen recording or a smoke test
  mailoauth demo --auto-approve admin@contoso.onmicrosoft.com --no-delay --product agiloft --mailboxes helpdesk@contoso.com --yes`

func newCmdDemo(io IO, runF func(context.Context, *setupOptions) error) *cobra.Command {
	o := &setupOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the same wizard against a built-in simulated tenant (no Microsoft account needed)",
		Long: "Run the wizard against a simulated Microsoft 365 tenant started in this process on 127.0.0.1: the same\n" +
			"sign-in, Graph calls, Exchange Online and mail logins as a real run, with demo users and passwords.",
		Example: demoExamples,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return demoRun(cmd.Context(), o)
		},
	}
	o.registerCommon(cmd)
	fs := cmd.Flags()
	stringFlag(fs, &o.demoAutoApprove, "auto-approve", "USER", "approve every sign-in as USER (a seeded UPN, e.g. "+engine.DemoAdmin+"), for unattended demos", nil)
	boolFlag(fs, &o.demoNoDelay, "no-delay", false, "no simulated replication delay")
	return cmd
}

func demoRun(ctx context.Context, o *setupOptions) error {
	io := o.IO
	answers, err := o.checkedAnswers(true)
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
	if !o.unattended() {
		// The wizard shows who to sign in as, where it is needed.
		return o.run(ctx, c, s, answers)
	}
	fmt.Fprintf(io.Err, "Demo: a simulated Microsoft 365 tenant %q (%s) is running on 127.0.0.1.\n", info.TenantName, info.TenantID)
	fmt.Fprintf(io.Err, "Sign in as %s (the device-login page opens in your browser, or approve in the terminal).\n", engine.DemoAdmin)
	fmt.Fprintf(io.Err, "Use the mailbox %s; its demo password is filled in for the login test.\n\n", engine.DemoMailbox)
	return o.run(ctx, c, s, answers)
}
