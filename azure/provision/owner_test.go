package provision

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/state"
)

// memCustody is a SecretCustody in memory (the engine's keeps a 0600 file).
type memCustody struct {
	kept map[string]string
	fail error
}

func (m *memCustody) Keep(s *Secret) error {
	if m.fail != nil {
		return m.fail
	}
	if m.kept == nil {
		m.kept = map[string]string{}
	}
	m.kept[s.KeyID] = s.Text()
	return nil
}

func (m *memCustody) Recall(keyID string) (string, bool) {
	v, ok := m.kept[keyID]
	return v, ok
}

func appOf(t *testing.T, g *graphapi.Client, objectID string) application {
	t.Helper()
	var app application
	get(t, g, "/applications/"+objectID+graphapi.Query("$select", appSelect), &app)
	return app
}

// TestCreatedObjectsCarryTheMarker: the app and service principal mailoauth
// creates carry its tags and notes; the secret's name names the run.
func TestCreatedObjectsCarryTheMarker(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	statePath := filepath.Join(e.dir, "s.json")
	reg, err := Apply(context.Background(), g, products()[3].plan(t, "mailoauth marked"), Options{StatePath: statePath})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := state.Load(statePath)
	if st.SetupID == "" {
		t.Fatal("no setup ID")
	}
	app := appOf(t, g, reg.AppObjectID)
	if !hasTag(app.Tags, TagMailoauth) || !createdBy(app.Tags, st) || app.Notes == nil || !strings.Contains(*app.Notes, st.SetupID) {
		t.Errorf("app tags %v notes %v", app.Tags, app.Notes)
	}
	var sp servicePrincipal
	get(t, g, "/servicePrincipals/"+reg.SPID+graphapi.Query("$select", spSelect), &sp)
	if !createdBy(sp.Tags, st) || !hasTag(sp.Tags, tagPortalApp) {
		t.Errorf("service principal tags %v", sp.Tags)
	}
	if len(app.PasswordCredentials) != 1 || !strings.HasPrefix(app.PasswordCredentials[0].DisplayName, "mailoauth ") || !strings.Contains(app.PasswordCredentials[0].DisplayName, "(run ") {
		t.Errorf("secret name %+v", app.PasswordCredentials)
	}
	if st.PendingSecret != "" {
		t.Errorf("pending secret left in the state: %q", st.PendingSecret)
	}
}

// TestInterruptedSecretIsRecoveredOrRemoved (issue 10 item 4): a run killed
// between addPassword's reply and the state file leaves a secret named by
// the state's PendingSecret. The next run takes it from custody when the
// custody file holds it, and removes it when nobody does; it never adds a
// second one beside an orphan.
func TestInterruptedSecretIsRecoveredOrRemoved(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	for _, tc := range []struct {
		name    string
		custody bool
	}{{"kept in custody", true}, {"held by nobody", false}} {
		t.Run(tc.name, func(t *testing.T) {
			statePath := filepath.Join(e.dir, safe(tc.name)+".json")
			p := products()[3].plan(t, "mailoauth orphan "+tc.name)
			p.Secret.Needed = false // the first run makes the app only
			if _, err := Apply(context.Background(), g, p, Options{StatePath: statePath}); err != nil {
				t.Fatal(err)
			}
			st, _ := state.Load(statePath)
			// What the killed run did: it recorded the name, Graph added the
			// secret, the reply reached custody (or not), then the kill.
			st.PendingSecret = "mailoauth 2026-12-02 (run abc123)"
			if err := state.Save(statePath, st); err != nil {
				t.Fatal(err)
			}
			var added passwordCredential
			if err := g.Call(context.Background(), graphapi.Request{Method: "POST", Path: "/applications/" + st.AppObjectID + "/addPassword", Body: passwordBody(st.PendingSecret, time.Now().AddDate(0, 6, 0))}, &added); err != nil {
				t.Fatal(err)
			}
			cust := &memCustody{}
			if tc.custody {
				cust.kept = map[string]string{added.KeyID: added.SecretText}
			}
			p.Secret.Needed = true
			reg, err := Apply(context.Background(), g, p, Options{StatePath: statePath, Custody: cust})
			if err != nil {
				t.Fatal(err)
			}
			app := appOf(t, g, st.AppObjectID)
			st, _ = state.Load(statePath)
			if len(app.PasswordCredentials) != 1 {
				t.Fatalf("the app has %d secrets, want 1: %+v", len(app.PasswordCredentials), app.PasswordCredentials)
			}
			kept := app.PasswordCredentials[0]
			if tc.custody && (kept.KeyID != added.KeyID || reg.Secret.Text() != added.SecretText) {
				t.Errorf("the interrupted run's secret was not recovered: kept %s, reg %v", kept.KeyID, reg.Secret)
			}
			if !tc.custody && (kept.KeyID == added.KeyID || cust.kept[kept.KeyID] == "") {
				t.Errorf("the orphan was not removed and replaced by a kept secret: %s", kept.KeyID)
			}
			if st.PendingSecret != "" || st.Secret == nil || st.Secret.KeyID != kept.KeyID {
				t.Errorf("state: pending %q secret %+v", st.PendingSecret, st.Secret)
			}
		})
	}
}

