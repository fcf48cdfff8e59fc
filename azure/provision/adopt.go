package provision

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/mailoauth/mailoauth/azure/graphapi"
)

// A write can reach Graph and its reply be lost (a timeout, a killed run),
// or another run can make the object between pre-flight and apply. Graph
// then refuses the repeat with "already exists"; these helpers read the
// object that is already there and carry on with it, so no run ever fails
// or duplicates because a previous one got further than it knew.

// alreadyExists recognises Graph's duplicate answers (microsoft.md §4; the
// messages are Entra's own).
func alreadyExists(err error) bool {
	var ge *graphapi.Error
	if !errors.As(err, &ge) || ge.Graph == nil {
		return false
	}
	if ge.Graph.Status == http.StatusConflict || ge.Graph.Code == "Request_MultipleObjectsWithSameKeyValue" {
		return true
	}
	m := strings.ToLower(ge.Graph.Message)
	return ge.Graph.Status == http.StatusBadRequest && (strings.Contains(m, "already exists") || strings.Contains(m, "already in use"))
}

// createOrAdopt sends the create; when Graph says the object already
// exists, it runs find and returns what that found (adopted = true).
func (e *applier) createOrAdopt(ctx context.Context, req graphapi.Request, find func(ctx context.Context) (any, error)) (raw json.RawMessage, adopted bool, err error) {
	err = e.g.Call(ctx, req, &raw)
	if err == nil || !alreadyExists(err) {
		return raw, false, err
	}
	found, ferr := find(ctx)
	if ferr != nil {
		return nil, false, errors.Join(err, ferr)
	}
	if found == nil {
		return nil, false, err
	}
	b, merr := json.Marshal(found)
	if merr != nil {
		return nil, false, merr
	}
	return b, true, nil
}

func (e *applier) findSP(ctx context.Context, appID string) (any, error) {
	var sp servicePrincipal
	err := e.g.Call(ctx, graphapi.Request{Method: "GET", Path: "/servicePrincipals(appId='" + appID + "')" + graphapi.Query("$select", spSelect), Action: "Reading the existing service principal", RetryNotFound: true}, &sp)
	if err != nil {
		return nil, err
	}
	return &sp, nil
}

func (e *applier) findGrant(ctx context.Context, clientSPID, resourceSPID string) (*permissionGrant, error) {
	list, err := readAll[permissionGrant](ctx, e.g, "/oauth2PermissionGrants"+graphapi.Query("$filter", "clientId eq '"+clientSPID+"'"), true)
	if err != nil {
		return nil, err
	}
	for i := range list {
		g := &list[i]
		if g.ConsentType == "AllPrincipals" && strings.EqualFold(g.ResourceID, resourceSPID) {
			return g, nil
		}
	}
	return nil, nil
}

func (e *applier) findAssignment(ctx context.Context, path, principalID, resourceID, roleID string) (any, error) {
	list, err := readAll[appRoleAssignment](ctx, e.g, path, true)
	if err != nil {
		return nil, err
	}
	if a := findAssignment(list, principalID, resourceID, roleID); a != nil {
		return a, nil
	}
	return nil, nil
}
