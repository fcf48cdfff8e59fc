package provision

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/state"
)

// DeleteResult says what was removed and what was left in place (objects
// mailoauth found rather than made).
type DeleteResult struct {
	Deleted []Change `json:"deleted"`
	Kept    []Change `json:"kept"`
}

// Delete removes exactly what the state file says mailoauth made: the user
// and application-permission assignments, the consent grants it created,
// the secret it added (when it did not create the app), the service
// principal and the app registration (soft-deleted: restorable for 30
// days). Objects it found rather than made are left in place. Before
// anything is removed, the app is read back and must still have the state's
// client ID, so a reused object ID can never delete someone else's app.
// On success the state is emptied and saved to statePath (when not "").
func Delete(ctx context.Context, g *graphapi.Client, st *state.State, statePath string) (*DeleteResult, error) {
	if st == nil || (st.AppObjectID == "" && st.SPID == "") {
		return nil, errors.New("delete: the state file records no app made by mailoauth; nothing to delete")
	}
	res := &DeleteResult{}
	appGone := false
	if st.AppObjectID != "" {
		var app application
		err := g.Call(ctx, graphapi.Request{Method: "GET", Path: "/applications/" + st.AppObjectID + graphapi.Query("$select", "id,appId,displayName"), Action: "Checking the app before deleting"}, &app)
		switch {
		case graphapi.Status(err) == http.StatusNotFound:
			appGone = true
		case err != nil:
			return nil, err
		case !strings.EqualFold(app.AppID, st.ClientID):
			return nil, fmt.Errorf("delete refused: object %s is now app %s (%q), not the client ID %s the state file recorded", st.AppObjectID, app.AppID, app.DisplayName, st.ClientID)
		}
	}
	var mu sync.Mutex
	del := func(ctx context.Context, reqs []graphapi.Request, names []string) error {
		var wg sync.WaitGroup
		errs := make([]error, len(reqs))
		for _, r := range reqs {
			g.Emit(graphapi.Event{Action: r.Action})
		}
		for i := range reqs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				err := g.Call(ctx, reqs[i], nil)
				detail := "deleted"
				if graphapi.Status(err) == http.StatusNotFound {
					err, detail = nil, "already gone"
				}
				errs[i] = err
				if err == nil {
					mu.Lock()
					res.Deleted = append(res.Deleted, Change{names[i], "deleted", detail})
					mu.Unlock()
				}
			}(i)
		}
		wg.Wait()
		return errors.Join(errs...)
	}

	// 1. Assignments and grants (they hang off the service principal).
	var reqs []graphapi.Request
	var names []string
	for _, a := range st.UserAssignments {
		if a.Created {
			reqs = append(reqs, graphapi.Request{Method: "DELETE", Path: "/servicePrincipals/" + a.ResourceID + "/appRoleAssignedTo/" + a.ID, Action: "Removing the assignment of " + a.Name})
			names = append(names, "user "+a.Name)
		}
	}
	for _, a := range st.AppRoleAssignments {
		if a.Created {
			reqs = append(reqs, graphapi.Request{Method: "DELETE", Path: "/servicePrincipals/" + a.ResourceID + "/appRoleAssignedTo/" + a.ID, Action: "Removing admin consent for " + a.Name})
			names = append(names, "admin consent "+a.Name)
		}
	}
	for resApp, gr := range st.Grants {
		if gr.Created {
			reqs = append(reqs, graphapi.Request{Method: "DELETE", Path: "/oauth2PermissionGrants/" + gr.ID, Action: "Removing admin consent for " + resourceName(resApp)})
			names = append(names, "admin consent "+resourceName(resApp))
		} else {
			res.Kept = append(res.Kept, Change{"admin consent " + resourceName(resApp), "kept", "mailoauth only added scopes to a grant that existed before; remove them in the portal if needed"})
		}
	}
	if !appGone && !st.AppCreated && st.Secret != nil && st.AppObjectID != "" {
		reqs = append(reqs, graphapi.Request{Method: "POST", Path: "/applications/" + st.AppObjectID + "/removePassword", Body: map[string]any{"keyId": st.Secret.KeyID}, Action: "Removing the client secret mailoauth added"})
		names = append(names, "client secret "+st.Secret.Hint+"…")
	}
	if err := del(ctx, reqs, names); err != nil {
		return res, err
	}
	// 2. The service principal, then the app.
	reqs, names = nil, nil
	if st.SPID != "" && st.SPCreated {
		reqs = append(reqs, graphapi.Request{Method: "DELETE", Path: "/servicePrincipals/" + st.SPID, Action: "Deleting the service principal"})
		names = append(names, "service principal")
	} else if st.SPID != "" {
		res.Kept = append(res.Kept, Change{"service principal", "kept", "it existed before mailoauth"})
	}
	if err := del(ctx, reqs, names); err != nil {
		return res, err
	}
	if st.AppObjectID != "" && st.AppCreated && !appGone {
		if err := del(ctx, []graphapi.Request{{Method: "DELETE", Path: "/applications/" + st.AppObjectID, Action: "Deleting the app registration (restorable for 30 days)"}}, []string{"app registration"}); err != nil {
			return res, err
		}
	} else if st.AppObjectID != "" && !st.AppCreated {
		res.Kept = append(res.Kept, Change{"app registration", "kept", "it existed before mailoauth"})
	}
	// Forget what was removed, so a second delete does nothing.
	st.UserAssignments, st.AppRoleAssignments, st.Grants, st.Secret = nil, nil, map[string]state.Grant{}, nil
	st.AppObjectID, st.ClientID, st.SPID, st.AppCreated, st.SPCreated, st.Steps = "", "", "", false, false, nil
	if statePath != "" {
		if err := state.Save(statePath, st); err != nil {
			return res, err
		}
	}
	return res, nil
}
