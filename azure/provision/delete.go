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
	"github.com/mailoauth/mailoauth/internal/model"
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
	del := func(ctx context.Context, reqs []graphapi.Request) error {
		var wg sync.WaitGroup
		errs := make([]error, len(reqs))
		for _, r := range reqs {
			g.Emit(graphapi.Event{Action: r.Line()})
		}
		for i := range reqs {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				err := g.Call(ctx, reqs[i], nil)
				done := reqs[i].Change
				if graphapi.Status(err) == http.StatusNotFound {
					err, done.Detail = nil, "already gone"
				}
				errs[i] = err
				if err == nil {
					mu.Lock()
					res.Deleted = append(res.Deleted, done)
					mu.Unlock()
				}
			}(i)
		}
		wg.Wait()
		return errors.Join(errs...)
	}

	// 1. Assignments and grants (they hang off the service principal).
	var reqs []graphapi.Request
	remove := func(method, path, object string, body any) {
		reqs = append(reqs, graphapi.Request{Method: method, Path: path, Body: body, Change: Change{Action: model.Remove, Object: object}})
	}
	keep := func(object, why string) {
		res.Kept = append(res.Kept, Change{Action: model.Keep, Object: object, Detail: why})
	}
	for _, a := range st.UserAssignments {
		if a.Created {
			remove("DELETE", "/servicePrincipals/"+a.ResourceID+"/appRoleAssignedTo/"+a.ID, "the assignment of "+a.Name, nil)
		}
	}
	for _, a := range st.AppRoleAssignments {
		if a.Created {
			remove("DELETE", "/servicePrincipals/"+a.ResourceID+"/appRoleAssignedTo/"+a.ID, "admin consent for "+a.Name, nil)
		}
	}
	for resApp, gr := range st.Grants {
		if gr.Created {
			remove("DELETE", "/oauth2PermissionGrants/"+gr.ID, "admin consent for "+resourceName(resApp), nil)
		} else {
			keep("admin consent for "+resourceName(resApp), "mailoauth only added scopes to a grant that existed before; remove them in the portal if needed")
		}
	}
	if !appGone && !st.AppCreated && st.Secret != nil && st.AppObjectID != "" {
		remove("POST", "/applications/"+st.AppObjectID+"/removePassword", "the client secret "+st.Secret.Hint+"… mailoauth added", map[string]any{"keyId": st.Secret.KeyID})
	}
	if err := del(ctx, reqs); err != nil {
		return res, err
	}
	// 2. The service principal, then the app.
	reqs = nil
	if st.SPID != "" && st.SPCreated {
		reqs = append(reqs, graphapi.Request{Method: "DELETE", Path: "/servicePrincipals/" + st.SPID, Change: Change{Action: model.Delete, Object: "the service principal"}})
	} else if st.SPID != "" {
		keep("service principal", "it existed before mailoauth")
	}
	if err := del(ctx, reqs); err != nil {
		return res, err
	}
	if st.AppObjectID != "" && st.AppCreated && !appGone {
		if err := del(ctx, []graphapi.Request{{Method: "DELETE", Path: "/applications/" + st.AppObjectID, Change: Change{Action: model.Delete, Object: "the app registration", Detail: "restorable for 30 days"}}}); err != nil {
			return res, err
		}
	} else if st.AppObjectID != "" && !st.AppCreated {
		keep("app registration", "it existed before mailoauth")
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
