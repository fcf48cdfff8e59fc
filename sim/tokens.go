package sim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/mailoauth/mailoauth/sim/exchange"
)

// accessTokenLifetime is the lifetime of access tokens (Entra: 60-90 min).
const accessTokenLifetime = time.Hour

// tokenGrant is what a token is issued for: who, which client, which
// resource, and the permissions actually consented.
type tokenGrant struct {
	clientAppID string
	user        *user             // nil for app-only
	clientSPID  string            // app-only: the client's service principal object id
	res         *resolvedResource // nil when only OIDC scopes were asked
	scopes      []string          // delegated: consented scope values
	roles       []string          // app-only: assigned app role values
	oidc        []string          // openid, profile, email, offline_access as requested
	secret      bool              // the client authenticated with a client secret (appidacr 1)
}

func (s *view) v1Issuer() string { return "https://sts.windows.net/" + s.ID + "/" }
func (s *view) v2Issuer() string { return s.loginURL + "/" + s.ID + "/v2.0" }

// signedAccessToken makes the access token in the v1.0 shape Entra issues
// for both Microsoft Graph and Exchange Online (microsoft.md §9 and §15.3:
// iss https://sts.windows.net/<tid>/, appid, appidacr, upn, idtyp; Graph's
// format is Microsoft's own and observed as v1.0). iat and nbf are equal
// and five minutes before the issue time, exp an hour after it, as in
// Entra's documented example token (iat = nbf, exp - iat = 3900 s; ED
// access-token-claims-reference / id-tokens examples).
func (s *view) signedAccessToken(g tokenGrant, now time.Time) (string, error) {
	issued := now.Add(-5 * time.Minute)
	aud := "https://graph.microsoft.com"
	if g.res != nil {
		aud = g.res.audience
	}
	// appidacr: 0 public client, 1 client secret, 2 certificate.
	acr := "0"
	if g.secret {
		acr = "1"
	}
	c := jwt.MapClaims{
		"aud": aud, "iss": s.v1Issuer(), "tid": s.ID, "ver": "1.0",
		"iat": issued.Unix(), "nbf": issued.Unix(), "exp": now.Add(accessTokenLifetime).Unix(),
		"appid": g.clientAppID, "appidacr": acr, "uti": opaqueID()[:22],
	}
	if g.user != nil {
		c["oid"] = g.user.ID
		c["sub"] = subject(g.user.ID, g.clientAppID)
		c["name"] = g.user.DisplayName
		c["upn"] = g.user.UPN
		c["unique_name"] = g.user.UPN
		c["idtyp"] = "user"
		c["scp"] = strings.Join(g.scopes, " ")
	} else {
		// App-only: sub is the service principal's object id, like oid.
		c["oid"] = g.clientSPID
		c["sub"] = g.clientSPID
		c["idtyp"] = "app"
		if len(g.roles) > 0 {
			c["roles"] = g.roles
		}
	}
	return s.sign(c)
}

func (s *view) idToken(clientAppID string, u *user, now time.Time) (string, error) {
	issued := now.Add(-5 * time.Minute)
	return s.sign(jwt.MapClaims{
		"aud": clientAppID, "iss": s.v2Issuer(), "iat": issued.Unix(), "nbf": issued.Unix(),
		"exp": now.Add(accessTokenLifetime).Unix(), "name": u.DisplayName, "oid": u.ID,
		"preferred_username": u.UPN, "email": mailOf(u), "sub": subject(u.ID, clientAppID), "tid": s.ID, "ver": "2.0",
	})
}

func (s *Server) sign(c jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["typ"] = "JWT"
	t.Header["kid"] = s.kid
	return t.SignedString(s.signKey)
}

// clientInfo is MSAL's client_info: base64url JSON of uid and utid.
func clientInfo(oid, tid string) string {
	b, _ := json.Marshal(map[string]string{"uid": oid, "utid": tid})
	return base64.RawURLEncoding.EncodeToString(b)
}

// subject is a pairwise, stable sub claim, as Entra makes per app and user.
func subject(oid, appID string) string {
	h := sha256.Sum256([]byte(oid + "|" + appID))
	return base64.RawURLEncoding.EncodeToString(h[:])[:43]
}

func mailOf(u *user) string {
	if u.Mail != "" {
		return u.Mail
	}
	return u.UPN
}

// parseToken verifies an access token of this tenant: RS256 with our key,
// one of our issuers, nbf/exp with a small skew.
func (s *Server) parseToken(raw string) (jwt.MapClaims, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != s.kid {
			return nil, errors.New("unknown signing key (kid)")
		}
		return &s.signKey.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithLeeway(30*time.Second), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		return nil, fmt.Errorf("token rejected: %w", err)
	}
	iss, _ := claims["iss"].(string)
	ok := false
	for _, t := range s.tenants {
		v := s.viewOf(t)
		ok = ok || iss == v.v1Issuer() && str(claims["tid"]) == t.ID || iss == v.v2Issuer() && str(claims["tid"]) == t.ID
	}
	if !ok {
		return nil, fmt.Errorf("token rejected: issuer %q is not one of these tenants'", iss)
	}
	return claims, nil
}

// VerifyToken implements exchange.Backend.
func (b backend) VerifyToken(raw string) (exchange.Claims, error) {
	c, err := b.s.parseToken(raw)
	if err != nil {
		return exchange.Claims{}, err
	}
	out := exchange.Claims{
		Audience: str(c["aud"]), Version: str(c["ver"]), TenantID: str(c["tid"]), ObjectID: str(c["oid"]),
	}
	out.AppID = str(c["appid"])
	if out.AppID == "" {
		out.AppID = str(c["azp"])
	}
	for _, k := range []string{"upn", "unique_name", "preferred_username"} {
		if v := str(c[k]); v != "" {
			out.UPN = v
			break
		}
	}
	if scp := str(c["scp"]); scp != "" {
		out.Scopes = strings.Fields(scp)
	}
	if roles, ok := c["roles"].([]any); ok {
		for _, r := range roles {
			out.Roles = append(out.Roles, str(r))
		}
	}
	if exp, err := c.GetExpirationTime(); err == nil && exp != nil {
		out.Expiry = exp.Time
	}
	return out, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