// TestSecretNobodyHoldsIsRemoved: when the custody file cannot be written
// (full or read-only disk), the new secret is removed at once and the run
// fails saying so.
func TestSecretNobodyHoldsIsRemoved(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	statePath := filepath.Join(e.dir, "s.json")
	_, err := Apply(context.Background(), g, products()[3].plan(t, "mailoauth no custody"), Options{StatePath: statePath, Custody: &memCustody{fail: errors.New("no space left on device")}})
	if err == nil || !strings.Contains(err.Error(), "removed again") || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("err %v", err)
	}
	st, _ := state.Load(statePath)
	if app := appOf(t, g, st.AppObjectID); len(app.PasswordCredentials) != 0 {
		t.Errorf("a secret nobody holds is still on the app: %+v", app.PasswordCredentials)
	}
}

// TestDeleteChecksOwnership (issue 10 item 5): a state file edited to name
// another app's service principal and grant deletes neither; delete on an
// adopted app removes only the secret and permissions mailoauth added.
func TestDeleteChecksOwnership(t *testing.T) {
	e := newEnv(t, envOpts{needs: allNeeds()})
	g := e.client(time.Minute, nil)
	ctx := context.Background()
	mine, theirs := filepath.Join(e.dir, "mine.json"), filepath.Join(e.dir, "theirs.json")
	if _, err := Apply(ctx, g, products()[0].plan(t, "mailoauth mine"), Options{StatePath: mine}); err != nil {
		t.Fatal(err)
	}
	regB, err := Apply(ctx, g, products()[1].plan(t, "mailoauth theirs"), Options{StatePath: theirs})
	if err != nil {
		t.Fatal(err)
	}
	stA, _ := state.Load(mine)
	stB, _ := state.Load(theirs)
	// The edit: A's service principal and one of A's grants now name B's.
	stA.SPID = stB.SPID
	for res, gr := range stA.Grants {
		if b, ok := stB.Grants[res]; ok {
			gr.ID = b.ID
			stA.Grants[res] = gr
		}
	}
	res, err := Delete(ctx, g, stA, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Call(ctx, graphapi.Request{Method: "GET", Path: "/servicePrincipals/" + regB.SPID}, nil); err != nil {
		t.Errorf("B's service principal was deleted: %v", err)
	}
	for _, gr := range stB.Grants {
		if err := g.Call(ctx, graphapi.Request{Method: "GET", Path: "/oauth2PermissionGrants/" + gr.ID}, nil); err != nil {
			t.Errorf("B's grant %s was deleted: %v", gr.ID, err)
		}
	}
	if len(res.Refused) == 0 || !strings.Contains(res.Refused[0].Detail, "belongs to app") {
		t.Errorf("refused %+v", res.Refused)
	}

	// An app made by hand, adopted by a setup, then deleted: the app stays
	// as it was, without mailoauth's secret and permissions.
	var hand application
	if err := g.Call(ctx, graphapi.Request{Method: "POST", Path: "/applications", Body: map[string]any{"displayName": "hand made", "signInAudience": "AzureADMyOrg"}}, &hand); err != nil {
		t.Fatal(err)
	}
	p := products()[3].plan(t, "hand made")
	p.AppID = hand.AppID
	adopted := filepath.Join(e.dir, "adopted.json")
	if _, err := Apply(ctx, g, p, Options{StatePath: adopted}); err != nil {
		t.Fatal(err)
	}
	st, _ := state.Load(adopted)
	if st.AppCreated || len(st.AddedPermissions) == 0 {
		t.Fatalf("adopted state: created %v added %v", st.AppCreated, st.AddedPermissions)
	}
	if _, err := Delete(ctx, g, st, adopted); err != nil {
		t.Fatal(err)
	}
	after := appOf(t, g, hand.ID)
	n := 0
	for _, r := range after.RequiredResourceAccess {
		n += len(r.ResourceAccess)
	}
	if len(after.PasswordCredentials) != 0 || n != 0 {
		t.Errorf("after delete the hand-made app has %d secrets and %d permissions, want none", len(after.PasswordCredentials), n)
	}
}
