package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/explain"
	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/model"
	"github.com/mailoauth/mailoauth/internal/retry"
)

// Options tune an apply.
type Options struct {
	// Store is the setup's state, loaded once by the caller and saved after
	// every step. Nil: StatePath is opened; both empty keep the state in
	// memory only (a resumed run then cannot know what an interrupted one
	// made).
	Store *state.Store
	// StatePath is the state file when Store is nil.
	StatePath string
	// CloudName is recorded in the state file.
	CloudName string
	// RemoveUnneeded drops permissions the app has that the plan does not
	// need. Off by default: mailoauth never drops a permission unasked.
	RemoveUnneeded bool
	// Custody keeps a new secret's value before anything else can fail;
	// nil keeps it in memory only (tests, dry runs).
	Custody SecretCustody
}

// Change is one line of the summary: what happened to which object, with
// its typed verb (model.Keep for what was already as wanted).
type Change = model.Change

// Secret is the client secret added by this run.
type Secret struct {
	KeyID       string    `json:"key_id"`
	Hint        string    `json:"hint"`
	DisplayName string    `json:"display_name"`
	EndDateTime time.Time `json:"end_date_time"`
	// Shortened is set when a tenant policy capped the lifetime.
	Shortened string `json:"shortened,omitempty"`
	text      string
}

// Text is the secret value. It exists only in memory, only for the run that
// added it; it is never marshalled, logged or written to the state file.
func (s *Secret) Text() string {
	if s == nil {
		return ""
	}
	return s.text
}

// String never shows the value.
func (s *Secret) String() string {
	if s == nil {
		return "<no secret>"
	}
	return fmt.Sprintf("secret %s (%s…, expires %s)", s.KeyID, s.Hint, s.EndDateTime.Format("2006-01-02"))
}

// Registration is the result of an apply.
type Registration struct {
	TenantID    string `json:"tenant_id"`
	AppObjectID string `json:"app_object_id"`
	ClientID    string `json:"client_id"`
	SPID        string `json:"service_principal_id"`
	// Grants maps a resource appId to its oauth2PermissionGrant id.
	Grants map[string]string `json:"grants,omitempty"`
	// AppRoleAssignmentIDs maps "resource appId/permission" to the assignment id.
	AppRoleAssignmentIDs map[string]string `json:"app_role_assignment_ids,omitempty"`
	// UserAssignmentIDs maps a mailbox address to its assignment id.
	UserAssignmentIDs map[string]string `json:"user_assignment_ids,omitempty"`
	// Secret is the secret added by this run (nil when none was added).
	Secret *Secret `json:"secret,omitempty"`
	// KeptSecret describes the secret an earlier run added and this one
	// kept (key ID, hint, expiry; its value cannot be read again).
	KeptSecret *state.Secret `json:"kept_secret,omitempty"`
	// Permissions are the permissions with the tenant's IDs.
	Permissions []ResolvedPermission `json:"permissions"`
	// Unneeded are permissions the app already had that the plan does not need (kept).
	Unneeded []string  `json:"unneeded,omitempty"`
	Changes  []Change  `json:"changes"`
	Warnings []string  `json:"warnings,omitempty"`
	Findings []Finding `json:"findings,omitempty"`
	// RoundTrips is the number of sequential Graph write rounds (at most 3);
	// Writes the number of write requests (without retries).
	RoundTrips int `json:"round_trips"`
	Writes     int `json:"writes"`
	// ReadRounds and Reads are pre-flight's sequential rounds and GETs.
	ReadRounds int `json:"read_rounds"`
	Reads      int `json:"reads"`
}

// op is one write: the request (for the dry run and the apply alike) and
// what to record when it succeeds.
type op struct {
	req   graphapi.Request
	step  string
	run   func(ctx context.Context) (json.RawMessage, error) // nil: g.Call(req)
	after func(raw json.RawMessage) error
}

// maxParallel is how many writes of one round are in flight at once.
const maxParallel = 8

// applier holds one apply's shared state (not to be confused with package engine, the UI's adapter).
type applier struct {
	g      *graphapi.Client
	p      Plan
	in     *Inspection
	st     *state.State
	store  *state.Store
	reg    *Registration
	opts   Options
	mu     sync.Mutex
	dryRun bool
	// recovered: an interrupted run's secret came back from custody.
	recovered bool
	// addedPerms are the permissions the app update adds.
	addedPerms []state.PermissionRef
}

func (e *applier) save() error {
	if e.dryRun || e.store == nil {
		return nil
	}
	return e.store.Save()
}

func (e *applier) change(verb model.Verb, object, detail string) {
	e.reg.Changes = append(e.reg.Changes, Change{Action: verb, Object: object, Detail: detail})
}

// openStore opens the state file at path, or a memory store for "".
func openStore(path string) (*state.Store, error) {
	if path == "" {
		return state.Memory(nil), nil
	}
	return state.Open(path)
}

