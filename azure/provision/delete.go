package provision

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/model"
)

// DeleteResult says what was removed, what was left in place because
// mailoauth found it rather than made it, and what it refused to touch
// because the tenant does not show it as this setup's.
type DeleteResult struct {
	Deleted []Change `json:"deleted"`
	Kept    []Change `json:"kept"`
	Refused []Change `json:"refused,omitempty"`
}

// Delete removes what this setup made, and only what the tenant shows to be
// this setup's: the state file is a hint, never proof (anyone can edit it).
//
//   - The app registration is deleted (soft: restorable for 30 days) only
//     when it has the state's client ID and carries the setup's marker
//     (tag mailoauth-created:<setup id>); an app it only updated keeps
//     everything but what mailoauth added: its client secrets (the
//     recorded one and any an interrupted run left) and the permissions it
//     added (read-modify-write of requiredResourceAccess).
//   - The service principal is deleted only when it belongs to that app
//     and carries the marker.
//   - A consent grant is removed only when its clientId is that service
//     principal; an assignment only when the service principal's own lists
//     show it (principal or resource is that service principal).
//
// Everything else is reported as Refused with the reason. On success the
// state is emptied and saved, so a second delete does nothing.
func Delete(ctx context.Context, g *graphapi.Client, st *state.State, statePath string) (*DeleteResult, error) {
	if st == nil || (st.AppObjectID == "" && st.SPID == "") {
		return nil, errors.New("delete: the state file records no app made by mailoauth; nothing to delete")
	}
	d := &deleter{g: g, st: st, res: &DeleteResult{}}
	if err := d.readOwnership(ctx); err != nil {
		return nil, err
	}
	// 1. What hangs off the service principal, and what mailoauth added to
	// an app it did not make.
	if err := d.run(ctx, append(d.consentRemovals(ctx), d.addedToAdoptedApp()...)); err != nil {
		return d.res, err
	}
	// 2. The service principal, then the app.
	if err := d.run(ctx, d.spRemoval()); err != nil {
		return d.res, err
	}
	if err := d.run(ctx, d.appRemoval()); err != nil {
		return d.res, err
	}
	if len(d.res.Refused) == 0 {
		// Forget what was removed, so a second delete does nothing.
		st.UserAssignments, st.AppRoleAssignments, st.Grants, st.Secret, st.PendingSecret, st.AddedPermissions = nil, nil, map[string]state.Grant{}, nil, "", nil
		st.AppObjectID, st.ClientID, st.SPID, st.AppCreated, st.SPCreated, st.Steps = "", "", "", false, false, nil
		if statePath != "" {
			if err := state.Save(statePath, st); err != nil {
				return d.res, err
			}
		}
	}
	return d.res, nil
}

// deleter is one delete: what the tenant says is this setup's.
type deleter struct {
	g   *graphapi.Client
	st  *state.State
	res *DeleteResult
	mu  sync.Mutex

	app      *application // nil: gone
	appOwned bool         // this setup created it (marker checked)
	sp       *servicePrincipal
	spOwned  bool
}

func (d *deleter) refuse(object, why string) {
	d.res.Refused = append(d.res.Refused, Change{Action: model.Skip, Object: object, Detail: why})
}

func (d *deleter) keep(object, why string) {
	d.res.Kept = append(d.res.Kept, Change{Action: model.Keep, Object: object, Detail: why})
}

