package engine

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
	"github.com/mailoauth/mailoauth/steps"
)

// exchangeRun runs one unattended setup with the simulated tenant's users
// approving: Graph as admin@, Exchange as exchangeUPN.
func unattendedOnSim(t *testing.T, s *sim.Server, base string, a steps.Answers, exchangeUPN string) (steps.Outcome, error) {
	t.Helper()
	c := simcloud.Must(t, s)
	hc, _ := c.HTTPClient(nil)
	l := New(Options{Cloud: c, Tenant: s.Info().TenantID, HTTPClient: hc, BaseDir: base, TestTimeout: 20 * time.Second})
	defer l.Close()
	d := NewDemo(s, l, DemoAdmin)
	d.sim.exchangeAs = exchangeUPN
	d.Prepare(&a)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return steps.RunUnattended(ctx, a, d, io.Discard)
}

// TestExchangeInOneRun (issue 9 "Done means"): Agiloft, Monitor ERP (both
// methods), generic client credentials (IMAP+POP+SMTP+EWS) and a delegated
// SMTP product each end in one run with every login passing, the seeded
// allow-list ID still there, and a second run changes nothing in Entra or
// Exchange.
func TestExchangeInOneRun(t *testing.T) {
	mbx := steps.List{"helpdesk@contoso.com"}
	cases := map[string]steps.Answers{
		"agiloft":             {Product: "agiloft", Mailboxes: mbx},
		"monitor-secret":      {Product: "monitor-erp", Method: "client-secret", Mailboxes: mbx},
		"monitor-user":        {Product: "monitor-erp", Method: "user-password", Mailboxes: mbx},
		"generic-credentials": {Product: "generic", Method: "client-credentials", Protocols: steps.List{"imap", "pop", "smtp", "ews"}, Mailboxes: mbx},
		"genesys-smtp":        {Product: "genesys", Protocols: steps.List{"smtp"}, Mailboxes: mbx},
	}
	for name, a := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := sim.Start(sim.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// A tenant with SMTP AUTH off, the mailbox inheriting it.
			if _, err := s.RunPowerShell("Set-CASMailbox -Identity helpdesk@contoso.com -SmtpClientAuthenticationDisabled $null"); err != nil {
				t.Fatal(err)
			}
			base := t.TempDir()
			out, err := unattendedOnSim(t, s, base, a, DemoAdmin)
			if err != nil {
				t.Fatal(err)
			}
			if out.Test == nil || !out.Test.OK() {
				t.Fatalf("login test: %+v %s", out.Test, out.TestError)
			}
			cfg, _ := s.RunPowerShell("Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy")
			if !strings.Contains(cfg, sim.SeedEWSAppID) {
				t.Errorf("the seeded EWS allow-list ID was dropped:\n%s", cfg)
			}
			st, err := state.Load(filepath.Join(out.Export.Dir, StateFileName))
			if err != nil {
				t.Fatal(err)
			}
			if st.Exchange == nil || st.Exchange.Status == nil || st.Exchange.Status.Left != "" || st.Exchange.Status.AppliedAt.IsZero() {
				t.Errorf("Exchange status %+v", st.Exchange)
			}
			// The second run: nothing to write in Entra or Exchange.
			s.ResetRequests()
			out2, err := unattendedOnSim(t, s, base, a, DemoAdmin)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range out2.Changes {
				if c.Action.Changes() {
					t.Errorf("second run changes %s %s (%s)", c.Action, c.Object, c.Detail)
				}
			}
			for _, r := range s.Requests() {
				if r.Service == "graph" && r.Method != "GET" {
					t.Errorf("second run wrote %s %s", r.Method, r.Path)
				}
			}
		})
	}
}

// TestExchangeRefusedLeavesTheScript: an Exchange sign-in without an
// Exchange role (cloudadmin@ has none) still finishes the Entra part,
// writes the script and says exactly what is left.
func TestExchangeRefusedLeavesTheScript(t *testing.T) {
	s, err := sim.Start(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := unattendedOnSim(t, s, t.TempDir(), steps.Answers{Product: "agiloft", Mailboxes: steps.List{"helpdesk@contoso.com"}}, "cloudadmin@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	if out.Result.AppID == "" || out.Export == nil {
		t.Fatalf("the Entra part was not finished: %+v", out.Result)
	}
	st, _ := state.Load(filepath.Join(out.Export.Dir, StateFileName))
	if st.Exchange == nil || st.Exchange.Status == nil || st.Exchange.Status.Left == "" || len(st.Exchange.Status.LeftChanges) == 0 {
		t.Fatalf("the state does not say what is left: %+v", st.Exchange)
	}
	manual := strings.Join(out.Export.Manual, "\n")
	if !strings.Contains(manual, "exchange-setup.ps1") {
		t.Errorf("still to do lacks the script:\n%s", manual)
	}
}
