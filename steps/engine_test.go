package steps

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/internal/model"
)

// testEngine is a test double of Engine: a small tenant in memory that
// answers like the real engine would (device code, a Contoso tenant,
// mailboxes with and without licences, apps found by name), and records
// what it was asked to do.
type testEngine struct {
	mu       sync.Mutex
	apps     []ExistingApp
	applied  []Draft
	tested   []TestInput
	exported []ExportInput
	findings []Finding
	failTest map[catalog.Protocol]string // protocol → cause
	signIns  int
}

func newTestEngine() *testEngine { return &testEngine{} }

var testTenant = Tenant{
	ID: "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50", Name: "Contoso",
	Domains:  []string{"contoso.com", "contoso.onmicrosoft.com"},
	AdminUPN: "admin@contoso.onmicrosoft.com", AdminRoles: []string{"Global Administrator"},
	Cloud: cloud.Global(),
}

func (e *testEngine) SignIn(ctx context.Context, show func(DeviceCode)) (Tenant, error) {
	e.mu.Lock()
	e.signIns++
	e.mu.Unlock()
	show(DeviceCode{UserCode: "ABCD-EFGH", VerificationURL: "https://microsoft.com/devicelogin", ExpiresAt: time.Now().Add(15 * time.Minute)})
	return testTenant, ctx.Err()
}

func (e *testEngine) Preflight(_ context.Context, d Draft) ([]Finding, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.findings, nil
}

func (e *testEngine) FindApps(_ context.Context, name string) ([]ExistingApp, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []ExistingApp
	for _, a := range e.apps {
		if strings.EqualFold(a.DisplayName, name) {
			out = append(out, a)
		}
	}
	return out, nil
}

func (e *testEngine) CheckMailbox(_ context.Context, addr string) (MailboxInfo, error) {
	switch strings.ToLower(addr) {
	case "helpdesk@contoso.com", "mfa.user@contoso.com":
		return MailboxInfo{Address: addr, Exists: true, Licensed: true}, nil
	case "support@contoso.com":
		return MailboxInfo{Address: addr, Exists: true, Shared: true}, nil
	case "unlicensed@contoso.com":
		return MailboxInfo{Address: addr, Exists: true}, nil
	}
	return MailboxInfo{Address: addr}, nil
}

func (e *testEngine) Review(_ context.Context, d Draft) ([]Change, error) {
	verb := model.Create
	if d.AppID != "" {
		verb = model.Update
	}
	out := []Change{{Action: verb, Object: "app registration", Detail: d.AppName}}
	for _, p := range d.Permissions {
		out = append(out, Change{Action: "add", Object: "permission", Detail: p.String()})
	}
	if d.NeedsSecret {
		out = append(out, Change{Action: "add", Object: "client secret", Detail: fmt.Sprintf("%d months", d.SecretMonths)})
	}
	return out, nil
}

func (e *testEngine) Apply(ctx context.Context, d Draft, progress func(Event)) (Result, error) {
	e.mu.Lock()
	e.applied = append(e.applied, d)
	e.mu.Unlock()
	r := Result{TenantID: testTenant.ID, AppName: d.AppName, AppID: d.AppID, StateFile: "/tmp/state/" + d.Product + ".json"}
	if r.AppID == "" {
		r.AppID, r.Created = "11111111-2222-3333-4444-555555555555", true
	}
	for _, a := range []string{"Create app registration", "Add permissions", "Grant admin consent"} {
		if progress != nil {
			progress(Event{Action: a})
			progress(Event{Action: a, Done: true})
		}
		r.Actions = append(r.Actions, a)
		if err := ctx.Err(); err != nil {
			return r, err
		}
	}
	if d.NeedsSecret {
		r.Secret, r.SecretHint = "s3cr3t~VALUE-do-not-log", "s3c"
	}
	return r, nil
}

func (e *testEngine) Test(_ context.Context, r Result, t TestInput, progress func(Event)) (TestReport, error) {
	e.mu.Lock()
	e.tested = append(e.tested, t)
	e.mu.Unlock()
	if progress != nil {
		progress(Event{Action: "Wait for the new secret", Wait: 2 * time.Second})
	}
	var rep TestReport
	for _, p := range t.Protocols {
		row := TestRow{Protocol: p, Mailbox: t.Mailbox, OK: true, Duration: 40 * time.Millisecond}
		if cause, bad := e.failTest[p]; bad {
			row.OK, row.Cause, row.Fix = false, cause, "run exchange-setup.ps1"
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

func (e *testEngine) Export(_ context.Context, r Result, o ExportInput) (ExportResult, error) {
	e.mu.Lock()
	e.exported = append(e.exported, o)
	e.mu.Unlock()
	x := ExportResult{Dir: "/tmp/out", Files: []string{"/tmp/out/settings.md", "/tmp/out/settings.json"},
		Keys: []KeyValue{{Key: "Tenant ID", Value: o.Tenant.ID}, {Key: "Client ID", Value: r.AppID}}}
	if r.Secret != "" {
		x.SecretFile = "/tmp/out/secret.txt"
	}
	return x, nil
}
