// Package stepstest is the one test double of steps.Engine, shared by the
// steps' own tests and the wizard's drives: a Contoso tenant in memory
// that answers like the real engine (a device code, mailboxes with and
// without licences, apps found by name, progress and replication waits)
// and records what it was asked to do. It talks to nothing: tests that
// need Microsoft's wire use the simulated tenant (sim/) instead.
package stepstest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/internal/model"
	"github.com/mailoauth/mailoauth/steps"
)

// UserCode is the device code SignIn shows; Approve it to sign in.
const UserCode = "WXYZ-1234"

// Secret is the client secret Apply adds when the draft needs one.
const Secret = "s3cr3t~VALUE-do-not-log"

// Tenant is the tenant SignIn returns.
var Tenant = steps.Tenant{
	ID: "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50", Name: "Contoso",
	Domains:  []string{"contoso.com", "contoso.onmicrosoft.com"},
	AdminUPN: "admin@contoso.onmicrosoft.com", AdminRoles: []string{"Global Administrator"},
	Cloud: cloud.Global(),
}

// TenantFinding is the pre-flight's answer unless Findings is set.
var TenantFinding = steps.Finding{Severity: steps.Info, Text: "SMTP AUTH is off for the tenant", Fix: "mailoauth enables it per mailbox"}

// Failure is a login the test reports as failed, with its cause and fix.
type Failure struct {
	Cause, Fix string
	// FixedBy, when set, is applied after the failed attempt and the next
	// attempt works: the report's History shows failure → fix → pass.
	FixedBy string
}

// Engine is the test double. Set the fields before the run; read the
// recorded ones after it (or under Lock while it runs).
type Engine struct {
	mu       sync.Mutex
	approved chan struct{}
	once     sync.Once

	// Apps are the app registrations already in the tenant.
	Apps []steps.ExistingApp
	// Findings answer every pre-flight; nil = TenantFinding.
	Findings []steps.Finding
	// Blocker is added to the pre-flight once the draft names a product.
	Blocker *steps.Finding
	// FailTest makes a protocol's login fail.
	FailTest map[catalog.Protocol]Failure
	// TestDelay is how long each login test takes after its replication
	// wait event (the wizard's countdown shows meanwhile).
	TestDelay time.Duration
	// HoldApply makes Apply stop after its first action and wait until
	// the context is cancelled (Ctrl-C after the review); ApplyHeld is
	// closed then.
	HoldApply bool
	ApplyHeld chan struct{}
	// OnTest, when set, runs at the start of each login test (e.g. to
	// open the mailbox user's sign-in page through TestInput.OpenURL).
	OnTest func(steps.TestInput)

	// Recorded.
	SignIns int
	// ExchangeSignIns counts the Exchange Online sign-ins.
	ExchangeSignIns int
	Checked         []string
	Applied         []steps.Draft
	Tested          []steps.TestInput
	Exported        []steps.ExportInput
}

// New is an engine whose SignIn waits until the code is approved (the
// wizard's "a" key calls Approve) or the context ends.
func New() *Engine {
	return &Engine{approved: make(chan struct{}), ApplyHeld: make(chan struct{})}
}

// NewSignedIn is an engine whose SignIn returns at once (unattended runs,
// accessible mode).
func NewSignedIn() *Engine {
	e := New()
	e.ApproveAll()
	return e
}

// Approve approves the device code (any other code is ignored).
func (e *Engine) Approve(code string) error {
	if code == UserCode {
		e.ApproveAll()
	}
	return nil
}

// ApproveAll lets every sign-in through.
func (e *Engine) ApproveAll() { e.once.Do(func() { close(e.approved) }) }

// Lock and Unlock guard the recorded fields while a run goes on.
func (e *Engine) Lock()   { e.mu.Lock() }
func (e *Engine) Unlock() { e.mu.Unlock() }

func (e *Engine) SignIn(ctx context.Context, show func(steps.DeviceCode)) (steps.Tenant, error) {
	e.mu.Lock()
	e.SignIns++
	e.mu.Unlock()
	show(steps.DeviceCode{UserCode: UserCode, VerificationURL: "https://microsoft.com/devicelogin", ExpiresAt: time.Now().Add(15 * time.Minute)})
	select {
	case <-e.approved:
		return Tenant, ctx.Err()
	case <-ctx.Done():
		return steps.Tenant{}, ctx.Err()
	}
}

func (e *Engine) Preflight(_ context.Context, d steps.Draft) ([]steps.Finding, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := append([]steps.Finding(nil), e.Findings...)
	if e.Findings == nil {
		out = []steps.Finding{TenantFinding}
	}
	if e.Blocker != nil && d.Product != "" {
		out = append(out, *e.Blocker)
	}
	return out, nil
}

func (e *Engine) FindApps(_ context.Context, name string) ([]steps.ExistingApp, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []steps.ExistingApp
	for _, a := range e.Apps {
		if strings.EqualFold(a.DisplayName, name) {
			out = append(out, a)
		}
	}
	return out, nil
}

// CheckMailbox knows the seeded users: helpdesk@ and mfa.user@ licensed,
// support@ shared, unlicensed@ without a mailbox; anyone else is unknown.
func (e *Engine) CheckMailbox(_ context.Context, addr string) (steps.MailboxInfo, error) {
	e.mu.Lock()
	e.Checked = append(e.Checked, addr)
	e.mu.Unlock()
	switch strings.ToLower(addr) {
	case "helpdesk@contoso.com", "mfa.user@contoso.com":
		return steps.MailboxInfo{Address: addr, Exists: true, Licensed: true}, nil
	case "support@contoso.com":
		return steps.MailboxInfo{Address: addr, Exists: true, Shared: true}, nil
	case "unlicensed@contoso.com":
		return steps.MailboxInfo{Address: addr, Exists: true}, nil
	}
	return steps.MailboxInfo{Address: addr}, nil
}