// Apply provisions the plan idempotently: pre-flight (reads only), then at
// most three sequential write rounds: (1) create or update the app; (2) the
// service principal and the client secret, concurrently; (3) consent grants,
// application permission consent and user assignments, concurrently. The
// state file is saved after every step, so an interrupted run resumes
// without a second app, secret or grant.
//
// On an error after the first write, the partial Registration is returned
// with the error: when it holds a Secret, its Text must still be shown to
// the user, as it cannot be read again.
func Apply(ctx context.Context, g *graphapi.Client, p Plan, opts Options) (*Registration, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p.normalise()
	store := opts.Store
	if store == nil {
		var err error
		if store, err = openStore(opts.StatePath); err != nil {
			return nil, err
		}
	}
	st := store.State()
	in, err := Preflight(ctx, g, p, st)
	if err != nil {
		return nil, err
	}
	if b := in.Blockers(); len(b) > 0 {
		return nil, &BlockedError{b}
	}
	if st == nil {
		st = state.New(in.TenantID, opts.CloudName)
	} else if st.Tenant != "" && in.TenantID != "" && !strings.EqualFold(st.Tenant, in.TenantID) {
		return nil, fmt.Errorf("the state file %s belongs to tenant %s, but you are signed in to tenant %s; pass another --state FILE", opts.StatePath, st.Tenant, in.TenantID)
	}
	if st.Tenant == "" {
		st.Tenant = in.TenantID
	}
	if st.SetupID == "" {
		st.SetupID = state.NewID()
	}
	st.Product, st.Plan, st.Users = p.Product, p.Summary(), p.Mailboxes
	if opts.CloudName != "" {
		st.Cloud = opts.CloudName
	}
	store.Set(st)
	e := &applier{g: g, p: p, in: in, st: st, store: store, opts: opts, reg: newRegistration(in)}
	if err := e.run(ctx); err != nil {
		return e.reg, err
	}
	return e.reg, nil
}

func newRegistration(in *Inspection) *Registration {
	reg := &Registration{TenantID: in.TenantID, Grants: map[string]string{}, AppRoleAssignmentIDs: map[string]string{}, UserAssignmentIDs: map[string]string{}, Permissions: in.Permissions, Findings: in.Findings, ReadRounds: in.ReadRounds, Reads: in.ReadRequests}
	for _, f := range in.Findings {
		if f.Severity == Warning {
			reg.Warnings = append(reg.Warnings, f.Text)
		}
	}
	return reg
}

func (e *applier) run(ctx context.Context) error {
	// Round 1: the app registration.
	if o := e.appOp(); o != nil {
		if err := e.round(ctx, []*op{o}); err != nil {
			return err
		}
	}
	e.st.AppObjectID, e.st.ClientID = e.reg.AppObjectID, e.reg.ClientID
	e.st.MarkDone(state.StepApp)
	if err := e.save(); err != nil {
		return err
	}
	// A secret an interrupted run added: recovered from custody, or
	// removed (its own round, so its name stays recorded until it is gone).
	orphans, recovered := e.orphanOps()
	e.recovered = recovered
	if len(orphans) > 0 {
		if err := e.round(ctx, orphans); err != nil {
			return err
		}
		e.st.PendingSecret = ""
	}
	// Round 2: service principal and secret.
	if err := e.round(ctx, e.round2Ops()); err != nil {
		return err
	}
	// Round 3: consent and assignments.
	if err := e.round(ctx, e.round3Ops()); err != nil {
		return err
	}
	e.st.MarkDone(state.StepConsent)
	if e.p.AssignUsers {
		e.st.MarkDone(state.StepUsers)
	}
	return e.save()
}

