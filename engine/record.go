package engine

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/output/export"
)

// The settings files are made from the state file, always: the setup's own
// export, `mailoauth export` and a rotation all call ExportInput, so a
// re-export is the original export (apart from its timestamp), and what the
// sheet says was created is what the state file says mailoauth made.

// ErrNoSetupRecord: a state file written before the setup record existed.
var ErrNoSetupRecord = errors.New("the state file has no setup record (written by an older mailoauth); run mailoauth setup again to refresh it")

// ExportInput is what output/export renders for the setup st records, on
// cloud c, with the secret's value (or "" for the placeholder). The last
// login test comes from the state file too.
func ExportInput(st *state.State, statePath string, c cloud.Cloud, secret string, at time.Time) (export.Input, error) {
	setup := st.Setup
	if setup == nil {
		return export.Input{}, ErrNoSetupRecord
	}
	protocols, err := catalog.ParseProtocols(strings.Join(st.Plan.Protocols, ","))
	if err != nil {
		return export.Input{}, fmt.Errorf("state file: %v", err)
	}
	domain := setup.InitialDomain
	if domain == "" {
		domain = InitialDomain(setup.TenantDomains)
	}
	in := export.Input{
		Product: st.Product, Method: setup.Method, AppName: st.Plan.DisplayName,
		Cloud: c, TenantID: st.Tenant, TenantDomain: domain, TenantInitialDomain: setup.InitialDomain, Audience: catalog.Audience(st.Plan.Audience),
		ClientID: st.ClientID, AppObjectID: st.AppObjectID, ServicePrincipalID: st.SPID,
		Secret:    secret,
		Protocols: protocols, RedirectURIs: st.Plan.RedirectURIs, PublicClient: st.Plan.PublicClient,
		Mailboxes: setup.Mailboxes, AdditionalUsers: setup.AdditionalUsers, Answers: setup.Answers,
		Created:     CreatedLines(st),
		Exchange:    exchangeStatusFor(st),
		StateFile:   statePath,
		GeneratedAt: at.UTC(),
	}
	if st.Secret != nil {
		in.SecretKeyID, in.SecretHint, in.SecretExpires = st.Secret.KeyID, st.Secret.Hint, st.Secret.EndDateTime
	}
	for _, p := range setup.Permissions {
		perm, ok := catalog.Lookup(p.ResourceAppID, catalog.Kind(p.Kind), p.Value)
		if !ok {
			res, err := catalog.ResourceByAppID(p.ResourceAppID)
			if err != nil {
				continue
			}
			perm = catalog.Permission{Resource: res, Value: p.Value, Kind: catalog.Kind(p.Kind)}
		}
		if p.ID != "" {
			perm.FallbackID = p.ID // the ID the tenant itself published
		}
		in.Permissions = append(in.Permissions, perm)
	}
	if setup.LastTest != nil {
		for _, row := range setup.LastTest.Report.Rows {
			in.TestResults = append(in.TestResults, testLine(row.Protocol, row.Mailbox, row.OK, row.Cause, row.Fix))
		}
		in.TestAttempts = testAttempts(setup.LastTest)
	}
	return in, nil
}

func testLine(p catalog.Protocol, mailbox string, ok bool, cause, fix string) export.TestLine {
	detail := "signed in and reached the mailbox"
	if !ok {
		detail = cause
		if fix != "" {
			detail += " Fix: " + fix
		}
	}
	return export.TestLine{Protocol: p, Mailbox: mailbox, OK: ok, Detail: detail}
}

// testAttempts is the test's history for the sheet: the failed attempts
// (one group per moment, with the fix applied after it), then the result.
// Nothing when the test passed at its first attempt.
func testAttempts(rec *state.TestRecord) []export.TestAttempt {
	h := rec.Report.History
	if len(h) == 0 {
		return nil
	}
	var out []export.TestAttempt
	for _, a := range h {
		if n := len(out); n == 0 || !out[n-1].At.Equal(a.At) {
			out = append(out, export.TestAttempt{At: a.At})
		}
		last := &out[len(out)-1]
		last.Results = append(last.Results, testLine(a.Protocol, a.Mailbox, a.OK, a.Cause, ""))
		if a.Applied != "" {
			last.Fix = a.Applied
		}
	}
	final := export.TestAttempt{At: rec.At}
	for _, row := range rec.Report.Rows {
		final.Results = append(final.Results, testLine(row.Protocol, row.Mailbox, row.OK, row.Cause, row.Fix))
	}
	return append(out, final)
}

// CreatedLines says what mailoauth made or extended in the tenant for this
// setup, as the state file records it, one line each.
func CreatedLines(st *state.State) []string {
	var out []string
	verb := func(created bool) string {
		if created {
			return "Created"
		}
		return "Updated"
	}
	if st.AppObjectID != "" {
		out = append(out, fmt.Sprintf("%s app registration %q (application ID %s)", verb(st.AppCreated), st.Plan.DisplayName, st.ClientID))
	}
	if st.SPID != "" && st.SPCreated {
		out = append(out, "Created enterprise application (service principal "+st.SPID+")")
	}
	if st.Secret != nil {
		out = append(out, fmt.Sprintf("Added client secret %s… (key %s), expires %s", st.Secret.Hint, st.Secret.KeyID, st.Secret.EndDateTime.Format("2006-01-02")))
	}
	for _, resApp := range sortedKeys(st.Grants) {
		g := st.Grants[resApp]
		what := "Extended"
		if g.Created {
			what = "Granted"
		}
		out = append(out, fmt.Sprintf("%s admin consent for %s: %s", what, resourceName(resApp), g.Scope))
	}
	for _, a := range st.AppRoleAssignments {
		if a.Created {
			out = append(out, "Granted admin consent for "+a.Name+" (application permission)")
		}
	}
	for _, a := range st.UserAssignments {
		if a.Created {
			out = append(out, "Assigned "+a.Name+" to the app")
		}
	}
	if st.Done(state.StepRequireAssign) {
		out = append(out, "Required user assignment for the app")
	}
	return out
}

func resourceName(appID string) string {
	if r, err := catalog.ResourceByAppID(appID); err == nil {
		return r.Name
	}
	return appID
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
