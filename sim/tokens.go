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
}

func (s *Server) v1Issuer() string { return "https://sts.windows.net/" + TenantID + "/" }
func (s *Server) v2Issuer() string { return s.loginURL + "/" + TenantID + "/v2.0" }

// signedAccessToken makes the access token: v1.0 for Exchange resources,
// v2.0 for Microsoft Graph (see the report for why).
func (s *Server) signedAccessToken(g tokenGrant, now time.Time) (string, error) {
	c := jwt.MapClaims{
		"tid": TenantID,
		"iat": now.Unix(),
		"nbf": now.Add(-5 * time.Minute).Unix(),
		"exp": now.Add(accessTokenLifetime).Unix(),
		"uti": opaqueID()[:22],
	}
	oid := g.clientSPID
	if g.user != nil {
		oid = g.user.ID
		c["name"] = g.user.DisplayName
	}
	c["oid"] = oid
	c["sub"] = subject(oid, g.clientAppID)
	aud := "https://graph.microsoft.com"
	v1 := false
	if g.res != nil {
		aud = g.res.audience
		v1 = g.res.sp.AppID == EXOAppID
	}
	c["aud"] = aud
	if v1 {
		c["ver"] = "1.0"
		c["iss"] = s.v1Issuer()
		c["appid"] = g.clientAppID
		c["appidacr"] = "0"
		if g.user != nil {
			c["upn"] = g.user.UPN
			c["unique_name"] = g.user.UPN
		}
	} else {
		c["ver"] = "2.0"
		c["iss"] = s.v2Issuer()
		c["azp"] = g.clientAppID
		c["azpacr"] = "0"
		if g.user != nil {
			c["preferred_username"] = g.user.UPN
		}
	}
	if g.user != nil {
		c["scp"] = strings.Join(g.scopes, " ")
	} else if len(g.roles) > 0 {
		c["roles"] = g.roles
	}
	return s.sign(c)
}

func (s *Server) idToken(clientAppID string, u *user, now time.Time) (string, error) {
	return s.sign(jwt.MapClaims{
		"aud": clientAppID, "iss": s.v2Issuer(), "iat": now.Unix(), "nbf": now.Add(-5 * time.Minute).Unix(),
		"exp": now.Add(accessTokenLifetime).Unix(), "name": u.DisplayName, "oid": u.ID,
		"preferred_username": u.UPN, "email": mailOf(u), "sub": subject(u.ID, clientAppID), "tid": TenantID, "ver": "2.0",
	})
}

func (s *Server) sign(c jwt.MapClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["typ"] = "JWT"
	t.Header["kid"] = s.kid
	return t.SignedString(s.signKey)
}

// clientInfo is MSAL's client_info: base64url JSON of uid and utid.
func clientInfo(oid string) string {
	b, _ := json.Marshal(map[string]string{"uid": oid, "utid": TenantID})
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
	if iss != s.v1Issuer() && iss != s.v2Issuer() {
		return nil, fmt.Errorf("token rejected: issuer %q is not this tenant's", iss)
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
