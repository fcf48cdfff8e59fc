package token

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
)

// Claims is what an access token says about itself, decoded for display and
// diagnosis only: Microsoft says clients must not validate tokens meant for
// other APIs, and mailoauth does not (microsoft.md §9).
type Claims struct {
	Audience  string    `json:"aud"`
	Scopes    []string  `json:"scp,omitempty"`   // delegated tokens
	Roles     []string  `json:"roles,omitempty"` // app-only tokens
	TenantID  string    `json:"tid"`
	AppID     string    `json:"appid"` // appid (v1) or azp (v2)
	ObjectID  string    `json:"oid,omitempty"`
	UPN       string    `json:"upn,omitempty"` // upn, unique_name or preferred_username
	Issuer    string    `json:"iss,omitempty"`
	Version   string    `json:"ver,omitempty"`
	Expiry    time.Time `json:"exp"`
	NotBefore time.Time `json:"nbf,omitempty"`
}

// AppOnly reports whether the token has no user (client credentials).
func (c Claims) AppOnly() bool { return c.UPN == "" && len(c.Scopes) == 0 }

// Expired reports whether the token is past exp at now.
func (c Claims) Expired(now time.Time) bool { return !c.Expiry.IsZero() && !now.Before(c.Expiry) }

// Summary is one line for a result table: audience, permissions, user, expiry.
func (c Claims) Summary() string {
	perms := "scp=" + strings.Join(c.Scopes, " ")
	if len(c.Roles) > 0 || len(c.Scopes) == 0 {
		perms = "roles=" + strings.Join(c.Roles, ",")
	}
	who := c.UPN
	if who == "" {
		who = "app " + c.AppID
	}
	return fmt.Sprintf("aud=%s %s tid=%s %s exp=%s", c.Audience, perms, c.TenantID, who, c.Expiry.UTC().Format(time.RFC3339))
}

var errNotJWT = errors.New("token: not a JWT (expected three base64url parts separated by dots)")

// Decode reads a JWT's claims without verifying anything. It never returns
// or logs the token itself.
func Decode(raw string) (Claims, error) {
	parts := strings.Split(strings.TrimSpace(raw), ".")
	if len(parts) != 3 {
		return Claims{}, errNotJWT
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, fmt.Errorf("token: payload is not base64url: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return Claims{}, fmt.Errorf("token: payload is not a JSON object: %w", err)
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			var s string
			if v, ok := m[k]; ok && json.Unmarshal(v, &s) == nil && s != "" {
				return s
			}
		}
		return ""
	}
	num := func(key string) time.Time {
		var f float64
		if v, ok := m[key]; ok && json.Unmarshal(v, &f) == nil && f > 0 && f < 1e12 {
			return time.Unix(int64(f), 0).UTC()
		}
		return time.Time{}
	}
	c := Claims{
		TenantID:  str("tid"),
		AppID:     str("appid", "azp"),
		ObjectID:  str("oid"),
		UPN:       str("upn", "unique_name", "preferred_username"),
		Issuer:    str("iss"),
		Version:   str("ver"),
		Expiry:    num("exp"),
		NotBefore: num("nbf"),
	}
	// aud is a string, or (rarely) an array of strings.
	if v, ok := m["aud"]; ok {
		var s string
		var arr []string
		if json.Unmarshal(v, &s) == nil {
			c.Audience = s
		} else if json.Unmarshal(v, &arr) == nil && len(arr) > 0 {
			c.Audience = arr[0]
		}
	}
	if s := str("scp"); s != "" {
		c.Scopes = strings.Fields(s)
	}
	if v, ok := m["roles"]; ok {
		_ = json.Unmarshal(v, &c.Roles)
	}
	return c, nil
}

// Want is what the product needs a token to carry.
type Want struct {
	// Audiences accepted (any one); compared without a trailing slash.
	Audiences []string
	// Permission is the scope (delegated) or role (app-only) needed.
	Permission string
	AppOnly    bool
	TenantID   string
	AppID      string
	// User is the mailbox user of a delegated token (empty: any user).
	User string
	// Resource names the API for messages ("Office 365 Exchange Online").
	Resource string
	// Scope is the scope string the product should request.
	Scope string
}