// readOwnership reads the app and the service principal back and checks
// them against the state and the setup's marker.
func (d *deleter) readOwnership(ctx context.Context) error {
	st := d.st
	if st.AppObjectID != "" {
		var app application
		err := d.g.Call(ctx, graphapi.Request{Method: "GET", Path: "/applications/" + st.AppObjectID + graphapi.Query("$select", "id,appId,displayName,tags,requiredResourceAccess,passwordCredentials"), Action: "Checking the app before deleting"}, &app)
		switch {
		case graphapi.Status(err) == http.StatusNotFound:
		case err != nil:
			return err
		case !strings.EqualFold(app.AppID, st.ClientID):
			return fmt.Errorf("delete refused: object %s is app %s (%q), not the client ID %s the state file records", st.AppObjectID, app.AppID, app.DisplayName, st.ClientID)
		default:
			d.app = &app
			d.appOwned = st.AppCreated && createdBy(app.Tags, st)
			if st.AppCreated && !d.appOwned {
				d.refuse("app registration "+quote(app.DisplayName), fmt.Sprintf("the state file says mailoauth created it, but it does not carry this setup's marker (tag %s)", CreatedTag(st.SetupID)))
			}
		}
	}
	if st.SPID != "" {
		var sp servicePrincipal
		err := d.g.Call(ctx, graphapi.Request{Method: "GET", Path: "/servicePrincipals/" + st.SPID + graphapi.Query("$select", spSelect), Action: "Checking the service principal before deleting"}, &sp)
		switch {
		case graphapi.Status(err) == http.StatusNotFound:
		case err != nil:
			return err
		case !strings.EqualFold(sp.AppID, st.ClientID):
			d.refuse("service principal "+st.SPID, fmt.Sprintf("it belongs to app %s (%q), not to the setup's app %s; nothing hanging off it is touched", sp.AppID, sp.DisplayName, st.ClientID))
		default:
			d.sp = &sp
			d.spOwned = st.SPCreated && createdBy(sp.Tags, st)
			if st.SPCreated && !d.spOwned {
				d.refuse("service principal "+st.SPID, fmt.Sprintf("the state file says mailoauth created it, but it does not carry this setup's marker (tag %s)", CreatedTag(st.SetupID)))
			}
		}
	}
	return nil
}

// consentRemovals are the grants and assignments this setup made that the
// tenant shows to be its service principal's.
func (d *deleter) consentRemovals(ctx context.Context) []graphapi.Request {
	st := d.st
	var reqs []graphapi.Request
	remove := func(method, path, object string, body any) {
		reqs = append(reqs, graphapi.Request{Method: method, Path: path, Body: body, Change: Change{Action: model.Remove, Object: object}})
	}
	if d.sp == nil {
		for _, resApp := range sortedKeys(st.Grants) {
			if st.Grants[resApp].Created {
				d.refuse("admin consent for "+resourceName(resApp), "the setup's service principal is gone or not the app's, so the grant cannot be proved the setup's")
			}
		}
		return nil
	}
	spID := d.sp.ID
	asPrincipal, errP := readAll[appRoleAssignment](ctx, d.g, "/servicePrincipals/"+spID+"/appRoleAssignments", false)
	asResource, errR := readAll[appRoleAssignment](ctx, d.g, "/servicePrincipals/"+spID+"/appRoleAssignedTo", false)
	find := func(list []appRoleAssignment, id string) *appRoleAssignment {
		for i := range list {
			if strings.EqualFold(list[i].ID, id) {
				return &list[i]
			}
		}
		return nil
	}
	has := func(list []appRoleAssignment, id string) bool { return find(list, id) != nil }
	for _, a := range st.UserAssignments {
		switch {
		case !a.Created:
		case errR != nil:
			d.refuse("the assignment of "+a.Name, "the service principal's assignments could not be read: "+errR.Error())
		case has(asResource, a.ID):
			remove("DELETE", "/servicePrincipals/"+spID+"/appRoleAssignedTo/"+a.ID, "the assignment of "+a.Name, nil)
		default:
			d.keep("the assignment of "+a.Name, "already gone")
		}
	}
	for _, a := range st.AppRoleAssignments {
		switch {
		case !a.Created:
		case errP != nil:
			d.refuse("admin consent for "+a.Name, "the service principal's assignments could not be read: "+errP.Error())
		case has(asPrincipal, a.ID):
			// The resource as the tenant lists it, not as the state says.
			remove("DELETE", "/servicePrincipals/"+find(asPrincipal, a.ID).ResourceID+"/appRoleAssignedTo/"+a.ID, "admin consent for "+a.Name, nil)
		default:
			d.keep("admin consent for "+a.Name, "already gone")
		}
	}
	for _, resApp := range sortedKeys(st.Grants) {
		gr := st.Grants[resApp]
		name := "admin consent for " + resourceName(resApp)
		if !gr.Created {
			d.keep(name, "mailoauth only added scopes to a grant that existed before; remove them in the portal if needed")
			continue
		}
		var got permissionGrant
		err := d.g.Call(ctx, graphapi.Request{Method: "GET", Path: "/oauth2PermissionGrants/" + gr.ID, Action: "Checking a consent grant before deleting"}, &got)
		switch {
		case graphapi.Status(err) == http.StatusNotFound:
			d.keep(name, "already gone")
		case err != nil:
			d.refuse(name, "it could not be read: "+err.Error())
		case !strings.EqualFold(got.ClientID, spID):
			d.refuse(name, fmt.Sprintf("grant %s is for client %s, not the setup's service principal %s", gr.ID, got.ClientID, spID))
		default:
			remove("DELETE", "/oauth2PermissionGrants/"+gr.ID, name, nil)
		}
	}
	return reqs
}

