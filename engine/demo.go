package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/mailcheck"
	"github.com/mailoauth/mailoauth/azure/token"
	"github.com/mailoauth/mailoauth/sim"
	"github.com/mailoauth/mailoauth/steps"
)

// DemoAdmin is the seeded Global Administrator the demo signs in as.
const DemoAdmin = "admin@contoso.onmicrosoft.com"

// DemoMailbox is the seeded licensed mailbox a demo normally uses.
const DemoMailbox = "helpdesk@contoso.com"

// DemoBaseDir keeps a demo's files apart from real setups. Each demo
// writes into a folder of its own under it (see NewDemo).
const DemoBaseDir = "mailoauth-demo"

// NewDemo wraps the live engine l, whose Cloud points at the simulated
// tenant s. autoApprove, when set, approves the admin's sign-in at once as
// that user (unattended demos).
//
// The simulated tenant is new on every start, so an earlier demo's state
// file names apps that never existed in this one: read, it would make the
// pre-flight warn that the app "no longer exists (deleted?)". Unless the
// caller chose the folders, each demo therefore writes into a fresh
// folder, mailoauth-demo/<start time>/<app>, and never reads an earlier
// demo's files.
func NewDemo(s *sim.Server, l *Live, autoApprove string) *Demo {
	info := s.Info()
	d := &demoTenant{s: s, tenantID: info.TenantID, admin: DemoAdmin, autoApprove: autoApprove, passwords: map[string]string{}, users: info.Users}
	for _, u := range info.Users {
		if u.Password != "" {
			d.passwords[strings.ToLower(u.UPN)] = u.Password
		}
	}
	l.tenant = info.TenantID
	if l.baseDir == "" && l.outDir == "" {
		l.baseDir = freshDemoDir(DemoBaseDir, time.Now())
	}
	return &Demo{Live: l, sim: d}
}

// freshDemoDir is a folder under base that no earlier demo wrote: named
// after the start time, with a counter when two demos start in the same
// second.
func freshDemoDir(base string, now time.Time) string {
	stem := filepath.Join(base, now.Format("2006-01-02-150405"))
	dir := stem
	for i := 2; ; i++ {
		if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
			return dir
		}
		dir = fmt.Sprintf("%s-%d", stem, i)
	}
}

// Approve approves a device code in the terminal, as the demo's admin.
func (d *Demo) Approve(userCode string) error { return d.sim.approve(userCode) }

// Prepare fills what a person would type for the simulated mailbox user
// in an unattended demo: the ROPC test's password of the mailbox the
// answers name. (The wizard needs nothing here: the Guide fills in the
// password of whichever mailbox is chosen.)
func (d *Demo) Prepare(a *steps.Answers) { d.sim.prepare(a) }

// Guide is the demo's help where a person needs it: who to sign in as,
// the demo mailbox and the seeded users, the mailbox user's password.
func (d *Demo) Guide() steps.Guide { return d.sim.guide() }

// demoTenant is the simulated tenant behind `mailoauth demo`.
type demoTenant struct {
	s        *sim.Server
	tenantID string
	admin    string
	// autoApprove approves the admin's device code as this user at once.
	autoApprove string
	// exchangeAs, when set, approves the Exchange sign-in as this user
	// (tests of an account without an Exchange role).
	exchangeAs string
	// passwords are the seeded users' demo passwords, for playing the
	// mailbox user in the login test.
	passwords map[string]string
	users     []sim.UserInfo
}

func (d *demoTenant) prepare(a *steps.Answers) {
	if a.TestPassword != "" || len(a.Mailboxes) == 0 {
		return
	}
	a.TestPassword = d.passwords[strings.ToLower(a.Mailboxes[0])]
}

func (d *demoTenant) guide() steps.Guide {
	signIn := "Demo: sign in as " + d.admin
	if pw := d.passwords[strings.ToLower(d.admin)]; pw != "" {
		signIn += " (password " + pw + ")"
	}
	signIn += ", on the page or by approving here in the terminal."
	return steps.Guide{
		SignIn:      signIn,
		Mailbox:     DemoMailbox,
		MailboxHelp: "Demo: " + DemoMailbox + " works; the other seeded users show what goes wrong: " + d.seededUsers(),
		Password:    func(mailbox string) string { return d.passwords[strings.ToLower(strings.TrimSpace(mailbox))] },
		Ephemeral:   true,
	}
}