// round announces every action of the round, then sends its requests
// concurrently. Announcing first means a run stopped at any progress event
// has sent nothing of that round, which keeps resumption exact.
func (e *applier) round(ctx context.Context, ops []*op) error {
	if len(ops) == 0 {
		return nil
	}
	for _, o := range ops {
		e.g.Emit(graphapi.Event{Action: o.req.Line()})
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	e.reg.RoundTrips++
	var wg sync.WaitGroup
	errs := make([]error, len(ops))
	// A cap on requests in flight: a plan with many mailboxes must not
	// throttle itself. Still one round trip as far as ordering goes.
	sem := make(chan struct{}, maxParallel)
	for i, o := range ops {
		wg.Add(1)
		go func(i int, o *op) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var raw json.RawMessage
			var err error
			if o.run != nil {
				raw, err = o.run(ctx)
			} else {
				err = e.g.Call(ctx, o.req, &raw)
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			e.reg.Writes++
			if err == nil && o.after != nil {
				err = o.after(raw)
			}
			if err == nil && o.step != "" {
				e.st.MarkDone(o.step)
			}
			if err == nil {
				err = e.save()
			}
			errs[i] = err
		}(i, o)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// ---- Round 1: the app ----

func (e *applier) desiredRRA() (merged []requiredResourceAccess, changed bool) {
	e.addedPerms = nil
	var existing []requiredResourceAccess
	if e.in.app != nil {
		existing = e.in.app.RequiredResourceAccess
	}
	want := map[string]map[string]string{} // resourceAppId -> id -> type
	for _, rp := range e.in.Permissions {
		res := strings.ToLower(rp.Resource.AppID)
		if want[res] == nil {
			want[res] = map[string]string{}
		}
		want[res][strings.ToLower(rp.ID)] = string(rp.Kind)
	}
	// Report what the app has that the plan does not need; keep it unless
	// RemoveUnneeded says otherwise.
	index := map[string]int{}
	for _, r := range existing {
		res := strings.ToLower(r.ResourceAppID)
		var kept []resourceAccess
		for _, a := range r.ResourceAccess {
			if t, ok := want[res][strings.ToLower(a.ID)]; ok && t == a.Type {
				kept = append(kept, a)
				continue
			}
			e.reg.Unneeded = append(e.reg.Unneeded, e.permissionName(r.ResourceAppID, a))
			if e.opts.RemoveUnneeded {
				changed = true
				continue
			}
			kept = append(kept, a)
		}
		if len(kept) == 0 && e.opts.RemoveUnneeded {
			continue
		}
		index[res] = len(merged)
		merged = append(merged, requiredResourceAccess{ResourceAppID: r.ResourceAppID, ResourceAccess: kept})
	}
	for _, rp := range e.in.Permissions {
		res := strings.ToLower(rp.Resource.AppID)
		i, ok := index[res]
		if !ok {
			i = len(merged)
			index[res] = i
			merged = append(merged, requiredResourceAccess{ResourceAppID: rp.Resource.AppID})
		}
		has := false
		for _, a := range merged[i].ResourceAccess {
			if strings.EqualFold(a.ID, rp.ID) && a.Type == string(rp.Kind) {
				has = true
			}
		}
		if !has {
			merged[i].ResourceAccess = append(merged[i].ResourceAccess, resourceAccess{ID: rp.ID, Type: string(rp.Kind)})
			e.addedPerms = append(e.addedPerms, state.PermissionRef{ResourceAppID: rp.Resource.AppID, Kind: string(rp.Kind), Value: rp.Value, ID: rp.ID})
			changed = true
		}
	}
	return merged, changed
}

// permissionName names an existing requiredResourceAccess entry for people.
func (e *applier) permissionName(resourceAppID string, a resourceAccess) string {
	name := a.ID
	if res := e.in.resources[strings.ToLower(resourceAppID)]; res != nil {
		for _, r := range res.AppRoles {
			if strings.EqualFold(r.ID, a.ID) && a.Type == "Role" {
				name = r.Value
			}
		}
		for _, s := range res.OAuth2PermissionScopes {
			if strings.EqualFold(s.ID, a.ID) && a.Type == "Scope" {
				name = s.Value
			}
		}
	}
	resName := resourceAppID
	if r, err := catalog.ResourceByAppID(resourceAppID); err == nil {
		resName = r.Name
	}
	return fmt.Sprintf("%s %s (%s)", resName, name, catalog.Kind(a.Type).Label())
}

func union(have, add []string) ([]string, bool) {
	out := append([]string(nil), have...)
	changed := false
	for _, a := range add {
		found := false
		for _, h := range have {
			if h == a {
				found = true
			}
		}
		if !found {
			out = append(out, a)
			changed = true
		}
	}
	return out, changed
}

// appOp is the create or update of the app registration, or nil when the
// app already matches the plan.
func (e *applier) appOp() *op {
	rra, rraChanged := e.desiredRRA()
	if rra == nil {
		rra = []requiredResourceAccess{}
	}
	app := e.in.app
	if app == nil {
		body := map[string]any{
			"displayName":            e.p.DisplayName,
			"signInAudience":         e.p.Audience.SignInAudience(),
			"isFallbackPublicClient": e.p.PublicClient,
			"requiredResourceAccess": rra,
			"tags":                   ownerTags(e.st.SetupID),
			"notes":                  ownerNotes(e.p, e.st.SetupID),
		}
		switch e.p.Platform {
		case catalog.Web:
			body["web"] = map[string]any{"redirectUris": e.p.RedirectURIs}
		case catalog.PublicClient:
			body["publicClient"] = map[string]any{"redirectUris": e.p.RedirectURIs}
		}
		req := graphapi.Request{Method: "POST", Path: "/applications", Body: body, Change: Change{Action: model.Create, Object: "app registration " + quote(e.p.DisplayName)}, Op: explain.OpCreateApp, NoServerErrorRetry: true}
		return &op{
			req:  req,
			step: state.StepApp,
			run:  func(ctx context.Context) (json.RawMessage, error) { return e.createApp(ctx, req) },
			after: func(raw json.RawMessage) error {
				var created application
				if err := json.Unmarshal(raw, &created); err != nil || created.ID == "" || created.AppID == "" {
					return fmt.Errorf("creating the app: Graph's reply has no id/appId (%v)", err)
				}
				e.reg.AppObjectID, e.reg.ClientID = created.ID, created.AppID
				e.st.AppObjectID, e.st.ClientID, e.st.AppCreated = created.ID, created.AppID, true
				e.change(model.Create, "app registration", fmt.Sprintf("%s, client ID %s", quote(e.p.DisplayName), created.AppID))
				return nil
			},
		}
	}
	e.reg.AppObjectID, e.reg.ClientID = app.ID, app.AppID
	patch := map[string]any{}
	var what []string
	if app.SignInAudience != e.p.Audience.SignInAudience() {
		patch["signInAudience"] = e.p.Audience.SignInAudience()
		what = append(what, "audience")
	}
	if (app.IsFallbackPublicClient != nil && *app.IsFallbackPublicClient) != e.p.PublicClient {
		patch["isFallbackPublicClient"] = e.p.PublicClient
		what = append(what, "public client flows")
	}
	switch e.p.Platform {
	case catalog.Web:
		var have []string
		if app.Web != nil {
			have = app.Web.RedirectURIs
		}
		if uris, ch := union(have, e.p.RedirectURIs); ch {
			patch["web"] = map[string]any{"redirectUris": uris}
			what = append(what, "web redirect URIs")
		}
	case catalog.PublicClient:
		var have []string
		if app.PublicClient != nil {
			have = app.PublicClient.RedirectURIs
		}
		if uris, ch := union(have, e.p.RedirectURIs); ch {
			patch["publicClient"] = map[string]any{"redirectUris": uris}
			what = append(what, "public client redirect URIs")
		}
	}
	if rraChanged {
		patch["requiredResourceAccess"] = rra
		what = append(what, "API permissions")
	}
	if len(patch) == 0 {
		e.change(model.Keep, "app registration", quote(app.DisplayName))
		return nil
	}
	return &op{
		req:  graphapi.Request{Method: "PATCH", Path: "/applications/" + app.ID, Body: patch, Change: Change{Action: model.Update, Object: "app registration " + quote(app.DisplayName), Detail: strings.Join(what, ", ")}, Op: explain.OpCreateApp},
		step: state.StepApp,
		after: func(json.RawMessage) error {
			e.change(model.Update, "app registration", strings.Join(what, ", "))
			if !e.st.AppCreated {
				// Not ours: delete must later remove exactly what was added.
				e.st.AddedPermissions = mergePermissionRefs(e.st.AddedPermissions, e.addedPerms)
			}
			return nil
		},
	}
}

func quote(s string) string { return "\"" + s + "\"" }

// createApp posts the new app. Graph may answer 503/504 to a create it
// carried out; before each new attempt the app is looked up by name, so a
// lost reply never leaves two apps behind.
func (e *applier) createApp(ctx context.Context, req graphapi.Request) (json.RawMessage, error) {
	var raw json.RawMessage
	loop := retry.Loop{Schedule: retry.Graph, What: req.Line(), OnWait: e.g.Emit}
	_, err := loop.Run(ctx, func(ctx context.Context, attempt int) error {
		if attempt > 1 {
			// The last POST may have been carried out although Graph
			// answered 5xx: look before posting again.
			list, err := readAll[application](ctx, e.g, appsNamedPath(e.p.DisplayName), false)
			if err != nil {
				return err
			}
			switch len(list) {
			case 1:
				raw, err = json.Marshal(list[0])
				return err
			case 0:
			default:
				return fmt.Errorf("after Graph's error, %d apps named %q exist; keep one and run again with --app-id", len(list), e.p.DisplayName)
			}
		}
		return e.g.Call(ctx, req, &raw)
	}, func(err error) retry.Verdict {
		var ge *graphapi.Error
		if errors.As(err, &ge) && ge.Graph.Status >= 500 {
			return retry.Verdict{Retry: true, Why: "Graph to recover"}
		}
		return retry.Verdict{}
	})
	return raw, err
}

// ---- Round 2: service principal and secret ----

func (e *applier) round2Ops() []*op {
	var ops []*op
	if e.in.sp != nil {
		e.reg.SPID = e.in.sp.ID
		e.st.SPID = e.in.sp.ID
		e.st.MarkDone(state.StepServicePrincipal)
		e.change(model.Keep, "service principal", e.in.sp.ID)
	} else {
		body := map[string]any{"appId": e.reg.ClientID, "tags": append(ownerTags(e.st.SetupID), tagPortalApp)}
		if e.p.RequireAssignment {
			body["appRoleAssignmentRequired"] = true
		}
		req := graphapi.Request{Method: "POST", Path: "/servicePrincipals", Body: body, Change: Change{Action: model.Create, Object: "service principal (enterprise application)"}, Op: explain.OpCreateSP}
		adopted := false
		ops = append(ops, &op{
			req:  req,
			step: state.StepServicePrincipal,
			run: func(ctx context.Context) (raw json.RawMessage, err error) {
				raw, adopted, err = e.createOrAdopt(ctx, req, func(ctx context.Context) (any, error) { return e.findSP(ctx, e.reg.ClientID) })
				return raw, err
			},
			after: func(raw json.RawMessage) error {
				var sp servicePrincipal
				if err := json.Unmarshal(raw, &sp); err != nil || sp.ID == "" {
					return fmt.Errorf("creating the service principal: Graph's reply has no id (%v)", err)
				}
				// One found already there is this setup's only when it
				// carries the setup's marker (a create whose reply was lost).
				e.reg.SPID, e.st.SPID, e.st.SPCreated = sp.ID, sp.ID, !adopted || createdBy(sp.Tags, e.st)
				if adopted {
					e.change(model.Keep, "service principal", sp.ID+" (already there)")
					if e.p.RequireAssignment && !sp.AppRoleAssignmentRequired {
						e.reg.Warnings = append(e.reg.Warnings, "The service principal was already there; run again to require user assignment on it.")
					}
					return nil
				}
				e.change(model.Create, "service principal", sp.ID)
				if e.p.RequireAssignment {
					e.st.MarkDone(state.StepRequireAssign)
				}
				return nil
			},
		})
	}
	if !e.recovered {
		if o := e.secretOp(); o != nil {
			ops = append(ops, o)
		}
	}
	return ops
}

// secretOp adds a client secret unless the state says this app already got
// one from mailoauth that still exists (and no rotation was asked for).
func (e *applier) secretOp() *op {
	if !e.p.Secret.Needed {
		return nil
	}
	if prev := e.st.Secret; prev != nil && !e.p.Secret.Rotate && e.in.app != nil {
		for _, pc := range e.in.app.PasswordCredentials {
			if strings.EqualFold(pc.KeyID, prev.KeyID) {
				kept := *prev
				e.reg.KeptSecret = &kept
				e.change(model.Keep, "client secret", fmt.Sprintf("%s… (key %s) added earlier, expires %s; use rotate for a new one", prev.Hint, prev.KeyID, prev.EndDateTime.Format("2006-01-02")))
				e.st.MarkDone(state.StepSecret)
				return nil
			}
		}
		e.reg.Warnings = append(e.reg.Warnings, fmt.Sprintf("The secret recorded in the state file (key %s) no longer exists on the app; a new one is added.", prev.KeyID))
	}
	months := e.p.Secret.Months
	now := time.Now().UTC()
	end := now.AddDate(0, months, 0).Truncate(time.Second)
	name := secretName(e.p.Secret.DisplayName, now)
	path := "/applications/" + e.reg.AppObjectID + "/addPassword"
	// FinishInFlight: the secret's value comes back only in this reply, so a
	// cancelled run lets a sent addPassword finish and records it.
	req := graphapi.Request{Method: "POST", Path: path, Body: passwordBody(name, end), Change: Change{Action: model.Add, Object: fmt.Sprintf("client secret %s (%d months)", quote(e.p.Secret.DisplayName), months)}, Op: explain.OpAddSecret, RetryNotFound: true, FinishInFlight: true}
	o := &op{req: req, step: state.StepSecret}
	shortened := "" // set by run, read by after (same goroutine)
	o.run = func(ctx context.Context) (json.RawMessage, error) {
		// The secret's name is saved before it is asked for: a run killed
		// before the reply is kept finds it again by that name.
		e.mu.Lock()
		e.st.PendingSecret = name
		err := e.save()
		e.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("not adding a client secret: the state file could not record it first: %w", err)
		}
		// A tenant policy may cap secret lifetimes; try shorter ones.
		lifetimes := []time.Time{end}
		for _, days := range []int{180, 90, 30} {
			if t := now.AddDate(0, 0, days).Truncate(time.Second); t.Before(end) {
				lifetimes = append(lifetimes, t)
			}
		}
		var lastErr error
		for i, t := range lifetimes {
			r := req
			r.Body = passwordBody(name, t)
			if i > 0 {
				r.Change.Object = fmt.Sprintf("client secret with a shorter lifetime (until %s) because of the tenant's policy", t.Format("2006-01-02"))
				e.g.Emit(graphapi.Event{Action: r.Line()})
			}
			var raw json.RawMessage
			err := e.g.Call(ctx, r, &raw)
			if err == nil {
				if i > 0 {
					shortened = fmt.Sprintf("A tenant policy caps secret lifetimes: the secret expires on %s instead of after %d months (%v).", t.Format("2006-01-02"), months, lastErr)
				}
				return raw, nil
			}
			if !lifetimePolicy(err) {
				return nil, err
			}
			lastErr = err
		}
		return nil, fmt.Errorf("adding a client secret: every lifetime down to 30 days was refused by the tenant's policy: %w", lastErr)
	}
	o.after = func(raw json.RawMessage) error {
		var pc passwordCredential
		if err := json.Unmarshal(raw, &pc); err != nil || pc.KeyID == "" || pc.SecretText == "" {
			return fmt.Errorf("adding a client secret: Graph's reply has no keyId/secretText")
		}
		s := &Secret{KeyID: pc.KeyID, Hint: pc.Hint, DisplayName: pc.DisplayName, Shortened: shortened, text: pc.SecretText}
		if pc.EndDateTime != nil {
			s.EndDateTime = pc.EndDateTime.UTC()
		}
		if s.Hint == "" && len(pc.SecretText) >= 3 {
			s.Hint = pc.SecretText[:3]
		}
		// Into custody before anything else: the value exists nowhere else.
		if err := e.keep(s); err != nil {
			return err
		}
		if shortened != "" {
			e.reg.Warnings = append(e.reg.Warnings, shortened)
		}
		e.reg.Secret = s
		e.recordSecret(s)
		e.change(model.Add, "client secret", fmt.Sprintf("%s… (key %s), expires %s", s.Hint, s.KeyID, s.EndDateTime.Format("2006-01-02")))
		return nil
	}
	return o
}

// keep puts a new secret into custody. When that fails nobody holds the
// secret, so it is removed again at once rather than left working on the
// app with no one knowing it.
func (e *applier) keep(s *Secret) error {
	if e.opts.Custody == nil {
		return nil
	}
	err := e.opts.Custody.Keep(s)
	if err == nil {
		return nil
	}
	rm := graphapi.Request{Method: "POST", Path: "/applications/" + e.reg.AppObjectID + "/removePassword", Body: map[string]any{"keyId": s.KeyID},
		Change: Change{Action: model.Remove, Object: "the new client secret again, since it could not be kept"}, Op: explain.OpAddSecret, RetryNotFound: true, FinishInFlight: true}
	if rerr := e.g.Call(context.Background(), rm, nil); rerr != nil {
		return fmt.Errorf("the new client secret (key %s) could not be kept (%v), and removing it again failed too (%v): remove it in the portal (App registrations → %s → Certificates & secrets)", s.KeyID, err, rerr, e.p.DisplayName)
	}
	e.st.PendingSecret = ""
	return fmt.Errorf("the new client secret could not be kept (%w); it was removed again from the app, since no one could receive it", err)
}

// recordSecret makes s the setup's secret in the state file.
func (e *applier) recordSecret(s *Secret) {
	e.st.Secret = &state.Secret{KeyID: s.KeyID, Hint: s.Hint, DisplayName: s.DisplayName, EndDateTime: s.EndDateTime, AddedAt: time.Now().UTC()}
	e.st.PendingSecret = ""
}

// orphanOps deals with a secret whose add was interrupted (its name is
// the state's PendingSecret): one the custody file holds becomes the
// setup's secret; one nobody holds is removed — it was never handed to
// anyone. It reports whether a secret was recovered.
func (e *applier) orphanOps() (ops []*op, recovered bool) {
	pending := e.st.PendingSecret
	if pending == "" || e.in.app == nil {
		return nil, false
	}
	for _, pc := range e.in.app.PasswordCredentials {
		if pc.DisplayName != pending || (e.st.Secret != nil && strings.EqualFold(pc.KeyID, e.st.Secret.KeyID)) {
			continue
		}
		if e.opts.Custody != nil {
			if v, ok := e.opts.Custody.Recall(pc.KeyID); ok && !recovered {
				s := &Secret{KeyID: pc.KeyID, Hint: pc.Hint, DisplayName: pc.DisplayName, text: v}
				if pc.EndDateTime != nil {
					s.EndDateTime = pc.EndDateTime.UTC()
				}
				e.reg.Secret = s
				e.recordSecret(s)
				e.st.MarkDone(state.StepSecret)
				e.change(model.Keep, "client secret", fmt.Sprintf("%s… (key %s) added by the interrupted run, recovered from its custody file", s.Hint, s.KeyID))
				recovered = true
				continue
			}
		}
		keyID, hint := pc.KeyID, pc.Hint
		ops = append(ops, &op{
			req: graphapi.Request{Method: "POST", Path: "/applications/" + e.reg.AppObjectID + "/removePassword", Body: map[string]any{"keyId": keyID},
				Change: Change{Action: model.Remove, Object: fmt.Sprintf("orphaned client secret %s… (key %s)", hint, keyID), Detail: "an interrupted run added it and no one ever received its value"}, Op: explain.OpAddSecret},
			after: func(json.RawMessage) error {
				e.change(model.Remove, "orphaned client secret", fmt.Sprintf("%s… (key %s): never handed to anyone", hint, keyID))
				return nil
			},
		})
	}
	if !recovered && len(ops) == 0 {
		e.st.PendingSecret = "" // the add never reached Graph
	}
	return ops, recovered
}

func passwordBody(name string, end time.Time) map[string]any {
	return map[string]any{"passwordCredential": map[string]any{"displayName": name, "endDateTime": end.Format(time.RFC3339)}}
}

func lifetimePolicy(err error) bool {
	var ge *graphapi.Error
	return errors.As(err, &ge) && ge.Graph != nil && strings.Contains(strings.ToLower(ge.Graph.Message), "credential lifetime exceeds")
}

// ---- Round 3: consent and assignments ----

func (e *applier) round3Ops() []*op {
	spID := e.reg.SPID
	ops := e.grantOps(spID)
	ops = append(ops, e.appRoleOps(spID)...)
	ops = append(ops, e.userAssignmentOps(spID)...)
	if o := e.requireAssignmentOp(spID); o != nil {
		ops = append(ops, o)
	}
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].req.Method < ops[j].req.Method })
	return ops
}

