// Package engine does the wizard's work with the real packages: it
// implements steps.Engine with azure/ (MSAL sign-in, Graph provisioning,
// the login checks) and output/ (the exported files). The same engine
// serves the real cloud and the simulated tenant; only its Cloud differs.
// Demo adds what only a demo may do on the simulated tenant.
package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/provision"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/model"
	"github.com/mailoauth/mailoauth/output/export"
	"github.com/mailoauth/mailoauth/output/safefile"
	"github.com/mailoauth/mailoauth/steps"
)

// Options configure a Live engine.
type Options struct {
	Cloud cloud.Cloud
	// Tenant is --tenant (GUID or domain); "" = the admin's home tenant.
	Tenant string
	// ClientID is the sign-in app; "" = Microsoft Graph Command Line Tools.
	ClientID   string
	HTTPClient *http.Client
	// Needs narrows the sign-in scopes when the product is known up front;
	// zero = what any product may need.
	Needs       signin.Needs
	OpenBrowser bool
	BrowserOnly bool
	// OpenURL opens (or shows) sign-in pages.
	OpenURL func(string) error
	// OutDir is --out; BaseDir holds one folder per app ("" = mailoauth-out).
	OutDir, BaseDir string
	NoSecret, Force bool
	// Confirm is asked before overwriting an exported file the admin changed.
	Confirm        func(path string) bool
	RemoveUnneeded bool
	RotateSecret   bool
	TestTimeout    time.Duration
	// SendTo sends a real test message during the login test.
	SendTo string
	// Interactive: a person sees the terminal, so a new secret that no
	// file could hold may be shown once instead of being removed.
	Interactive bool
}

// New makes a Live engine.
func New(o Options) *Live {
	return &Live{
		cloud: o.Cloud, tenant: o.Tenant, clientID: o.ClientID, hc: o.HTTPClient, needs: o.Needs,
		openBrowser: o.OpenBrowser, browserOnly: o.BrowserOnly, openURL: o.OpenURL,
		outDir: o.OutDir, baseDir: o.BaseDir, noSecret: o.NoSecret, force: o.Force, confirm: o.Confirm,
		removeUnneeded: o.RemoveUnneeded, rotateSecret: o.RotateSecret, testTimeout: o.TestTimeout, sendTo: o.SendTo,
		interactive: o.Interactive,
	}
}

// Live does the steps' work with the real packages.
type Live struct {
	cloud    cloud.Cloud
	tenant   string // --tenant: GUID or domain; "" = organizations
	clientID string // --client-id: the sign-in app; "" = Graph Command Line Tools
	hc       *http.Client
	// needs narrows the sign-in scopes when the product is known up front.
	needs       signin.Needs
	openBrowser bool
	browserOnly bool
	openURL     func(string) error
	// outDir overrides the output folder (--out); "" = <baseDir>/<app>.
	outDir string
	// baseDir holds one folder per app; "" = mailoauth-out.
	baseDir  string
	noSecret bool
	force    bool
	confirm  func(path string) bool
	// removeUnneeded lets Apply drop permissions the plan does not need.
	removeUnneeded bool
	// rotateSecret adds a new secret even when the state says one exists.
	rotateSecret bool
	// testTimeout bounds each network step of the login test.
	testTimeout time.Duration
	// sendTo, when set, sends a real test message in the login test.
	sendTo string
	// interactive: see Options.Interactive.
	interactive bool
	// dryRun: a --dry-run; nothing local is written either.
	dryRun bool

	mu      sync.Mutex
	session *signin.Session
	graph   *graphapi.Client
	tenantT steps.Tenant
	inspect *provision.Inspection
	reg     *provision.Registration
	// progress receives Graph's retry events during Apply.
	progress func(steps.Event)
	// changedAt is when Apply last changed the tenant: the login test waits
	// out replication delay only after a change.
	changedAt time.Time
	// lastPlan is the plan of the last draft seen (the login test's flow).
	lastPlan provision.Plan
	// reads answers the run's repeated tenant reads (pre-flight, review,
	// apply read the tenant once); reset when Apply changes the tenant.
	reads *graphapi.ReadCache
	// stores are the state files of the run, by path: each loaded once.
	stores map[string]*state.Store
	// locks are the setup folders this run writes into, held until Close:
	// a second run on the same folder is refused.
	locks map[string]*safefile.Lock
	// madeDirs are the folders this run created.
	madeDirs map[string]bool
	// exo is the Exchange Online side of the run (nil: not needed, or
	// not signed in yet).
	exo *exchangeRun
}