func (e *Engine) Review(_ context.Context, d steps.Draft) ([]steps.Change, error) {
	verb := model.Create
	if d.AppID != "" {
		verb = model.Update
	}
	out := []steps.Change{{Action: verb, Object: "app registration", Detail: d.AppName}}
	for _, p := range d.Permissions {
		out = append(out, steps.Change{Action: model.Add, Object: "permission", Detail: p.String()})
	}
	if d.NeedsSecret {
		out = append(out, steps.Change{Action: model.Add, Object: "client secret", Detail: fmt.Sprintf("%d months", d.SecretMonths)})
	}
	return out, nil
}

// StateFile is where Apply says it saved the state of a product's setup.
func StateFile(product string) string { return "/tmp/mailoauth/state-" + product + ".json" }

func (e *Engine) Apply(ctx context.Context, d steps.Draft, progress func(steps.Event)) (steps.Result, error) {
	e.mu.Lock()
	e.Applied = append(e.Applied, d)
	hold := e.HoldApply
	e.mu.Unlock()
	r := steps.Result{TenantID: Tenant.ID, AppName: d.AppName, AppID: d.AppID, StateFile: StateFile(d.Product)}
	if r.AppID == "" {
		r.AppID, r.Created = "11111111-2222-3333-4444-555555555555", true
	}
	for i, a := range []string{"Create app registration", "Add API permissions", "Grant admin consent"} {
		if progress != nil {
			progress(steps.Event{Action: a})
			progress(steps.Event{Action: a, Done: true})
		}
		r.Actions = append(r.Actions, a)
		if i == 0 && hold {
			close(e.ApplyHeld)
			<-ctx.Done()
			return r, ctx.Err()
		}
		if err := ctx.Err(); err != nil {
			return r, err
		}
	}
	if d.NeedsSecret {
		r.Secret, r.SecretHint = Secret, "s3c"
	}
	return r, nil
}

func (e *Engine) Test(ctx context.Context, r steps.Result, t steps.TestInput, progress func(steps.Event)) (steps.TestReport, error) {
	e.mu.Lock()
	e.Tested = append(e.Tested, t)
	onTest, delay := e.OnTest, e.TestDelay
	e.mu.Unlock()
	if onTest != nil {
		onTest(t)
	}
	if progress == nil {
		progress = func(steps.Event) {}
	}
	progress(steps.Event{Action: "Waiting for Microsoft to replicate: the new app", Detail: "AADSTS700016", Wait: 3 * time.Second})
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return steps.TestReport{}, ctx.Err()
	}
	var rep steps.TestReport
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	for _, p := range t.Protocols {
		row := steps.TestRow{Protocol: p, Mailbox: t.Mailbox, OK: true, Duration: 42 * time.Millisecond}
		if f, bad := e.FailTest[p]; bad {
			rep.History = append(rep.History, steps.TestAttempt{At: at, Protocol: p, Mailbox: t.Mailbox, Cause: f.Cause, Applied: f.FixedBy})
			if f.FixedBy == "" {
				row.OK, row.Cause, row.Fix = false, f.Cause, f.Fix
			} else {
				rep.History = append(rep.History, steps.TestAttempt{At: at.Add(3 * time.Second), Protocol: p, Mailbox: t.Mailbox, OK: true})
			}
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

func (e *Engine) Export(_ context.Context, r steps.Result, o steps.ExportInput) (steps.ExportResult, error) {
	e.mu.Lock()
	e.Exported = append(e.Exported, o)
	e.mu.Unlock()
	x := steps.ExportResult{Dir: "/tmp/mailoauth/out", Files: []string{"/tmp/mailoauth/out/settings.md", "/tmp/mailoauth/out/settings.json"},
		Keys:   []steps.KeyValue{{Key: "Directory (tenant) ID", Value: o.Tenant.ID}, {Key: "Application (client) ID", Value: r.AppID}},
		Manual: []string{"Run exchange-setup.ps1 in Exchange Online PowerShell"}}
	if r.Secret != "" {
		x.Keys = append(x.Keys, steps.KeyValue{Key: "Client secret", Value: "(the client secret: see settings.md)", Secret: true})
		x.SecretFile = "/tmp/mailoauth/out/client-secret.txt"
	}
	return x, nil
}

// ExchangeAccount is who the double signs in to Exchange Online as.
const ExchangeAccount = "admin@contoso.onmicrosoft.com"

// ExchangeSignIn signs in at once (the Graph sign-in's approval stands for
// both in the double) unless the draft chose the script.
func (e *Engine) ExchangeSignIn(_ context.Context, d steps.Draft, _ func(steps.DeviceCode)) (steps.ExchangeSession, error) {
	e.mu.Lock()
	e.ExchangeSignIns++
	e.mu.Unlock()
	if d.Exchange == "script" {
		return steps.ExchangeSession{Needed: true, Mode: "script", Left: "you chose to run exchange-setup.ps1 yourself"}, nil
	}
	return steps.ExchangeSession{Needed: true, Mode: "apply", Account: ExchangeAccount}, nil
}
