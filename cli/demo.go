package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/pkg/browser"

	"github.com/mailoauth/mailoauth/azure/token"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
	"github.com/mailoauth/mailoauth/steps"
)

// demoAdmin is the seeded Global Administrator the demo signs in as.
const demoAdmin = "admin@contoso.onmicrosoft.com"

func runDemo(ctx context.Context, args []string, io IO) error {
	o, err := parseSetupFlags("demo", "Run the wizard against a built-in simulated Microsoft 365 tenant (no Microsoft account needed).", args, io, true)
	if err != nil {
		return err
	}
	// These flags are demo-only: parse them from the same arguments.
	return o.runDemo(ctx, io)
}

func (o *setupOptions) runDemo(ctx context.Context, io IO) error {
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
	fmt.Fprintf(io.Err, "Sign in as %s (the device-login page opens in your browser, or approve in the terminal).\n", demoAdmin)
	fmt.Fprintf(io.Err, "Use the mailbox %s; its demo password is filled in for the login test.\n\n", demoMailbox)
	d := &demoTenant{s: s, tenantID: info.TenantID, admin: demoAdmin, autoApprove: o.demoAutoApprove, passwords: map[string]string{}}
	for _, u := range info.Users {
		if u.Password != "" {
			d.passwords[strings.ToLower(u.UPN)] = u.Password
		}
	}
	return o.run(ctx, io, c, d)
}

// demoTenant is the simulated tenant behind `mailoauth demo`.
type demoTenant struct {
	s        *sim.Server
	tenantID string
	admin    string
	// autoApprove approves the admin's device code as this user at once.
	autoApprove string
	// passwords are the seeded users' demo passwords, for playing the
	// mailbox user in the login test.
	passwords map[string]string
}

// demoBaseDir keeps a demo's files apart from real setups: its tenant is
// new on every start, so its state file means nothing to a real run.
const demoBaseDir = "mailoauth-demo"

// prepare fills what a person would type for the simulated mailbox user.
// The ROPC test's password field starts with the demo mailbox's password,
// so a demo needs no password typed (the field stays hidden).
func (d *demoTenant) prepare(a *steps.Answers) {
	if a.TestPassword != "" {
		return
	}
	mailbox := demoMailbox
	if len(a.Mailboxes) > 0 {
		mailbox = a.Mailboxes[0]
	}
	a.TestPassword = d.passwords[strings.ToLower(mailbox)]
}

// demoMailbox is the seeded licensed mailbox a demo normally uses.
const demoMailbox = "helpdesk@contoso.com"

// signInAsMailboxUser plays the mailbox user on the simulator's browser
// sign-in page: it posts the page's form with the hinted user's demo
// password, and the redirect carries the code to the tool's loopback.
func (d *demoTenant) signInAsMailboxUser(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	q := u.Query()
	user := q.Get("login_hint")
	pw, ok := d.passwords[strings.ToLower(user)]
	if !ok {
		return fmt.Errorf("demo: %q is not a seeded user with a password", user)
	}
	q.Set("upn", user)
	q.Set("password", pw)
	q.Set("action", "approve")
	endpoint := u.Scheme + "://" + u.Host + u.Path
	resp, err := d.s.HTTPClient().PostForm(endpoint, q)
	if err != nil {
		return fmt.Errorf("demo: signing in as %s: %w", user, err)
	}
	resp.Body.Close()
	return nil
}

// approveAsMailboxUser approves a device code as the mailbox user.
func (d *demoTenant) approveAsMailboxUser(mailbox string) func(token.DeviceCodePrompt) {
	return func(p token.DeviceCodePrompt) { _ = d.s.ApproveDeviceCode(p.UserCode, mailbox) }
}

// approve approves the device code in the terminal, as the seeded admin.
func (d *demoTenant) approve(userCode string) error { return d.s.ApproveDeviceCode(userCode, d.admin) }

// openURL opens the simulator's device-login page.
func (d *demoTenant) openURL(u string) error { return browser.OpenURL(u) }

func (d *demoTenant) wrap(e *liveEngine) steps.Engine { return &demoEngine{liveEngine: e, sim: d} }

// demoEngine is the live engine on the simulated tenant, plus one thing
// only a demo may do: when a login fails for want of Exchange-side work
// (New-ServicePrincipal, FullAccess, Set-CASMailbox), it plays the Exchange
// administrator and runs the fix in the simulated Exchange Online, then
// tests again, so the demo ends with real logins.
type demoEngine struct {
	*liveEngine
	sim *demoTenant
}

func (d *demoEngine) SignIn(ctx context.Context, show func(steps.DeviceCode)) (steps.Tenant, error) {
	return d.liveEngine.SignIn(ctx, func(dc steps.DeviceCode) {
		show(dc)
		if d.sim.autoApprove != "" {
			if err := d.sim.s.ApproveDeviceCode(dc.UserCode, d.sim.autoApprove); err != nil {
				show(steps.DeviceCode{Message: "demo: could not approve as " + d.sim.autoApprove + ": " + err.Error()})
			}
		}
	})
}

func (d *demoEngine) Test(ctx context.Context, r steps.Result, t steps.TestInput, progress func(steps.Event)) (steps.TestReport, error) {
	lt := d.loginTest(r, t)
	lt.openURL = d.sim.signInAsMailboxUser
	lt.onDeviceCode = d.sim.approveAsMailboxUser(t.Mailbox)
	progress(steps.Event{Action: "Demo: signing in as the mailbox user " + t.Mailbox, Detail: "in real use the product does this sign-in", Done: true})
	rep, err := checkLogins(ctx, lt, progress)
	if err != nil {
		return steps.TestReport{}, err
	}
	var script []string
	for _, c := range rep.Failed() {
		if x := c.Explanation; x != nil && strings.Contains(x.FixCommand, "Connect-ExchangeOnline") {
			script = append(script, x.FixCommand)
		}
	}
	if len(script) == 0 {
		return testRows(rep), nil
	}
	for _, c := range rep.Failed() {
		progress(steps.Event{Action: "Login failed: " + c.Protocol.Label(), Detail: c.CauseText(), Done: true, Err: errors.New(c.Reply)})
	}
	progress(steps.Event{Action: "Demo: running the Exchange Online fix in the simulated tenant", Detail: "in your tenant, run exchange-setup.ps1 in Exchange Online PowerShell"})
	if out, err := d.sim.s.RunPowerShell(strings.Join(script, "\n")); err != nil {
		progress(steps.Event{Action: "Exchange fix", Detail: firstLine(out), Done: true, Err: err})
		return testRows(rep), nil
	}
	progress(steps.Event{Action: "Exchange fix applied", Done: true})
	lt.exchangePending, lt.changedAt = false, time.Now()
	rep, err = checkLogins(ctx, lt, progress)
	if err != nil {
		return steps.TestReport{}, err
	}
	return testRows(rep), nil
}