// removeIfOnlyLock removes dir when it holds nothing but the lock file.
func removeIfOnlyLock(dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 || ents[0].Name() != safefile.LockName {
		return
	}
	if os.Remove(filepath.Join(dir, safefile.LockName)) == nil {
		_ = os.Remove(dir)
	}
}

// lockFolder takes the setup folder's lock for the rest of the run (once).
// A lock left by a killed run is taken over, and progress says so.
func (e *Live) lockFolder(dir string, progress func(steps.Event)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.locks[dir]; ok {
		return nil
	}
	_, statErr := os.Lstat(dir)
	l, err := safefile.LockDir(dir)
	if err != nil {
		return err
	}
	if e.locks == nil {
		e.locks = map[string]*safefile.Lock{}
	}
	e.locks[dir] = l
	if errors.Is(statErr, os.ErrNotExist) {
		if e.madeDirs == nil {
			e.madeDirs = map[string]bool{}
		}
		e.madeDirs[dir] = true
	}
	if msg := l.TookOverMessage(); msg != "" && progress != nil {
		progress(steps.Event{Action: "Setup folder", Detail: msg, Done: true})
	}
	return nil
}

// Close releases the run's folder locks.
func (e *Live) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	for dir, l := range e.locks {
		errs = append(errs, l.Unlock())
		delete(e.locks, dir)
		if e.madeDirs[dir] {
			// A folder this run made for nothing (stopped before any
			// change): gone again, so a stop leaves no trace.
			removeIfOnlyLock(dir)
		}
	}
	return errors.Join(errs...)
}

// allNeeds is what the wizard asks for when it signs in before the
// product is chosen: every permission any product's plan may need.
var allNeeds = signin.Needs{AppRoles: true, AssignUsers: true, DelegatedConsent: true, ReadUsers: true}

func (e *Live) SignIn(ctx context.Context, show func(steps.DeviceCode)) (steps.Tenant, error) {
	needs := e.needs
	if needs == (signin.Needs{}) {
		needs = allNeeds
	}
	sess, err := signin.SignIn(ctx, signin.Options{
		Cloud:      e.cloud,
		Tenant:     e.tenant,
		ClientID:   e.clientID,
		Scopes:     signin.Scopes(e.cloud, needs),
		HTTPClient: e.hc,
		OnDeviceCode: func(p signin.DeviceCodePrompt) {
			show(steps.DeviceCode{UserCode: p.UserCode, VerificationURL: p.VerificationURL, Message: p.Message, ExpiresAt: p.ExpiresOn})
		},
		OpenBrowser: e.openBrowser,
		Browser:     e.browserOnly,
		OpenURL:     e.openURL,
	})
	if err != nil {
		return steps.Tenant{}, err
	}
	g, err := graphapi.New(e.cloud, sess.TokenSource(), e.hc, graphapi.Options{OnEvent: e.onGraphEvent})
	if err != nil {
		return steps.Tenant{}, err
	}
	e.mu.Lock()
	e.session, e.graph, e.reads = sess, g, graphapi.NewReadCache()
	e.mu.Unlock()

	// The tenant, its domains and the admin's roles: what the sign-in
	// screen shows (read once; pre-flight takes them from the cache).
	in, err := provision.TenantPreflight(ctx, g.WithReads(e.reads), sess.TenantID())
	if err != nil {
		return steps.Tenant{}, err
	}
	t := steps.Tenant{
		ID: in.TenantID, Name: in.TenantName, Domains: in.Domains,
		AdminUPN: sess.Username(), AdminRoles: in.Roles, Cloud: e.cloud,
	}
	e.mu.Lock()
	e.tenantT, e.inspect = t, in
	e.mu.Unlock()
	return t, nil
}

func (e *Live) onGraphEvent(ev graphapi.Event) {
	e.mu.Lock()
	progress := e.progress
	e.mu.Unlock()
	if progress == nil {
		return
	}
	if ev.Wait <= 0 {
		// An action starting: the spinner line names it at once; the ✓
		// line comes when Apply reports what it changed.
		if ev.Action != "" {
			progress(steps.Event{Action: ev.Action})
		}
		return
	}
	detail := fmt.Sprintf("attempt %d", ev.Attempt)
	if ge, ok := graphapi.GraphError(ev.Err); ok {
		// The explanation's title says why in a few words; the full error
		// (with request id) is in --debug-http.
		detail += ": " + explain.Graph(ge).Title
	} else if ev.Err != nil {
		detail += ": " + firstLine(ev.Err.Error())
	}
	ev.Detail = detail
	progress(ev)
}

