package engine

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/provision"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
	"github.com/mailoauth/mailoauth/steps"
)

// productAnswers are unattended answers for every product and method.
func productAnswers() map[string]steps.Answers {
	mbx := steps.List{"helpdesk@contoso.com"}
	return map[string]steps.Answers{
		"extraview":           {Product: "extraview", ExtraViewURL: "https://ev.example.com/evj", Mailboxes: mbx},
		"email-this-issue":    {Product: "email-this-issue", CallbackURL: "https://jira.example.com/plugins/servlet/oauth2/callback", Mailboxes: mbx},
		"genesys":             {Product: "genesys", Mailboxes: mbx},
		"agiloft":             {Product: "agiloft", Mailboxes: mbx},
		"monitor-user":        {Product: "monitor-erp", Method: "user-password", Mailboxes: mbx},
		"monitor-secret":      {Product: "monitor-erp", Method: "client-secret", Mailboxes: mbx},
		"generic-auth-code":   {Product: "generic", Method: "auth-code", RedirectURI: "https://app.example.com/callback", Mailboxes: mbx},
		"generic-ropc":        {Product: "generic", Method: "ropc", Mailboxes: mbx},
		"generic-credentials": {Product: "generic", Method: "client-credentials", Protocols: steps.List{"imap", "pop", "smtp", "ews"}, Mailboxes: mbx},
		"generic-device-code": {Product: "generic", Method: "device-code", Mailboxes: mbx},
	}
}

// TestSignInScopesCoverEveryCall (issue 11 item 1): for every product, the
// scopes the sign-in asks for (least privilege, from the answers) cover
// every Graph call its setup, its re-run and its delete make, per
// Microsoft's documented permissions (provision.GraphCalls,
// docs/graph-permissions.md); and every call mailoauth makes is in that
// table.
func TestSignInScopesCoverEveryCall(t *testing.T) {
	for name, a := range productAnswers() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := sim.Start(sim.Options{AutoApprove: DemoAdmin})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c := simcloud.Must(t, s)
			hc, _ := c.HTTPClient(nil)
			base := t.TempDir()
			no := false
			a.Test = &no
			needs := NeedsFor(a)
			if needs == (signin.Needs{}) {
				t.Fatalf("no narrowed needs for %+v", a)
			}
			scopes := signin.Scopes(c, needs)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			for run := 1; run <= 2; run++ { // the setup, then its re-run
				l := New(Options{Cloud: c, Tenant: s.Info().TenantID, HTTPClient: hc, BaseDir: base, Needs: needs})
				out, err := steps.RunUnattended(ctx, a, l, io.Discard)
				l.Close()
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if run == 2 {
					// Delete, signed in with what delete asks for.
					st, err := state.Load(filepath.Join(out.Export.Dir, StateFileName))
					if err != nil {
						t.Fatal(err)
					}
					checkCalls(t, s, scopes, "setup and re-run")
					s.ResetRequests()
					scopes = signin.Scopes(c, DeleteNeeds(st))
					sess, err := signin.SignIn(ctx, signin.Options{Cloud: c, Tenant: st.Tenant, Scopes: scopes, HTTPClient: hc, OnDeviceCode: func(signin.DeviceCodePrompt) {}})
					if err != nil {
						t.Fatal(err)
					}
					g, err := graphapi.New(c, sess.TokenSource(), hc, graphapi.Options{})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := provision.Delete(ctx, g, st, ""); err != nil {
						t.Fatal(err)
					}
					checkCalls(t, s, scopes, "delete")
				}
			}
		})
	}
}

func checkCalls(t *testing.T, s *sim.Server, scopes []string, what string) {
	t.Helper()
	n := 0
	for _, r := range s.Requests() {
		if r.Service != "graph" {
			continue
		}
		n++
		c, ok := provision.CallFor(r.Method, r.Path)
		if !ok {
			t.Errorf("%s: %s %s is not in provision.GraphCalls (docs/graph-permissions.md)", what, r.Method, r.Path)
			continue
		}
		if !c.Allows(scopes) {
			t.Errorf("%s: %s %s needs one of %v (row %s); the sign-in asked only for %v", what, r.Method, r.Path, c.AnyOf, c.Doc, scopes)
		}
	}
	if n == 0 {
		t.Errorf("%s: no Graph request seen", what)
	}
}