// addedToAdoptedApp undoes what mailoauth added to an app it did not make:
// its client secrets and the permissions it added; the rest of the app is
// left as it was.
func (d *deleter) addedToAdoptedApp() []graphapi.Request {
	st := d.st
	if d.app == nil || st.AppCreated {
		return nil
	}
	var reqs []graphapi.Request
	for _, pc := range d.app.PasswordCredentials {
		ours := (st.Secret != nil && strings.EqualFold(pc.KeyID, st.Secret.KeyID)) || (st.PendingSecret != "" && pc.DisplayName == st.PendingSecret)
		if ours {
			reqs = append(reqs, graphapi.Request{Method: "POST", Path: "/applications/" + d.app.ID + "/removePassword", Body: map[string]any{"keyId": pc.KeyID},
				Change: Change{Action: model.Remove, Object: fmt.Sprintf("client secret %s… mailoauth added", pc.Hint)}})
		}
	}
	if len(st.AddedPermissions) > 0 {
		rra, removed := withoutPermissions(d.app.RequiredResourceAccess, st.AddedPermissions)
		if len(removed) > 0 {
			reqs = append(reqs, graphapi.Request{Method: "PATCH", Path: "/applications/" + d.app.ID, Body: map[string]any{"requiredResourceAccess": rra},
				Change: Change{Action: model.Remove, Object: "the API permissions mailoauth added", Detail: strings.Join(removed, ", ")}})
		}
	}
	d.keep("app registration "+quote(d.app.DisplayName), "it existed before mailoauth; only what mailoauth added is removed")
	return reqs
}

// withoutPermissions is rra without the refs, and the names removed.
func withoutPermissions(rra []requiredResourceAccess, refs []state.PermissionRef) ([]requiredResourceAccess, []string) {
	out := []requiredResourceAccess{}
	var removed []string
	for _, r := range rra {
		var keep []resourceAccess
		for _, a := range r.ResourceAccess {
			drop := false
			for _, ref := range refs {
				if strings.EqualFold(ref.ResourceAppID, r.ResourceAppID) && strings.EqualFold(ref.ID, a.ID) && ref.Kind == a.Type {
					drop = true
					removed = append(removed, ref.Value)
				}
			}
			if !drop {
				keep = append(keep, a)
			}
		}
		if len(keep) > 0 {
			out = append(out, requiredResourceAccess{ResourceAppID: r.ResourceAppID, ResourceAccess: keep})
		}
	}
	return out, removed
}

func (d *deleter) spRemoval() []graphapi.Request {
	switch {
	case d.sp == nil:
		return nil
	case d.spOwned:
		return []graphapi.Request{{Method: "DELETE", Path: "/servicePrincipals/" + d.sp.ID, Change: Change{Action: model.Delete, Object: "the service principal"}}}
	case !d.st.SPCreated:
		d.keep("service principal", "it existed before mailoauth")
	}
	return nil
}

func (d *deleter) appRemoval() []graphapi.Request {
	if d.app == nil || !d.appOwned {
		return nil
	}
	return []graphapi.Request{{Method: "DELETE", Path: "/applications/" + d.app.ID, Change: Change{Action: model.Delete, Object: "the app registration", Detail: "restorable for 30 days"}}}
}

// run sends one round of removals concurrently; a 404 is "already gone".
func (d *deleter) run(ctx context.Context, reqs []graphapi.Request) error {
	var wg sync.WaitGroup
	errs := make([]error, len(reqs))
	for _, r := range reqs {
		d.g.Emit(graphapi.Event{Action: r.Line()})
	}
	for i := range reqs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			err := d.g.Call(ctx, reqs[i], nil)
			done := reqs[i].Change
			if graphapi.Status(err) == http.StatusNotFound {
				err, done.Detail = nil, "already gone"
			}
			errs[i] = err
			if err == nil {
				d.mu.Lock()
				d.res.Deleted = append(d.res.Deleted, done)
				d.mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	return errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