func (e *Live) client() (*graphapi.Client, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.graph == nil {
		return nil, errors.New("not signed in")
	}
	return e.graph, nil
}

// reader is the Graph client whose tenant reads come from the run's cache.
func (e *Live) reader() (*graphapi.Client, error) {
	g, err := e.client()
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return g.WithReads(e.reads), nil
}

// storeAt is the state file at path, opened once per run; its load error
// reaches the caller (a damaged state file is never taken for none).
func (e *Live) storeAt(path string) (*state.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.stores[path]; ok {
		return s, nil
	}
	s, err := state.Open(path)
	if err != nil {
		return nil, err
	}
	if e.stores == nil {
		e.stores = map[string]*state.Store{}
	}
	e.stores[path] = s
	return s, nil
}

// stateOf is the draft's state (nil when the setup is new).
func (e *Live) stateOf(d steps.Draft) (*state.State, error) {
	s, err := e.storeAt(e.statePath(d))
	if err != nil {
		return nil, err
	}
	return s.State(), nil
}

func (e *Live) Preflight(ctx context.Context, d steps.Draft) ([]steps.Finding, error) {
	g, err := e.reader()
	if err != nil {
		return nil, err
	}
	var in *provision.Inspection
	if d.Product == "" || d.AppName == "" {
		// Right after sign-in there is no plan yet: the tenant-level
		// findings of the sign-in's own pre-flight are the answer.
		e.mu.Lock()
		in = e.inspect
		e.mu.Unlock()
		if in == nil {
			return nil, nil
		}
	} else {
		p, err := e.plan(d)
		if err != nil {
			return nil, err
		}
		// From here to the end of the run this run alone may use the
		// setup's folder: a second run on it is refused before it reads the
		// state, so two runs never both plan the same app.
		if !e.dryRun {
			if err := e.lockFolder(filepath.Dir(e.statePath(d)), nil); err != nil {
				return nil, err
			}
		}
		st, err := e.stateOf(d)
		if err != nil {
			return nil, err
		}
		if in, err = provision.Preflight(ctx, g, p, st); err != nil {
			return nil, err
		}
		e.mu.Lock()
		e.inspect = in
		e.mu.Unlock()
		clientID, objectID, spID := in.App()
		return append(append([]steps.Finding(nil), in.Findings...), e.exchangePreflight(ctx, d, clientID, spID, objectID)...), nil
	}
	return append([]steps.Finding(nil), in.Findings...), nil
}

func (e *Live) FindApps(ctx context.Context, displayName string) ([]steps.ExistingApp, error) {
	g, err := e.reader()
	if err != nil {
		return nil, err
	}
	apps, err := provision.FindApps(ctx, g, displayName)
	if err != nil {
		return nil, err
	}
	store, err := e.storeAt(filepath.Join(e.outDirFor(displayName), StateFileName))
	if err != nil {
		return nil, err
	}
	managed := map[string]bool{}
	if st := store.State(); st != nil {
		managed[st.AppObjectID] = true
	}
	var out []steps.ExistingApp
	for _, a := range apps {
		out = append(out, steps.ExistingApp{AppID: a.ClientID, ObjectID: a.ObjectID, DisplayName: a.DisplayName, Created: a.Created, Managed: managed[a.ObjectID]})
	}
	return out, nil
}

func (e *Live) CheckMailbox(ctx context.Context, address string) (steps.MailboxInfo, error) {
	g, err := e.reader()
	if err != nil {
		return steps.MailboxInfo{}, err
	}
	e.mu.Lock()
	domains := append([]string(nil), e.tenantT.Domains...)
	e.mu.Unlock()
	in, err := provision.InspectMailboxes(ctx, g, domains, []string{address})
	if err != nil {
		return steps.MailboxInfo{}, err
	}
	info := steps.MailboxInfo{Address: address}
	if len(in.Mailboxes) == 1 {
		mb := in.Mailboxes[0]
		info.Exists, info.Licensed, info.Shared = mb.Found, mb.ExchangePlan != "", mb.LikelyShared()
	}
	for _, f := range in.Findings {
		info.Warnings = append(info.Warnings, f.Text)
	}
	return info, nil
}

