package exchangesetup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/exchange"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
)

// The test environment: the simulated tenant over real sockets, a Graph
// admin session (to make real apps and service principals in Entra, so
// the object IDs are the tenant's own) and an Exchange admin session with
// the real client. Nothing of Microsoft's HTTP is mocked; recorder only
// watches which cmdlets the client sends.

const (
	admin      = "admin@contoso.onmicrosoft.com"
	exAdmin    = "exadmin@contoso.com"
	cloudAdmin = "cloudadmin@contoso.com"
	helpdesk   = "helpdesk@contoso.com"
	mfaUser    = "mfa.user@contoso.com"
	support    = "support@contoso.com"
)

type env struct {
	s     *sim.Server
	c     cloud.Cloud
	graph *signin.Session
	exo   *exchange.Session
	cl    *exchange.Client
	rec   *recorder
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func approveAs(t testing.TB, s *sim.Server, upn string) func(signin.DeviceCodePrompt) {
	return func(p signin.DeviceCodePrompt) {
		if err := s.ApproveDeviceCode(p.UserCode, upn); err != nil {
			t.Errorf("approve %s: %v", upn, err)
		}
	}
}

// newEnv starts a sim, signs in to Graph as the Global Administrator and to
// Exchange as exoUser.
func newEnv(t testing.TB, exoUser string) *env {
	t.Helper()
	s, err := sim.Start(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := &env{s: s, c: simcloud.Must(t, s)}
	e.graph, err = signin.SignIn(ctxT(t), signin.Options{Cloud: e.c, Tenant: sim.TenantID, Scopes: signin.Scopes(e.c, signin.Needs{AppRoles: true}), OnDeviceCode: approveAs(t, s, admin)})
	if err != nil {
		t.Fatal(err)
	}
	e.exo, err = exchange.SignIn(ctxT(t), signin.Options{Cloud: e.c, Tenant: sim.TenantID, OnDeviceCode: approveAs(t, s, exoUser)})
	if err != nil {
		t.Fatal(err)
	}
	e.cl, err = exchange.NewClient(exchange.Options{Cloud: e.c}, e.exo)
	if err != nil {
		t.Fatal(err)
	}
	e.rec = &recorder{inv: e.cl}
	return e
}

// recorder is an Invoker that notes each cmdlet sent through it.
type recorder struct {
	inv   exchange.Invoker
	mu    sync.Mutex
	calls []string
	// before, when set, runs before a write is sent; after, after it
	// returned (tests kill a run there).
	before func(cmdlet string, n int) error
	after  func(cmdlet string, n int, err error) error
	nWrite int
}

func isWrite(cmdlet string) bool {
	l := strings.ToLower(cmdlet)
	return !strings.HasPrefix(l, "get-") && !strings.HasPrefix(l, "test-")
}

func (r *recorder) Invoke(ctx context.Context, cmdlet string, params map[string]any) ([]json.RawMessage, []string, error) {
	r.mu.Lock()
	r.calls = append(r.calls, cmdlet)
	n := 0
	if isWrite(cmdlet) {
		r.nWrite++
		n = r.nWrite
	}
	before, after := r.before, r.after
	r.mu.Unlock()
	if n > 0 && before != nil {
		if err := before(cmdlet, n); err != nil {
			return nil, nil, err
		}
	}
	raws, warns, err := r.inv.Invoke(ctx, cmdlet, params)
	if n > 0 && after != nil {
		if aerr := after(cmdlet, n, err); aerr != nil {
			return nil, warns, aerr
		}
	}
	return raws, warns, err
}

func (r *recorder) writes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		if isWrite(c) {
			out = append(out, c)
		}
	}
	return out
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.calls, r.nWrite = nil, 0
	r.mu.Unlock()
}

// graphDo calls the sim's Graph as the admin.
func (e *env) graphDo(t testing.TB, method, path string, body, out any) {
	t.Helper()
	tok, err := e.graph.Token(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.c.GraphV1()+path, rd)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("Graph %s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatal(err)
		}
	}
}

type app struct {
	AppID, ObjectID, SPID, Secret string
}

// newApp makes an app registration and its enterprise application in the
// sim's Entra, with a secret and the given Exchange application roles
// consented (IMAP.AccessAsApp, SMTP.SendAsApp, …).
func (e *env) newApp(t testing.TB, name string, exoRoles ...string) app {
	t.Helper()
	var a struct{ ID, AppID string }
	e.graphDo(t, "POST", "/applications", map[string]any{"displayName": name, "signInAudience": "AzureADMyOrg"}, &a)
	var sp struct{ ID string }
	e.graphDo(t, "POST", "/servicePrincipals", map[string]any{"appId": a.AppID}, &sp)
	var pw struct {
		SecretText string `json:"secretText"`
	}
	e.graphDo(t, "POST", "/applications/"+a.ID+"/addPassword", map[string]any{"passwordCredential": map[string]any{"displayName": "test"}}, &pw)
	if len(exoRoles) > 0 {
		var res struct {
			Value []struct {
				ID       string `json:"id"`
				AppRoles []struct{ ID, Value string }
			} `json:"value"`
		}
		e.graphDo(t, "GET", "/servicePrincipals?$filter="+strings.ReplaceAll("appId eq '"+catalog.ExchangeOnline.AppID+"'", " ", "%20"), nil, &res)
		if len(res.Value) != 1 {
			t.Fatalf("Exchange resource service principal: %+v", res)
		}
		for _, role := range exoRoles {
			id := ""
			for _, r := range res.Value[0].AppRoles {
				if r.Value == role {
					id = r.ID
				}
			}
			if id == "" {
				t.Fatalf("no app role %s on Exchange", role)
			}
			e.graphDo(t, "POST", "/servicePrincipals/"+res.Value[0].ID+"/appRoleAssignedTo", map[string]any{"principalId": sp.ID, "resourceId": res.Value[0].ID, "appRoleId": id}, nil)
		}
	}
	return app{AppID: a.AppID, ObjectID: a.ID, SPID: sp.ID, Secret: pw.SecretText}
}

// newStore is a state file with the Entra part's record, as the engine
// leaves it before the Exchange part.
func newStore(t testing.TB, a app) (*state.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.json")
	st := state.New(sim.TenantID, "custom")
	st.ClientID, st.AppObjectID, st.SPID = a.AppID, a.ObjectID, a.SPID
	if err := state.Save(path, st); err != nil {
		t.Fatal(err)
	}
	store, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return store, path
}

func reopen(t *testing.T, path string) *state.Store {
	t.Helper()
	store, err := state.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func (e *env) admin() exchange.Admin { return exchange.Admin{Invoker: e.cl} }

// run is Inspect + PlanChanges + Apply through the recorder.
func (e *env) run(t *testing.T, w Want, store *state.Store) (*Plan, *Result) {
	t.Helper()
	snap, err := Inspect(ctxT(t), e.rec, w)
	if err != nil {
		t.Fatal(err)
	}
	p := PlanChanges(w, snap, store.State().Exchange)
	res, err := Apply(ctxT(t), e.rec, p, store, ApplyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p, res
}

// dump is a plan's lines, for failure messages.
func dump(p *Plan) string {
	var b strings.Builder
	for _, s := range p.Steps {
		fmt.Fprintf(&b, "  [%s] %s\n", s.Key, s.Change.Summary())
	}
	for _, f := range p.Findings {
		fmt.Fprintf(&b, "  finding %s\n", f)
	}
	return b.String()
}