// grantOps: delegated consent, one AllPrincipals grant per resource.
func (e *applier) grantOps(spID string) []*op {
	var ops []*op
	type grantNeed struct {
		resAppID, resSPID string
		scopes            []string
	}
	var needs []*grantNeed
	idx := map[string]*grantNeed{}
	for _, rp := range e.in.Permissions {
		if rp.Kind != catalog.Delegated {
			continue
		}
		n := idx[rp.ResourceSPID]
		if n == nil {
			n = &grantNeed{resAppID: rp.Resource.AppID, resSPID: rp.ResourceSPID}
			idx[rp.ResourceSPID] = n
			needs = append(needs, n)
		}
		n.scopes = append(n.scopes, rp.Value)
	}
	for _, n := range needs {
		n := n
		resName := resourceName(n.resAppID)
		existing := e.in.grants[n.resSPID]
		if existing == nil {
			scope := strings.Join(n.scopes, " ")
			req := graphapi.Request{Method: "POST", Path: "/oauth2PermissionGrants", Body: map[string]any{"clientId": spID, "consentType": "AllPrincipals", "resourceId": n.resSPID, "scope": scope}, Change: Change{Action: model.Grant, Object: "admin consent for " + resName, Detail: scope}, Op: explain.OpGrantDelegated, RetryNotFound: true}
			adopted := false
			ops = append(ops, &op{
				req: req,
				run: func(ctx context.Context) (raw json.RawMessage, err error) {
					raw, adopted, err = e.createOrAdopt(ctx, req, func(ctx context.Context) (any, error) {
						gr, err := e.findGrant(ctx, spID, n.resSPID)
						if err != nil || gr == nil {
							return nil, err
						}
						// The grant already there may lack scopes: extend it.
						if merged, changed := union(strings.Fields(gr.Scope), n.scopes); changed {
							gr.Scope = strings.Join(merged, " ")
							patch := graphapi.Request{Method: "PATCH", Path: "/oauth2PermissionGrants/" + gr.ID, Body: map[string]any{"scope": gr.Scope}, Change: Change{Action: model.Extend, Object: "admin consent for " + resName, Detail: gr.Scope}, Op: explain.OpGrantDelegated, RetryNotFound: true}
							if err := e.g.Call(ctx, patch, nil); err != nil {
								return nil, err
							}
						}
						return gr, nil
					})
					return raw, err
				},
				after: func(raw json.RawMessage) error {
					var gr permissionGrant
					if err := json.Unmarshal(raw, &gr); err != nil || gr.ID == "" {
						return fmt.Errorf("granting consent for %s: Graph's reply has no id (%v)", resName, err)
					}
					e.reg.Grants[n.resAppID] = gr.ID
					e.st.Grants[n.resAppID] = state.Grant{ID: gr.ID, ResourceID: n.resSPID, Scope: gr.Scope, Created: !adopted || e.st.SPCreated}
					verb := model.Grant
					if adopted {
						verb = model.Keep
					}
					e.change(verb, "admin consent "+resName, gr.Scope)
					return nil
				},
			})
			continue
		}
		have := strings.Fields(existing.Scope)
		merged, changed := union(have, n.scopes)
		e.reg.Grants[n.resAppID] = existing.ID
		if _, known := e.st.Grants[n.resAppID]; !known {
			e.st.Grants[n.resAppID] = state.Grant{ID: existing.ID, ResourceID: n.resSPID, Scope: existing.Scope}
		}
		if !changed {
			e.change(model.Keep, "admin consent "+resName, existing.Scope)
			continue
		}
		scope := strings.Join(merged, " ")
		id := existing.ID
		ops = append(ops, &op{
			req: graphapi.Request{Method: "PATCH", Path: "/oauth2PermissionGrants/" + id, Body: map[string]any{"scope": scope}, Change: Change{Action: model.Extend, Object: "admin consent for " + resName, Detail: scope}, Op: explain.OpGrantDelegated, RetryNotFound: true},
			after: func(json.RawMessage) error {
				g := e.st.Grants[n.resAppID]
				g.ID, g.ResourceID, g.Scope = id, n.resSPID, scope
				e.st.Grants[n.resAppID] = g
				e.change(model.Extend, "admin consent "+resName, scope)
				return nil
			},
		})
	}
	return ops
}

