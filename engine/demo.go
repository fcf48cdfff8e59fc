package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/token"
	"github.com/mailoauth/mailoauth/sim"
	"github.com/mailoauth/mailoauth/steps"
)

// DemoAdmin is the seeded Global Administrator the demo signs in as.
const DemoAdmin = "admin@contoso.onmicrosoft.com"

// NewDemo wraps the live engine l, whose Cloud points at the simulated
// tenant s. autoApprove, when set, approves the admin's sign-in at once as
// that user (unattended demos).
func NewDemo(s *sim.Server, l *Live, autoApprove string) *Demo {
	info := s.Info()
	d := &demoTenant{s: s, tenantID: info.TenantID, admin: DemoAdmin, autoApprove: autoApprove, passwords: map[string]string{}}
	for _, u := range info.Users {
		if u.Password != "" {
			d.passwords[strings.ToLower(u.UPN)] = u.Password
		}
	}
	l.tenant = info.TenantID
	if l.baseDir == "" {
		l.baseDir = DemoBaseDir
	}
	return &Demo{Live: l, sim: d}
}

// Approve approves a device code in the terminal, as the demo's admin.
func (d *Demo) Approve(userCode string) error { return d.sim.approve(userCode) }

// Prepare fills what a person would type for the simulated mailbox user.
func (d *Demo) Prepare(a *steps.Answers) { d.sim.prepare(a) }

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

// DemoBaseDir keeps a demo's files apart from real setups: its tenant is
// new on every start, so its state file means nothing to a real run.
const DemoBaseDir = "mailoauth-demo"

// prepare fills what a person would type for the simulated mailbox user.
// The ROPC test's password field starts with the demo mailbox's password,
// so a demo needs no password typed (the field stays hidden).
func (d *demoTenant) prepare(a *steps.Answers) {
	if a.TestPassword != "" {
		return
	}
	mailbox := DemoMailbox
	if len(a.Mailboxes) > 0 {
		mailbox = a.Mailboxes[0]
	}
	a.TestPassword = d.passwords[strings.ToLower(mailbox)]
}

// DemoMailbox is the seeded licensed mailbox a demo normally uses.
const DemoMailbox = "helpdesk@contoso.com"

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

// Demo is the live engine on the simulated tenant, plus one thing
// only a demo may do: when a login fails for want of Exchange-side work
// (New-ServicePrincipal, FullAccess, Set-CASMailbox), it plays the Exchange
// administrator and runs the fix in the simulated Exchange Online, then
// tests again, so the demo ends with real logins.
type Demo struct {
	*Live
	sim *demoTenant
}

func (d *Demo) SignIn(ctx context.Context, show func(steps.DeviceCode)) (steps.Tenant, error) {
	return d.Live.SignIn(ctx, func(dc steps.DeviceCode) {
		show(dc)
		if d.sim.autoApprove != "" {
			if err := d.sim.s.ApproveDeviceCode(dc.UserCode, d.sim.autoApprove); err != nil {
				show(steps.DeviceCode{Message: "demo: could not approve as " + d.sim.autoApprove + ": " + err.Error()})
			}
		}
	})
}

func (d *Demo) Test(ctx context.Context, r steps.Result, t steps.TestInput, progress func(steps.Event)) (steps.TestReport, error) {
	rep, err := d.test(ctx, r, t, progress)
	if err == nil && r.StateFile != "" {
		err = d.recordTest(r.StateFile, rep)
	}
	return rep, err
}

func (d *Demo) test(ctx context.Context, r steps.Result, t steps.TestInput, progress func(steps.Event)) (steps.TestReport, error) {
	lt := d.LoginTest(r, t)
	lt.OpenURL = d.sim.signInAsMailboxUser
	lt.OnDeviceCode = d.sim.approveAsMailboxUser(t.Mailbox)
	progress(steps.Event{Action: "Demo: signing in as the mailbox user " + t.Mailbox, Detail: "in real use the product does this sign-in", Done: true})
	rep, err := CheckLogins(ctx, lt, progress)
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
	lt.ExchangePending, lt.ChangedAt = false, time.Now()
	rep, err = CheckLogins(ctx, lt, progress)
	if err != nil {
		return steps.TestReport{}, err
	}
	return testRows(rep), nil
}