func (e *Live) Review(ctx context.Context, d steps.Draft) ([]steps.Change, error) {
	g, err := e.reader()
	if err != nil {
		return nil, err
	}
	p, err := e.plan(d)
	if err != nil {
		return nil, err
	}
	st, err := e.stateOf(d)
	if err != nil {
		return nil, err
	}
	dr, err := provision.DryRun(ctx, g, p, st)
	if err != nil {
		return nil, err
	}
	// What is already as wanted (keep), then what the apply would send,
	// each with its typed verb: nothing is parsed back from English.
	out := append([]steps.Change(nil), dr.Changes...)
	for _, r := range dr.Requests {
		out = append(out, r.Change)
	}
	return append(out, e.exchangeReview()...), nil
}

func (e *Live) Apply(ctx context.Context, d steps.Draft, progress func(steps.Event)) (steps.Result, error) {
	g, err := e.reader()
	if err != nil {
		return steps.Result{}, err
	}
	p, err := e.plan(d)
	if err != nil {
		return steps.Result{}, err
	}
	e.mu.Lock()
	e.progress = progress
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.progress = nil
		e.mu.Unlock()
	}()
	statePath := e.statePath(d)
	if err := ensurePrivateDir(filepath.Dir(statePath)); err != nil {
		return steps.Result{}, err
	}
	if err := e.lockFolder(filepath.Dir(statePath), progress); err != nil {
		return steps.Result{}, err
	}
	store, err := e.storeAt(statePath)
	if err != nil {
		return steps.Result{}, err
	}
	progress(steps.Event{Action: "Applying the plan", Detail: "state file " + statePath})
	// The apply reuses what pre-flight and the review read; once it has
	// changed the tenant, nothing read before is trusted again.
	keeper := &custody{dir: filepath.Dir(statePath), interactive: e.interactive}
	reg, err := provision.Apply(ctx, g, p, provision.Options{Store: store, CloudName: e.cloud.Name, RemoveUnneeded: e.removeUnneeded, Custody: keeper})
	e.reads.Reset()
	if serr := e.recordSetup(store, d, reg); serr != nil && err == nil {
		err = serr
	}
	if err == nil && reg != nil {
		// The Exchange side, now that the app has its IDs.
		err = e.exchangeApply(ctx, d, reg.ClientID, reg.SPID, reg.AppObjectID, store, progress)
	}
	res := steps.Result{TenantID: e.tenantID(), AppName: d.AppName, StateFile: statePath}

	if reg != nil {
		for _, c := range reg.Changes {
			progress(steps.Event{Action: c.Headline(), Detail: c.Detail, Done: true})
			res.Actions = append(res.Actions, c.Summary())
		}
		res.AppID, res.ObjectID, res.SPObjectID = reg.ClientID, reg.AppObjectID, reg.SPID
		for _, c := range reg.Changes {
			if c.Object == "app registration" && c.Action == model.Create {
				res.Created = true
			}
		}
		switch {
		case reg.Secret != nil:
			res.Secret, res.SecretHint, res.SecretExpiry = reg.Secret.Text(), reg.Secret.Hint, reg.Secret.EndDateTime
			if keeper.Unsaved() != nil {
				res.SecretUnsaved = true
			} else {
				res.SecretFile = keeper.path()
			}
		case reg.KeptSecret != nil:
			// The secret an earlier run added: its value comes back from
			// that run's settings.json, matched by key ID.
			if v, ok := e.recoveredSecret(d, store.State()); ok {
				res.Secret = v
			}
			res.SecretHint, res.SecretExpiry = reg.KeptSecret.Hint, reg.KeptSecret.EndDateTime
		}
		e.mu.Lock()
		e.reg = reg
		for _, c := range reg.Changes {
			if c.Action.Changes() {
				e.changedAt = time.Now()
			}
		}
		e.mu.Unlock()
	}
	if run := e.exchangeRun(); run != nil && run.result != nil {
		for _, c := range run.result.Done {
			if c.Action.Changes() {
				res.Actions = append(res.Actions, "Exchange Online: "+c.Summary())
			}
		}
	}
	return res, err
}