// appRoleOps: application permissions, one appRoleAssignment each.
func (e *applier) appRoleOps(spID string) []*op {
	var ops []*op
	for _, rp := range e.in.Permissions {
		if rp.Kind != catalog.Application {
			continue
		}
		rp := rp
		key := rp.Resource.AppID + "/" + rp.Value
		if a := findAssignment(e.in.roleAssign, spID, rp.ResourceSPID, rp.ID); a != nil {
			e.reg.AppRoleAssignmentIDs[key] = a.ID
			e.change(model.Keep, "admin consent "+rp.Value, resourceName(rp.Resource.AppID))
			continue
		}
		operation := explain.OpGrantExchangeAppRole
		if rp.Resource.AppID == catalog.MicrosoftGraph.AppID {
			operation = explain.OpGrantGraphAppRole
		}
		req := graphapi.Request{Method: "POST", Path: "/servicePrincipals/" + rp.ResourceSPID + "/appRoleAssignedTo", Body: map[string]any{"principalId": spID, "resourceId": rp.ResourceSPID, "appRoleId": rp.ID}, Change: Change{Action: model.Grant, Object: "admin consent for " + resourceName(rp.Resource.AppID) + " " + rp.Value + " (application)"}, Op: operation, RetryNotFound: true}
		ops = append(ops, &op{
			req: req,
			run: func(ctx context.Context) (json.RawMessage, error) {
				raw, _, err := e.createOrAdopt(ctx, req, func(ctx context.Context) (any, error) {
					return e.findAssignment(ctx, "/servicePrincipals/"+spID+"/appRoleAssignments", spID, rp.ResourceSPID, rp.ID)
				})
				return raw, err
			},
			after: func(raw json.RawMessage) error {
				var a appRoleAssignment
				if err := json.Unmarshal(raw, &a); err != nil || a.ID == "" {
					return fmt.Errorf("consenting %s: Graph's reply has no id (%v)", rp.Value, err)
				}
				e.reg.AppRoleAssignmentIDs[key] = a.ID
				e.st.AppRoleAssignments = append(e.st.AppRoleAssignments, state.Assignment{ID: a.ID, ResourceID: rp.ResourceSPID, AppRoleID: rp.ID, PrincipalID: spID, Name: rp.Value, Created: true})
				e.change(model.Grant, "admin consent "+rp.Value, resourceName(rp.Resource.AppID))
				return nil
			},
		})
	}
	return ops
}

