package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// SchemaVersion is settings.json's schema_version (docs/settings-json.md).
const SchemaVersion = 1

type settingsDoc struct {
	SchemaVersion       int                    `json:"schema_version"`
	GeneratedAt         string                 `json:"generated_at"`
	Product             idName                 `json:"product"`
	Method              methodDoc              `json:"method"`
	AppName             string                 `json:"app_name"`
	Cloud               string                 `json:"cloud"`
	TenantID            string                 `json:"tenant_id"`
	TenantDomain        string                 `json:"tenant_domain,omitempty"`
	TenantInitialDomain string                 `json:"tenant_initial_domain,omitempty"`
	Audience            string                 `json:"audience"`
	SignInAudience      string                 `json:"sign_in_audience"`
	ClientID            string                 `json:"client_id"`
	AppObjectID         string                 `json:"app_object_id,omitempty"`
	ServicePrincipalID  string                 `json:"service_principal_id,omitempty"`
	ClientSecret        *string                `json:"client_secret"`
	ClientSecretWritten bool                   `json:"client_secret_included"`
	ClientSecretID      string                 `json:"client_secret_id,omitempty"`
	ClientSecretExpires string                 `json:"client_secret_expires,omitempty"`
	PublicClient        bool                   `json:"public_client"`
	RedirectURIs        []string               `json:"redirect_uris"`
	Authority           string                 `json:"authority"`
	TokenEndpoint       string                 `json:"token_endpoint"`
	AuthorizeEndpoint   string                 `json:"authorize_endpoint"`
	TokenRequests       []tokenDoc             `json:"token_requests"`
	Protocols           map[string]protocolDoc `json:"protocols"`
	EWSURL              string                 `json:"ews_url"`
	GraphURL            string                 `json:"graph_url"`
	Mailboxes           []string               `json:"mailboxes"`
	AdditionalUsers     []string               `json:"additional_users,omitempty"`
	Permissions         []permissionDoc        `json:"permissions"`
}

type idName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type methodDoc struct {
	ID    string `json:"id"`
	Flow  string `json:"flow"`
	Label string `json:"label"`
}

type tokenDoc struct {
	Resource  string   `json:"resource"`
	Scopes    []string `json:"scopes"`
	Protocols []string `json:"protocols"`
}

type protocolDoc struct {
	Host      string   `json:"host,omitempty"`
	Port      int      `json:"port,omitempty"`
	TLS       string   `json:"tls,omitempty"`
	URL       string   `json:"url,omitempty"`
	Mechanism string   `json:"sasl_mechanism,omitempty"`
	Scopes    []string `json:"scopes"`
}

type permissionDoc struct {
	Resource      string `json:"resource"`
	ResourceAppID string `json:"resource_app_id"`
	Value         string `json:"value"`
	Type          string `json:"type"`
	ID            string `json:"id"`
}

func (v *view) settingsJSON() ([]byte, error) {
	in := v.in
	d := settingsDoc{
		SchemaVersion:       SchemaVersion,
		GeneratedAt:         v.generated().Format("2006-01-02T15:04:05Z"),
		Product:             idName{v.p.ID, v.p.Name},
		Method:              methodDoc{v.m.ID, string(v.m.Flow), v.m.Label},
		AppName:             in.AppName,
		Cloud:               in.Cloud.Name,
		TenantID:            in.TenantID,
		TenantDomain:        in.TenantDomain,
		TenantInitialDomain: in.TenantInitialDomain,
		Audience:            string(v.audience),
		SignInAudience:      v.audience.SignInAudience(),
		ClientID:            in.ClientID,
		AppObjectID:         in.AppObjectID,
		ServicePrincipalID:  in.ServicePrincipalID,
		PublicClient:        in.PublicClient,
		RedirectURIs:        nonNil(v.redirects),
		Authority:           v.authority(),
		TokenEndpoint:       v.tokenEndpoint(),
		AuthorizeEndpoint:   v.authorizeEndpoint(),
		Protocols:           map[string]protocolDoc{},
		EWSURL:              in.Cloud.EWSURL,
		GraphURL:            in.Cloud.GraphV1(),
		Mailboxes:           nonNil(v.mailboxes),
		AdditionalUsers:     v.additional,
	}
	if v.m.NeedsSecret {
		s := v.secretValue()
		d.ClientSecret = &s
		d.ClientSecretWritten = v.secretSet
		d.ClientSecretID = in.SecretKeyID
		if !in.SecretExpires.IsZero() {
			d.ClientSecretExpires = in.SecretExpires.UTC().Format("2006-01-02T15:04:05Z")
		}
	}
	for _, t := range v.tokens {
		td := tokenDoc{Resource: t.Audience, Scopes: t.Scopes}
		for _, p := range t.Protocols {
			td.Protocols = append(td.Protocols, string(p))
		}
		d.TokenRequests = append(d.TokenRequests, td)
	}
	for _, p := range in.Protocols {
		pd := protocolDoc{Scopes: v.scopesFor(p)}
		if ep, ok := v.endpointOf(p); ok {
			pd.Host, pd.Port, pd.TLS, pd.Mechanism = ep.Host, ep.Port, string(ep.TLS), "XOAUTH2"
		}
		switch p {
		case catalog.EWS:
			pd.URL = in.Cloud.EWSURL
		case catalog.GraphRead, catalog.GraphSend:
			pd.URL = in.Cloud.GraphV1()
		}
		d.Protocols[string(p)] = pd
	}
	for _, p := range v.perms {
		d.Permissions = append(d.Permissions, permissionDoc{p.Resource.Name, p.Resource.AppID, p.Value, string(p.Kind), p.FallbackID})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	// The placeholder's angle brackets stay readable; nothing here goes into HTML.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("settings.json: %w", err)
	}
	return b.Bytes(), nil
}