// WantFor is what protocol p needs under flow f in cloud c.
func WantFor(c cloud.Cloud, f catalog.Flow, p catalog.Protocol, tenantID, appID, user string) (Want, error) {
	perm, err := catalog.ForProtocol(p, f)
	if err != nil {
		return Want{}, err
	}
	scope, err := catalog.Scope(c, f, p)
	if err != nil {
		return Want{}, err
	}
	w := Want{Permission: perm.Value, AppOnly: f.AppOnly(), TenantID: tenantID, AppID: appID, Resource: perm.Resource.Name, Scope: scope}
	if !f.AppOnly() {
		w.User = user
	}
	if p.IsExchange() {
		w.Audiences = []string{c.ExchangeDelegatedResource, c.ExchangeAppResource, catalog.ExchangeOnline.AppID}
	} else {
		w.Audiences = []string{c.GraphResource, catalog.MicrosoftGraph.AppID}
	}
	return w, nil
}

// Mismatch is one way a token differs from what the product needs.
type Mismatch struct {
	Field string `json:"field"` // aud, scp, roles, tid, appid, upn, exp
	Got   string `json:"got"`
	Want  string `json:"want"`
	// Fix says what to change.
	Fix string `json:"fix"`
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s is %q, needs %q: %s", m.Field, m.Got, m.Want, m.Fix)
}

// Compare lists every way the claims differ from want at time now; nil
// means the token fits.
func Compare(c Claims, w Want, now time.Time) []Mismatch {
	var out []Mismatch
	norm := func(s string) string { return strings.TrimRight(strings.ToLower(strings.TrimSpace(s)), "/") }
	if len(w.Audiences) > 0 {
		ok := false
		for _, a := range w.Audiences {
			if norm(a) == norm(c.Audience) {
				ok = true
			}
		}
		if !ok {
			fix := fmt.Sprintf("request the token with the scope %s (one resource per request)", w.Scope)
			if strings.Contains(norm(c.Audience), "graph") && w.Resource == catalog.ExchangeOnline.Name {
				fix = fmt.Sprintf("the token is for Microsoft Graph but the mail server needs Exchange Online: request %s instead", w.Scope)
			}
			out = append(out, Mismatch{"aud", c.Audience, w.Audiences[0], fix})
		}
	}
	if w.Permission != "" {
		if w.AppOnly {
			if !hasFold(c.Roles, w.Permission) {
				out = append(out, Mismatch{"roles", strings.Join(c.Roles, ","), w.Permission,
					fmt.Sprintf("add the application permission %s of %s to the app and grant admin consent", w.Permission, w.Resource)})
			}
		} else if !hasFold(c.Scopes, w.Permission) && !hasFold(c.Scopes, w.Scope) {
			out = append(out, Mismatch{"scp", strings.Join(c.Scopes, " "), w.Permission,
				fmt.Sprintf("add the delegated permission %s of %s, grant consent, and request %s", w.Permission, w.Resource, w.Scope)})
		}
		if w.AppOnly && len(c.Scopes) > 0 {
			out = append(out, Mismatch{"scp", strings.Join(c.Scopes, " "), "",
				"the token is delegated (has scp) but the product uses app-only access: use the client credentials flow"})
		}
		if !w.AppOnly && c.AppOnly() {
			out = append(out, Mismatch{"upn", "", orAny(w.User),
				"the token is app-only but the product signs in as a user: use the product's delegated flow"})
		}
	}
	if w.TenantID != "" && !strings.EqualFold(c.TenantID, w.TenantID) {
		out = append(out, Mismatch{"tid", c.TenantID, w.TenantID, "use the authority with the mailbox's tenant id, not common or another tenant"})
	}
	if w.AppID != "" && !strings.EqualFold(c.AppID, w.AppID) {
		out = append(out, Mismatch{"appid", c.AppID, w.AppID, "the token was issued to another app: use the new app's client id"})
	}
	if w.User != "" && c.UPN != "" && !strings.EqualFold(c.UPN, w.User) {
		out = append(out, Mismatch{"upn", c.UPN, w.User, "sign in as the mailbox user, or give this user FullAccess to the mailbox"})
	}
	if c.Expired(now) {
		out = append(out, Mismatch{"exp", c.Expiry.UTC().Format(time.RFC3339), "a time in the future", "get a new token; check the computer's clock"})
	}
	return out
}

func orAny(s string) string {
	if s == "" {
		return "a user"
	}
	return s
}

func hasFold(xs []string, v string) bool {
	for _, x := range xs {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}
