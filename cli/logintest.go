package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/engine"
	"github.com/mailoauth/mailoauth/steps"
)

// testOptions are `mailoauth test`'s flags.
type testOptions struct {
	IO        IO
	state     stateFlags
	cloud     cloudFlags
	mailbox   string
	protocols string
	jsonOut   bool
	timeout   time.Duration
	sendTo    string
	open      bool
	wait      time.Duration
	// waitSet: --wait was given (--wait 0 reports at once, even right
	// after the setup).
	waitSet bool
}

const testExamples = `  # After running exchange-setup.ps1: wait up to 10 minutes for Exchange to replicate
  mailoauth test --out mailoauth-out/agiloft-mail-oauth2 --wait 10m

  # One protocol, another mailbox, the report as JSON (exit 3 when a login fails)
  mailoauth test --state mailoauth-out/genesys-mail-oauth2/state.json --mailbox support@contoso.com --protocols imap --json

  # The client secret from the environment instead of the setup's settings.json
  MAILOAUTH_CLIENT_SECRET=... mailoauth test --app-name "Agiloft mail (OAuth2)"`

func newCmdTest(io IO, runF func(context.Context, *testOptions) error) *cobra.Command {
	o := &testOptions{IO: io}
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Prove a mailbox login the way the product will log in, from the state file",
		Long: "Log in to the mailbox over each protocol exactly as the product will, from the state file a setup wrote,\n" +
			"and explain any failure with its fix. Exit 0 only when every check passed, 3 when one failed.",
		Example: testExamples,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.waitSet = cmd.Flags().Changed("wait")
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return testRun(cmd.Context(), o)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	o.state.register(cmd)
	stringFlag(fs, &o.mailbox, "mailbox", "ADDRESS", "mailbox to log in to (default: the setup's first mailbox)", checkAddress)
	stringFlag(fs, &o.protocols, "protocols", "LIST", "comma-separated protocols to check (default: the setup's)", nil)
	boolFlag(fs, &o.jsonOut, "json", false, "print the report as JSON on stdout (never a token, secret or password)")
	durationFlag(fs, &o.timeout, "timeout", 20*time.Second, "limit for each network step")
	stringFlag(fs, &o.sendTo, "send-test-to", "ADDRESS", "send a real test message to ADDRESS (SMTP, Graph)", checkAddress)
	boolFlag(fs, &o.open, "open", true, "open the browser for a delegated sign-in as the mailbox user")
	durationFlag(fs, &o.wait, "wait", 0, "wait up to DURATION for Microsoft and Exchange to replicate (e.g. 10m after running exchange-setup.ps1); 0 waits for nothing (default: up to 3m within 10 minutes of the setup)")
	o.cloud.register(cmd)
	return cmd
}

func testRun(ctx context.Context, o *testOptions) error {
	io := o.IO
	var protocols []catalog.Protocol
	if o.protocols != "" {
		var err error
		if protocols, err = catalog.ParseProtocols(o.protocols); err != nil {
			return usagef("--protocols: %v", err)
		}
	}
	statePath, st, err := o.state.load()
	if err != nil {
		return err
	}
	c, err := o.cloud.cloudFor(st)
	if err != nil {
		return err
	}
	setup := st.Setup
	if setup == nil {
		setup = &state.Setup{}
	}
	flow, err := catalog.ParseFlow(st.Plan.Flow)
	if err != nil {
		return fmt.Errorf("state file: %v", err)
	}
	if protocols == nil {
		if protocols, err = catalog.ParseProtocols(strings.Join(st.Plan.Protocols, ",")); err != nil {
			return fmt.Errorf("state file: %v", err)
		}
	}
	mailbox := o.mailbox
	if mailbox == "" {
		if mbs := append(append([]string(nil), setup.Mailboxes...), st.Users...); len(mbs) > 0 {
			mailbox = mbs[0]
		}
		if err := checkAddress(mailbox); err != nil {
			return usagef("--mailbox: the state file names no mailbox to log in to (%v)", err)
		}
	}
	in := steps.TestInput{Mailbox: mailbox, Protocols: protocols}
	var secret string
	if st.Secret != nil || flow.AppOnly() {
		// The environment first, then the setup's own settings.json (0600,
		// matched by key ID), then a hidden prompt on a terminal.
		secret = io.Getenv("MAILOAUTH_CLIENT_SECRET")
		if secret == "" {
			secret, _ = engine.SecretFromFolder(filepath.Dir(statePath), st)
		}
		if secret == "" {
			if secret, err = secretFrom(io, true); err != nil {
				return err
			}
		}
		if secret == "" {
			return usagef("the client secret is needed: set MAILOAUTH_CLIENT_SECRET (the state file never holds it, and the setup's settings.json has none)")
		}
	}
	if flow == catalog.ROPC {
		in.Password = io.Getenv("MAILOAUTH_TEST_PASSWORD")
		if in.Password == "" && io.Interactive {
			if in.Password, err = readHidden(io, "Password of "+mailbox+" (used once, never stored): "); err != nil {
				return err
			}
		}
		if in.Password == "" {
			return usagef("ROPC needs the mailbox password: set MAILOAUTH_TEST_PASSWORD or run in a terminal")
		}
	}
	hc, err := c.HTTPClient(nil)
	if err != nil {
		return err
	}
	lt := engine.LoginTest{
		Cloud: c, HTTPClient: hc, TenantID: st.Tenant, ClientID: st.ClientID, Secret: secret,
		SPObjectID: st.SPID, AppObjectID: st.AppObjectID, Flow: flow, Input: in, Timeout: o.timeout, SendTo: o.sendTo,
	}
	if o.open {
		lt.OpenURL = openOrShow(io, "sign in as "+mailbox)
	}
	if len(st.Plan.RedirectURIs) > 0 {
		lt.RedirectURI = st.Plan.RedirectURIs[0]
	}
	// Replication delay is waited out shortly after the setup changed, or
	// for as long as --wait says (the Exchange script was just run).
	switch {
	case o.wait > 0:
		lt.ChangedAt, lt.Wait = time.Now(), o.wait
	case o.waitSet:
		// --wait 0: report at once, even right after the setup.
	case time.Since(st.UpdatedAt) < 10*time.Minute:
		lt.ChangedAt = st.UpdatedAt
	}
	rep, err := engine.CheckLogins(ctx, lt, func(ev steps.Event) { fmt.Fprintln(io.Err, steps.EventLine(ev)) })
	if err != nil {
		return usagef("%v", err)
	}
	if o.jsonOut {
		if err := writeJSON(io, rep); err != nil {
			return err
		}
	} else {
		rep.WriteText(io.Out)
	}
	if !rep.OK() {
		return ErrTestFailed
	}
	return nil
}
