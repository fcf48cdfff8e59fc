package catalog

import (
	"fmt"

	"github.com/mailoauth/mailoauth/azure/cloud"
)

// TokenRequest is one token a product (or mailoauth's login test) asks for:
// scopes of exactly one resource, and the protocols that token serves.
// Mixing resources in one request fails with AADSTS70011/700022.
type TokenRequest struct {
	// Audience is the resource URI the token will carry as aud,
	// e.g. https://outlook.office.com.
	Audience  string
	Resource  Resource
	Scopes    []string
	Protocols []Protocol
}

// Scope is the fully qualified scope a client requests for a protocol under
// a flow (without offline_access).
func Scope(c cloud.Cloud, f Flow, p Protocol) (string, error) { return ScopeWith(c, f, p, Options{}) }

// ScopeWith is Scope with options (OtherMailboxes: the Graph .Shared scope).
func ScopeWith(c cloud.Cloud, f Flow, p Protocol, o Options) (string, error) {
	perm, err := forProtocol(p, f, o)
	if err != nil {
		return "", err
	}
	switch {
	case f.AppOnly() && p.IsExchange():
		return c.ExchangeAppScope(), nil
	case f.AppOnly():
		return c.GraphAppScope(), nil
	case p.IsExchange():
		return c.ExchangeDelegatedScope(perm.Value), nil
	default:
		return c.GraphScope(perm.Value), nil
	}
}

// TokenRequests groups protocols into the fewest token requests that each
// name a single resource URI. Delegated requests add offline_access so a
// refresh token comes back, as products that keep a session need.
func TokenRequests(c cloud.Cloud, f Flow, protocols []Protocol) ([]TokenRequest, error) {
	return TokenRequestsWith(c, f, protocols, Options{})
}

// TokenRequestsWith is TokenRequests with options.
func TokenRequestsWith(c cloud.Cloud, f Flow, protocols []Protocol, o Options) ([]TokenRequest, error) {
	var out []TokenRequest
	index := map[string]int{}
	for _, p := range protocols {
		s, err := ScopeWith(c, f, p, o)
		if err != nil {
			return nil, err
		}
		aud := audienceOf(s)
		res := ExchangeOnline
		if !p.IsExchange() {
			res = MicrosoftGraph
		}
		i, ok := index[aud]
		if !ok {
			i = len(out)
			index[aud] = i
			out = append(out, TokenRequest{Audience: aud, Resource: res})
		}
		tr := &out[i]
		tr.Protocols = append(tr.Protocols, p)
		if !contains(tr.Scopes, s) {
			tr.Scopes = append(tr.Scopes, s)
		}
	}
	if !f.AppOnly() {
		for i := range out {
			out[i].Scopes = append(out[i].Scopes, "offline_access")
		}
	}
	return out, nil
}

// TokenRequestFor returns the request that serves protocol p.
func TokenRequestFor(c cloud.Cloud, f Flow, p Protocol) (TokenRequest, error) {
	return TokenRequestForWith(c, f, p, Options{})
}

// TokenRequestForWith is TokenRequestFor with options.
func TokenRequestForWith(c cloud.Cloud, f Flow, p Protocol, o Options) (TokenRequest, error) {
	trs, err := TokenRequestsWith(c, f, []Protocol{p}, o)
	if err != nil {
		return TokenRequest{}, err
	}
	if len(trs) != 1 {
		return TokenRequest{}, fmt.Errorf("protocol %s: no token request", p)
	}
	return trs[0], nil
}

// audienceOf strips the permission (or /.default) from a scope URI.
func audienceOf(scope string) string {
	for i := len(scope) - 1; i > len("https://"); i-- {
		if scope[i] == '/' {
			return scope[:i]
		}
	}
	return scope
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
