package wizard

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/steps"
)

// testEngine is a test double of steps.Engine for the wizard's drives: a
// Contoso tenant in memory. SignIn waits until the code is approved (the
// wizard's "a" key calls approve), Apply and Test report progress like
// the real engine, and everything asked is recorded for the assertions.
// Set holdApply to make Apply wait after its first action until the
// context is cancelled (Ctrl-C after the review).
type testEngine struct {
	mu        sync.Mutex
	approved  chan struct{}
	once      sync.Once
	apps      []steps.ExistingApp
	holdApply bool
	applyHeld chan struct{} // closed when Apply is holding
	applied   []steps.Draft
	tested    []steps.TestInput
	exported  int
	checked   []string
	// blocker is returned by the review's pre-flight (a draft with a product).
	blocker *steps.Finding
	// failSMTP makes the SMTP login fail.
	failSMTP bool
}

func newTestEngine() *testEngine {
	return &testEngine{approved: make(chan struct{}), applyHeld: make(chan struct{})}
}

func (e *testEngine) approve(code string) error {
	if code != "WXYZ-1234" {
		return nil
	}
	e.once.Do(func() { close(e.approved) })
	return nil
}

var testTenant = steps.Tenant{
	ID: "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50", Name: "Contoso",
	Domains:  []string{"contoso.com", "contoso.onmicrosoft.com"},
	AdminUPN: "admin@contoso.onmicrosoft.com", AdminRoles: []string{"Global Administrator"},
	Cloud: cloud.Global(),
}

func (e *testEngine) SignIn(ctx context.Context, show func(steps.DeviceCode)) (steps.Tenant, error) {
	show(steps.DeviceCode{UserCode: "WXYZ-1234", VerificationURL: "https://microsoft.com/devicelogin", ExpiresAt: time.Now().Add(15 * time.Minute)})
	select {
	case <-e.approved:
		return testTenant, nil
	case <-ctx.Done():
		return steps.Tenant{}, ctx.Err()
	}
}

func (e *testEngine) Preflight(_ context.Context, d steps.Draft) ([]steps.Finding, error) {
	if e.blocker != nil && d.Product != "" {
		return []steps.Finding{*e.blocker}, nil
	}
	return []steps.Finding{{Severity: steps.Info, Text: "SMTP AUTH is off for the tenant", Fix: "mailoauth enables it per mailbox"}}, nil
}

func (e *testEngine) FindApps(_ context.Context, name string) ([]steps.ExistingApp, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []steps.ExistingApp
	for _, a := range e.apps {
		if strings.EqualFold(a.DisplayName, name) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (e *testEngine) CheckMailbox(_ context.Context, addr string) (steps.MailboxInfo, error) {
	e.mu.Lock()
	e.checked = append(e.checked, addr)
	e.mu.Unlock()
	if strings.EqualFold(addr, "helpdesk@contoso.com") || strings.EqualFold(addr, "support@contoso.com") {
		return steps.MailboxInfo{Address: addr, Exists: true, Licensed: true}, nil
	}
	return steps.MailboxInfo{Address: addr}, nil
}

func (e *testEngine) Review(_ context.Context, d steps.Draft) ([]steps.Change, error) {
	var verb steps.Verb = "create"
	if d.AppID != "" {
		verb = "update"
	}
	out := []steps.Change{{Action: verb, Object: "app registration", Detail: d.AppName}}
	for _, p := range d.Permissions {
		out = append(out, steps.Change{Action: "add", Object: "permission", Detail: p.Value})
	}
	return out, nil
}

func (e *testEngine) Apply(ctx context.Context, d steps.Draft, progress func(steps.Event)) (steps.Result, error) {
	e.mu.Lock()
	e.applied = append(e.applied, d)
	e.mu.Unlock()
	r := steps.Result{TenantID: testTenant.ID, AppName: d.AppName, AppID: d.AppID, StateFile: "/tmp/mailoauth/state-" + d.Product + ".json"}
	if r.AppID == "" {
		r.AppID, r.Created = "11111111-2222-3333-4444-555555555555", true
	}
	for i, a := range []string{"Create app registration", "Add API permissions", "Grant admin consent"} {
		progress(steps.Event{Action: a})
		progress(steps.Event{Action: a, Done: true})
		r.Actions = append(r.Actions, a)
		if i == 0 && e.holdApply {
			close(e.applyHeld)
			<-ctx.Done()
			return r, ctx.Err()
		}
	}
	if d.NeedsSecret {
		r.Secret = "s3cr3t~VALUE"
	}
	return r, nil
}

func (e *testEngine) Test(ctx context.Context, r steps.Result, t steps.TestInput, progress func(steps.Event)) (steps.TestReport, error) {
	e.mu.Lock()
	e.tested = append(e.tested, t)
	e.mu.Unlock()
	progress(steps.Event{Action: "Waiting for Microsoft to replicate: the new app", Detail: "AADSTS700016", Wait: 3 * time.Second})
	select {
	case <-time.After(400 * time.Millisecond):
	case <-ctx.Done():
		return steps.TestReport{}, ctx.Err()
	}
	var rep steps.TestReport
	for _, p := range t.Protocols {
		row := steps.TestRow{Protocol: p, Mailbox: t.Mailbox, OK: true, Duration: 42 * time.Millisecond}
		if e.failSMTP && p == catalog.SMTP {
			row.OK = false
			row.Cause = "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant"
			row.Fix = "Set-CASMailbox -Identity " + t.Mailbox + " -SmtpClientAuthenticationDisabled $false"
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

func (e *testEngine) Export(_ context.Context, r steps.Result, o steps.ExportInput) (steps.ExportResult, error) {
	e.mu.Lock()
	e.exported++
	e.mu.Unlock()
	x := steps.ExportResult{Dir: "/tmp/mailoauth/out", Files: []string{"/tmp/mailoauth/out/settings.md"},
		Keys:   []steps.KeyValue{{Key: "Directory (tenant) ID", Value: o.Tenant.ID}, {Key: "Application (client) ID", Value: r.AppID}},
		Manual: []string{"Run exchange-setup.ps1 in Exchange Online PowerShell"}}
	if r.Secret != "" {
		x.SecretFile = "/tmp/mailoauth/out/client-secret.txt"
	}
	return x, nil
}