// seededUsers names the seeded mailbox users and what each one shows.
func (d *demoTenant) seededUsers() string {
	var out []string
	for _, u := range d.users {
		if strings.EqualFold(u.UPN, DemoMailbox) || len(u.Roles) > 0 {
			continue
		}
		what := ""
		switch {
		case u.SharedMailbox:
			what = "a shared mailbox"
		case u.MFA:
			what = "MFA required, so password logins fail"
		case !u.Mailbox:
			what = "no Exchange licence, so no mailbox"
		default:
			what = "a licensed mailbox"
		}
		out = append(out, u.UPN+" ("+what+")")
	}
	return strings.Join(out, ", ")
}

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

// Demo is the live engine on the simulated tenant, plus what only a demo
// may do: it approves its own sign-ins, plays the mailbox user, and, when
// the Exchange part was left to exchange-setup.ps1, plays the Exchange
// administrator who runs it (then tests again).
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

// ExchangeSignIn is the live Exchange Online sign-in, approved at once by
// the demo as the admin who signed in to Graph (the demo's admin is a
// Global Administrator, so Exchange lets it in): the tool itself reads and
// changes the simulated Exchange Online, as it would a real one.
func (d *Demo) ExchangeSignIn(ctx context.Context, dr steps.Draft, show func(steps.DeviceCode)) (steps.ExchangeSession, error) {
	upn := d.sim.admin
	switch {
	case d.sim.exchangeAs != "":
		upn = d.sim.exchangeAs
	case d.sim.autoApprove != "":
		upn = d.sim.autoApprove
	}
	return d.Live.ExchangeSignIn(ctx, dr, func(dc steps.DeviceCode) {
		show(dc)
		if err := d.sim.s.ApproveDeviceCode(dc.UserCode, upn); err != nil {
			show(steps.DeviceCode{Message: "demo: could not approve as " + upn + ": " + err.Error()})
		}
	})
}

// Test is the live login test, playing the mailbox user (delegated flows)
// and the Exchange administrator (app-only flows). Its report keeps every
// attempt: a failure, the fix run in the simulated Exchange Online, and
// the attempt after it.
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
	if lt.Flow.AppOnly() {
		progress(steps.Event{Action: "Demo: the app logs in to " + t.Mailbox + " with its own credentials", Detail: "app-only: no mailbox user signs in", Done: true})
	} else {
		progress(steps.Event{Action: "Demo: signing in as the mailbox user " + t.Mailbox, Detail: "in real use the product does this sign-in", Done: true})
	}
	rep, err := CheckLogins(ctx, lt, progress)
	if err != nil {
		return steps.TestReport{}, err
	}
	if !d.exchangeLeft() {
		// mailoauth did the Exchange side itself: the result is the result.
		return testRows(rep), nil
	}
	// The Exchange part was left to exchange-setup.ps1 (exchange: script):
	// the demo plays the admin who runs it, and tests again.
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
	first := testRows(rep)
	if out, err := d.sim.s.RunPowerShell(strings.Join(script, "\n")); err != nil {
		progress(steps.Event{Action: "Exchange fix", Detail: firstLine(out), Done: true, Err: err})
		first.History = attempts(first, rep, "")
		return first, nil
	}
	progress(steps.Event{Action: "Exchange fix applied", Done: true})
	lt.ExchangePending, lt.ChangedAt = false, time.Now()
	rep2, err := CheckLogins(ctx, lt, progress)
	if err != nil {
		return steps.TestReport{}, err
	}
	second := testRows(rep2)
	second.History = append(attempts(first, rep, "the Exchange Online fix, run in the simulated tenant (in your tenant: exchange-setup.ps1)"), attempts(second, rep2, "")...)
	return second, nil
}

// attempts is the history of one run of the checks: the attempts the
// engine recorded, else one per check (as it ended). applied names the fix
// run after the failed ones.
func attempts(r steps.TestReport, rep mailcheck.Report, applied string) []steps.TestAttempt {
	hist := append([]steps.TestAttempt(nil), r.History...)
	if len(hist) == 0 {
		at := time.Now()
		for _, c := range rep.Checks {
			hist = append(hist, steps.TestAttempt{At: at, Protocol: c.Protocol, Mailbox: c.Mailbox, OK: c.OK, Cause: c.CauseText()})
		}
	}
	if applied != "" {
		// The fix follows the last failed attempt of each login.
		done := map[string]bool{}
		for i := len(hist) - 1; i >= 0; i-- {
			k := string(hist[i].Protocol) + " " + hist[i].Mailbox
			if !hist[i].OK && !done[k] && hist[i].Applied == "" {
				hist[i].Applied = applied
			}
			done[k] = true
		}
	}
	return hist
}

// exchangeLeft: the Exchange part of this run was left to the script.
func (d *Demo) exchangeLeft() bool {
	run := d.exchangeRun()
	return run == nil || run.left != nil
}
