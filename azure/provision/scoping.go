package provision

import (
	"context"
	"fmt"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/model"
)

// RemoveScopedPermissions takes tenant-wide application permissions off
// the setup's app once RBAC for Applications limits the same access to its
// mailboxes: Microsoft requires it for the scope to take effect (an
// application permission in Entra grants every mailbox whatever the
// scope). Asked for (limit_mailbox_access), never unasked; only the
// setup's own consent is removed (its assignment IDs from the state file,
// checked against the app's service principal).
func RemoveScopedPermissions(ctx context.Context, g *graphapi.Client, store *state.Store, perms []catalog.Permission) ([]Change, error) {
	st := store.State()
	if st == nil || st.AppObjectID == "" || len(perms) == 0 {
		return nil, nil
	}
	var done []Change
	drop := func(resourceAppID, value string) bool {
		for _, p := range perms {
			if strings.EqualFold(p.Resource.AppID, resourceAppID) && p.Value == value && p.Kind == catalog.Application {
				return true
			}
		}
		return false
	}
	// The consent: the app role assignments this setup made for them.
	if st.SPID != "" {
		mine, err := readAll[appRoleAssignment](ctx, g, "/servicePrincipals/"+st.SPID+"/appRoleAssignments", false)
		if err != nil {
			return nil, err
		}
		var keep []state.Assignment
		for _, a := range st.AppRoleAssignments {
			listed := false
			for _, m := range mine {
				if strings.EqualFold(m.ID, a.ID) {
					listed = true
				}
			}
			if !listed || !dropByName(perms, a.Name) {
				keep = append(keep, a)
				continue
			}
			req := graphapi.Request{Method: "DELETE", Path: "/servicePrincipals/" + a.ResourceID + "/appRoleAssignedTo/" + a.ID,
				Change: Change{Action: model.Remove, Object: "admin consent for " + a.Name, Detail: "RBAC for Applications limits it to the setup's mailboxes"}}
			if err := g.Call(ctx, req, nil); err != nil && graphapi.Status(err) != 404 {
				return done, err
			}
			done = append(done, req.Change)
		}
		if err := store.Update(func(s *state.State) { s.AppRoleAssignments = keep }); err != nil {
			return done, err
		}
	}
	// The registration's requiredResourceAccess entries.
	var app application
	if err := g.Call(ctx, graphapi.Request{Method: "GET", Path: "/applications/" + st.AppObjectID + graphapi.Query("$select", "id,requiredResourceAccess")}, &app); err != nil {
		return done, err
	}
	var refs []state.PermissionRef
	if st.Setup != nil {
		for _, p := range st.Setup.Permissions {
			if p.Kind == string(catalog.Application) && drop(p.ResourceAppID, p.Value) {
				refs = append(refs, p)
			}
		}
	}
	rra, removed := withoutPermissions(app.RequiredResourceAccess, refs)
	if len(removed) > 0 {
		req := graphapi.Request{Method: "PATCH", Path: "/applications/" + st.AppObjectID, Body: map[string]any{"requiredResourceAccess": rra},
			Change: Change{Action: model.Remove, Object: "API permissions " + strings.Join(removed, ", "), Detail: "RBAC for Applications limits them to the setup's mailboxes"}}
		if err := g.Call(ctx, req, nil); err != nil {
			return done, fmt.Errorf("removing the tenant-wide permissions RBAC now limits: %w", err)
		}
		done = append(done, req.Change)
	}
	err := store.Update(func(s *state.State) {
		if s.Setup == nil {
			return
		}
		var kept []state.PermissionRef
		for _, p := range s.Setup.Permissions {
			if p.Kind == string(catalog.Application) && drop(p.ResourceAppID, p.Value) {
				s.Setup.ScopedAway = mergePermissionRefs(s.Setup.ScopedAway, []state.PermissionRef{p})
				continue
			}
			kept = append(kept, p)
		}
		s.Setup.Permissions = kept
	})
	return done, err
}

func dropByName(perms []catalog.Permission, name string) bool {
	for _, p := range perms {
		if p.Value == name && p.Kind == catalog.Application {
			return true
		}
	}
	return false
}