func (e *Live) Test(ctx context.Context, r steps.Result, t steps.TestInput, progress func(steps.Event)) (steps.TestReport, error) {
	rep, err := runLoginTest(ctx, e.LoginTest(r, t), progress)
	if err != nil {
		return rep, err
	}
	if r.StateFile != "" {
		if err := e.recordTest(r.StateFile, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// recordTest keeps the login test's result in the state file, for the
// settings sheet, a re-export and `status`.
func (e *Live) recordTest(path string, rep steps.TestReport) error {
	store, err := e.storeAt(path)
	if err != nil {
		return err
	}
	if st := store.State(); st == nil || st.Setup == nil {
		return nil
	}
	return store.Update(func(st *state.State) { st.Setup.RecordTest(time.Now(), rep) })
}

// initialDomain is the tenant's isInitial domain as Graph reported it.
func (e *Live) initialDomain() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inspect != nil && e.inspect.InitialDomain != "" {
		return e.inspect.InitialDomain
	}
	return InitialDomain(e.tenantT.Domains)
}

// LoginTest describes the test of what Apply just made.
func (e *Live) LoginTest(r steps.Result, t steps.TestInput) LoginTest {
	e.mu.Lock()
	changedAt, p := e.changedAt, e.lastPlan
	e.mu.Unlock()
	lt := LoginTest{
		Cloud: e.cloud, HTTPClient: e.hc, TenantID: r.TenantID, ClientID: r.AppID, Secret: r.Secret,
		SPObjectID: r.SPObjectID, AppObjectID: r.ObjectID, Flow: p.Flow, Input: t,
		ChangedAt: changedAt, Timeout: e.testTimeout, SendTo: e.sendTo, OpenURL: e.openURL,
		tweaks: e.tweaker(r.ObjectID),
		// Exchange's state as read (the diagnosis states facts), and
		// whether its part was left to the script (then its refusals are
		// reported at once, not waited out).
		Exchange:        e.exchangeFacts(),
		ExchangePending: e.exchangePending(p.Flow),
	}
	if len(p.RedirectURIs) > 0 {
		lt.RedirectURI = p.RedirectURIs[0]
	}
	if t.OpenURL != nil {
		lt.OpenURL = t.OpenURL // the wizard shows the page inside its screen
	}
	return lt
}

func (e *Live) Export(ctx context.Context, r steps.Result, o steps.ExportInput) (steps.ExportResult, error) {
	store, err := e.storeAt(e.statePath(o.Draft))
	if err != nil {
		return steps.ExportResult{}, err
	}
	st := store.State()
	if st == nil {
		return steps.ExportResult{}, errors.New("export: the setup has no state file yet")
	}
	// One path from the state file to the files, the same as `mailoauth
	// export`: the run's own report was recorded there by Test.
	in, err := ExportInput(st, store.Path(), e.cloud, r.Secret, time.Now())
	if err != nil {
		return steps.ExportResult{}, err
	}
	dir := e.outDirFor(o.Draft.AppName)
	if err := e.lockFolder(dir, nil); err != nil {
		return steps.ExportResult{}, err
	}
	files, err := export.Write(in, export.Options{OutDir: dir, NoSecret: e.noSecret, Force: e.force, Confirm: e.confirm})
	if err != nil {
		return steps.ExportResult{}, err
	}
	res := ExportResult(dir, in, files)
	if r.Secret != "" && !e.noSecret && res.SecretFile != "" {
		// The settings files hold the secret now: one copy fewer.
		if err := releaseCustody(dir); err != nil {
			return res, err
		}
	} else if r.SecretFile != "" {
		res.SecretFile = r.SecretFile
	}
	return res, nil
}

// recordSetup adds the product-side answers to the state Apply wrote, so
// export, test and a resumed setup need nothing else. No secret.
func (e *Live) recordSetup(store *state.Store, d steps.Draft, reg *provision.Registration) error {
	if store.State() == nil {
		return nil // nothing was made: nothing to record
	}
	e.mu.Lock()
	domains := append([]string(nil), e.tenantT.Domains...)
	e.mu.Unlock()
	setup := &state.Setup{
		Method: d.Method, Answers: d.ProductAnswers, Mailboxes: d.Mailboxes, AdditionalUsers: d.AdditionalUsers,
		TenantDomains: domains, InitialDomain: e.initialDomain(), SecretMonths: d.SecretMonths, RequireAssignment: d.RequireAssignment,
	}
	if reg != nil {
		for _, rp := range reg.Permissions {
			setup.Permissions = append(setup.Permissions, state.PermissionRef{ResourceAppID: rp.Resource.AppID, Kind: string(rp.Kind), Value: rp.Value, ID: rp.ID})
		}
	}
	return store.Update(func(st *state.State) {
		if st.Setup != nil {
			// What a login test recorded belongs to the same setup.
			setup.LastTest, setup.LastPassed, setup.ScopedAway = st.Setup.LastTest, st.Setup.LastPassed, st.Setup.ScopedAway
		}
		st.Setup = setup
	})
}