func nonNil(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// dotEnv writes KEY=value lines for shells (`set -a; . ./.env`) and dotenv
// libraries: plain when the value is safe, else single-quoted (or
// double-quoted with escapes when it holds a single quote).
func (v *view) dotEnv() []byte {
	in := v.in
	var b bytes.Buffer
	b.WriteString("# mailoauth: " + envComment(in.AppName) + " for " + v.p.Name + "\n")
	if v.m.NeedsSecret {
		b.WriteString("# Holds the client secret: keep this file private (0600) and out of version control.\n")
	}
	kv := func(k, val string) { fmt.Fprintf(&b, "MAILOAUTH_%s=%s\n", k, envQuote(val)) }
	kv("PRODUCT", v.p.ID)
	kv("METHOD", v.m.ID)
	kv("FLOW", string(v.m.Flow))
	kv("CLOUD", in.Cloud.Name)
	kv("TENANT_ID", in.TenantID)
	kv("CLIENT_ID", in.ClientID)
	if v.m.NeedsSecret {
		kv("CLIENT_SECRET", v.secretValue())
		if !in.SecretExpires.IsZero() {
			kv("CLIENT_SECRET_EXPIRES", in.SecretExpires.UTC().Format("2006-01-02T15:04:05Z"))
		}
	}
	kv("AUTHORITY", v.authority())
	kv("TOKEN_ENDPOINT", v.tokenEndpoint())
	if v.m.Flow == catalog.AuthCode {
		kv("AUTHORIZE_ENDPOINT", v.authorizeEndpoint())
	}
	if len(v.redirects) > 0 {
		kv("REDIRECT_URI", v.redirects[0])
	}
	for _, p := range in.Protocols {
		key := envKey(p)
		kv("SCOPES_"+key, strings.Join(v.scopesFor(p), " "))
		if ep, ok := v.endpointOf(p); ok {
			kv(key+"_HOST", ep.Host)
			kv(key+"_PORT", strconv.Itoa(ep.Port))
			kv(key+"_TLS", string(ep.TLS))
		}
	}
	if v.has(catalog.EWS) {
		kv("EWS_URL", in.Cloud.EWSURL)
	}
	if v.hasGraph() {
		kv("GRAPH_URL", in.Cloud.GraphV1())
	}
	kv("MAILBOXES", strings.Join(v.mailboxes, ","))
	if len(v.additional) > 0 {
		kv("ADDITIONAL_USERS", strings.Join(v.additional, ","))
	}
	return b.Bytes()
}

func envKey(p catalog.Protocol) string {
	return strings.ToUpper(strings.ReplaceAll(string(p), "-", "_"))
}

func envComment(s string) string { return strings.Map(printable, s) }

func printable(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return -1
	}
	return r
}

func envQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.:/@,+%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	if !strings.ContainsRune(s, '\'') {
		return "'" + s + "'"
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")
	return `"` + r.Replace(s) + `"`
}

// manifestDoc is the part of the app manifest mailoauth sets, in Microsoft
// Graph's application shape (the portal's manifest editor uses it).
type manifestDoc struct {
	SignInAudience         string           `json:"signInAudience"`
	IsFallbackPublicClient bool             `json:"isFallbackPublicClient"`
	Web                    *redirectDoc     `json:"web,omitempty"`
	PublicClient           *redirectDoc     `json:"publicClient,omitempty"`
	RequiredResourceAccess []resourceAccess `json:"requiredResourceAccess"`
}

type redirectDoc struct {
	RedirectURIs []string `json:"redirectUris"`
}

type resourceAccess struct {
	ResourceAppID  string   `json:"resourceAppId"`
	ResourceAccess []access `json:"resourceAccess"`
}

type access struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// manifest is the fragment for change control: requiredResourceAccess
// exactly as the manifest editor takes it (resource names and permission
// names are on the settings sheet), plus audience, public-client flag and
// redirect URIs.
func (v *view) manifest() ([]byte, error) {
	d := manifestDoc{SignInAudience: v.audience.SignInAudience(), IsFallbackPublicClient: v.in.PublicClient,
		RequiredResourceAccess: []resourceAccess{}}
	if len(v.redirects) > 0 {
		switch v.m.Platform {
		case catalog.Web:
			d.Web = &redirectDoc{v.redirects}
		case catalog.PublicClient:
			d.PublicClient = &redirectDoc{v.redirects}
		}
	}
	index := map[string]int{}
	for _, p := range v.perms {
		i, ok := index[p.Resource.AppID]
		if !ok {
			i = len(d.RequiredResourceAccess)
			index[p.Resource.AppID] = i
			d.RequiredResourceAccess = append(d.RequiredResourceAccess, resourceAccess{ResourceAppID: p.Resource.AppID})
		}
		if p.FallbackID == "" {
			return nil, fmt.Errorf("permissions: %s has no ID; accepted form: permissions resolved from the tenant or catalog.Known", p)
		}
		ra := &d.RequiredResourceAccess[i]
		ra.ResourceAccess = append(ra.ResourceAccess, access{ID: p.FallbackID, Type: string(p.Kind)})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false) // keep & in redirect URIs readable
	if err := enc.Encode(d); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	return b.Bytes(), nil
}