// userAssignmentOps: the mailbox users, assigned to the enterprise app.
func (e *applier) userAssignmentOps(spID string) []*op {
	var ops []*op
	if e.p.AssignUsers {
		for _, mb := range e.in.Mailboxes {
			mb := mb
			if !mb.Found {
				continue
			}
			if a := findAssignment(e.in.userAssign, mb.UserID, spID, catalog.DefaultAppRoleID); a != nil {
				e.reg.UserAssignmentIDs[mb.Address] = a.ID
				e.change(model.Keep, "user "+mb.Address, "assigned")
				continue
			}
			req := graphapi.Request{Method: "POST", Path: "/servicePrincipals/" + spID + "/appRoleAssignedTo", Body: map[string]any{"principalId": mb.UserID, "resourceId": spID, "appRoleId": catalog.DefaultAppRoleID}, Change: Change{Action: model.Assign, Object: mb.Address + " to the app"}, Op: explain.OpAssignUser, RetryNotFound: true}
			ops = append(ops, &op{
				req: req,
				run: func(ctx context.Context) (json.RawMessage, error) {
					raw, _, err := e.createOrAdopt(ctx, req, func(ctx context.Context) (any, error) {
						return e.findAssignment(ctx, "/servicePrincipals/"+spID+"/appRoleAssignedTo", mb.UserID, spID, catalog.DefaultAppRoleID)
					})
					return raw, err
				},
				after: func(raw json.RawMessage) error {
					var a appRoleAssignment
					if err := json.Unmarshal(raw, &a); err != nil || a.ID == "" {
						return fmt.Errorf("assigning %s: Graph's reply has no id (%v)", mb.Address, err)
					}
					e.reg.UserAssignmentIDs[mb.Address] = a.ID
					e.st.UserAssignments = append(e.st.UserAssignments, state.Assignment{ID: a.ID, ResourceID: spID, AppRoleID: catalog.DefaultAppRoleID, PrincipalID: mb.UserID, Name: mb.Address, Created: true})
					e.change(model.Assign, "user "+mb.Address, "assigned")
					return nil
				},
			})
		}
	}
	return ops
}

