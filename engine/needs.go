package engine

import (
	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/signin"
	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/output/product"
	"github.com/mailoauth/mailoauth/steps"
)

// NeedsFor narrows the sign-in's Graph scopes to what the setup's calls
// need when the product is known before sign-in (answers file, flags):
// least privilege. The zero Needs (product unknown: the wizard asks later)
// makes the engine ask for what any product may need.
func NeedsFor(a steps.Answers) signin.Needs {
	prof, err := product.Lookup(a.Product)
	if err != nil {
		return signin.Needs{}
	}
	m, err := prof.Method(a.Method)
	if err != nil {
		return signin.Needs{}
	}
	protocols := m.DefaultProtocols
	if len(a.Protocols) > 0 {
		var ps []catalog.Protocol
		for _, s := range a.Protocols {
			p, err := catalog.ParseProtocol(s)
			if err != nil {
				return signin.Needs{}
			}
			ps = append(ps, p)
		}
		protocols = ps
	}
	perms, err := m.Permissions(protocols)
	if err != nil {
		return signin.Needs{}
	}
	// Every product names its mailboxes, which pre-flight looks up.
	n := signin.Needs{AssignUsers: m.AssignUsers, ReadUsers: true}
	for _, p := range perms {
		if p.Kind == catalog.Application {
			n.AppRoles = true
		} else {
			n.DelegatedConsent = true
		}
	}
	return n
}

// DeleteNeeds are the scopes delete needs for what the state records.
func DeleteNeeds(st *state.State) signin.Needs {
	return signin.Needs{AppRoles: len(st.AppRoleAssignments) > 0, AssignUsers: len(st.UserAssignments) > 0, DelegatedConsent: len(st.Grants) > 0}
}