// requireAssignmentOp: only assigned users may sign in (an existing SP).
func (e *applier) requireAssignmentOp(spID string) *op {
	if !e.p.RequireAssignment || e.in.sp == nil || e.in.sp.AppRoleAssignmentRequired {
		return nil
	}
	return &op{
		req:  graphapi.Request{Method: "PATCH", Path: "/servicePrincipals/" + spID, Body: map[string]any{"appRoleAssignmentRequired": true}, Change: Change{Action: model.Require, Object: "user assignment for the app"}, Op: explain.OpCreateSP},
		step: state.StepRequireAssign,
		after: func(json.RawMessage) error {
			e.change(model.Update, "service principal", "assignment required")
			return nil
		},
	}
}

func findAssignment(list []appRoleAssignment, principalID, resourceID, roleID string) *appRoleAssignment {
	for i := range list {
		a := &list[i]
		if strings.EqualFold(a.PrincipalID, principalID) && strings.EqualFold(a.ResourceID, resourceID) && strings.EqualFold(a.AppRoleID, roleID) {
			return a
		}
	}
	return nil
}

func resourceName(appID string) string {
	if r, err := catalog.ResourceByAppID(appID); err == nil {
		return r.Name
	}
	return appID
}

// mergePermissionRefs adds refs not yet in have (by resource, kind and ID).
func mergePermissionRefs(have, add []state.PermissionRef) []state.PermissionRef {
	out := append([]state.PermissionRef(nil), have...)
	for _, a := range add {
		dup := false
		for _, h := range have {
			if strings.EqualFold(h.ResourceAppID, a.ResourceAppID) && h.Kind == a.Kind && strings.EqualFold(h.ID, a.ID) {
				dup = true
			}
		}
		if !dup {
			out = append(out, a)
		}
	}
	return out
}
