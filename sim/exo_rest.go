package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// The Exchange Online admin API that the ExchangeOnlineManagement v3 module
// itself uses: POST https://outlook.office365.com/adminapi/beta/{tenant}/
// InvokeCommand with {"CmdletInput":{"CmdletName":...,"Parameters":{...}}}.
// It is not a documented API; its wire format is taken from the public
// clients listed in docs/exchange-admin-api.md and modelled here on that
// page. The cmdlets behind it are exo_cmdlets.go, the same as RunPowerShell.

const (
	exoAdminPrefix      = "/adminapi/beta/"
	exoDefaultPageSize  = 1000
	exoMaxPageSize      = 1000
	exoResource         = "https://outlook.office365.com"
	exoPageTokenTimeout = 10 * time.Minute
)

// exoPage is a remembered result set that @odata.nextLink pages through.
type exoPage struct {
	objs    []exoObject
	cmdlet  string
	expires time.Time
}

type exoPager struct {
	mu    sync.Mutex
	pages map[string]*exoPage
}

func (p *exoPager) put(pg *exoPage) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pages == nil {
		p.pages = map[string]*exoPage{}
	}
	now := time.Now()
	for k, v := range p.pages {
		if now.After(v.expires) {
			delete(p.pages, k)
		}
	}
	tok := opaqueID()
	p.pages[tok] = pg
	return tok
}

func (p *exoPager) get(tok string) *exoPage {
	p.mu.Lock()
	defer p.mu.Unlock()
	pg := p.pages[tok]
	if pg != nil && time.Now().After(pg.expires) {
		delete(p.pages, tok)
		return nil
	}
	return pg
}

// ExchangeAdminQuirks choose between wire forms that public sources
// disagree on (docs/exchange-admin-api.md §4, §5, §6 "design for both").
type ExchangeAdminQuirks struct {
	// PipeErrorDetails writes error.details[0].message as
	// "<stringId>|<exception type>|<text>" instead of the JSON-serialized
	// exception the simulator writes by default.
	PipeErrorDetails bool
	// AllowListAsArray writes Get-OrganizationConfig's EwsAllowedAppIDs
	// as a JSON array instead of a comma-separated string.
	AllowListAsArray bool
}

// SetExchangeAdminQuirks picks the admin API's wire forms.
func (s *Server) SetExchangeAdminQuirks(q ExchangeAdminQuirks) {
	s.mu.Lock()
	s.exoQuirks = q
	s.mu.Unlock()
}

// exoAdminHandler serves /adminapi/beta/{tenant}/InvokeCommand.
func (s *Server) exoAdminHandler(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(strings.ToLower(r.URL.Path), strings.ToLower(exoAdminPrefix))
	tenantSeg, op, _ := strings.Cut(rest, "/")
	tenantSeg = r.URL.Path[len(exoAdminPrefix) : len(exoAdminPrefix)+len(tenantSeg)]
	h := w.Header()
	h.Set("request-id", uuid.NewString())
	h.Set("X-CalculatedBETarget", "AM0PR01MB0001.eurprd01.prod.outlook.com")
	h.Set("X-FEServer", "AM0PR01CA0001")
	if cid := r.Header.Get("client-request-id"); cid != "" {
		h.Set("client-request-id", cid)
	}
	if op != "invokecommand" {
		exoForbidden(w)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		h.Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	// {tenant} is the tenant GUID or its initial onmicrosoft.com domain
	// (docs/exchange-admin-api.md §1).
	t := s.tenantBySegment(tenantSeg)
	if t == nil || !strings.EqualFold(tenantSeg, t.ID) && !strings.EqualFold(tenantSeg, t.InitialDomain) {
		s.logf("sim: exchange admin API: unknown tenant segment %q", tenantSeg)
		exoForbidden(w)
		return
	}
	v := s.viewOf(t)
	u, ok := v.exoAdminCaller(w, r, tenantSeg)
	if !ok {
		return
	}
	if s.exoAdminThrottled(w) {
		return
	}
	pageSize := preferredPageSize(r.Header.Get("Prefer"))
	sel := selectProps(r.URL.Query().Get("$select"))
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		// The next page: the module POSTs the same body again (GET is
		// accepted too); the result set was kept when the first page ran.
		pg := s.exoPages.get(tok)
		if pg == nil {
			s.writeExoError(w, exoErr("InvalidOperationException", "The page token is not valid or has expired; run the cmdlet again."), nil)
			return
		}
		s.writeExoPage(w, r, tenantSeg, pg, pageSize, sel, nil)
		return
	}
	if r.Method != http.MethodPost {
		h.Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	var body struct {
		CmdletInput *struct {
			CmdletName string                     `json:"CmdletName"`
			Parameters map[string]json.RawMessage `json:"Parameters"`
		} `json:"CmdletInput"`
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil || json.Unmarshal(data, &body) != nil || body.CmdletInput == nil || strings.TrimSpace(body.CmdletInput.CmdletName) == "" {
		s.writeExoError(w, exoErr("ParameterBindingException", "The request body must be {\"CmdletInput\":{\"CmdletName\":\"<cmdlet>\",\"Parameters\":{...}}}."), nil)
		return
	}
	name := strings.TrimSpace(body.CmdletInput.CmdletName)
	def, known := cmdlets[strings.ToLower(name)]
	if !known {
		// An unknown cmdlet is a bodyless 403 (measured, §4).
		s.logf("sim: exchange admin API: unknown cmdlet %q", name)
		exoForbidden(w)
		return
	}
	write := !strings.HasPrefix(strings.ToLower(def.name), "get-") && !strings.HasPrefix(strings.ToLower(def.name), "test-")
	if write && strings.TrimSpace(r.Header.Get("X-AnchorMailbox")) == "" {
		// Writes without an anchor mailbox get a bare 403 (§2, DFDS).
		s.logf("sim: exchange admin API %s refused: no X-AnchorMailbox header", def.name)
		exoForbidden(w)
		return
	}
	raw, e := rawFromJSON(body.CmdletInput.Parameters)
	if e == nil && def.params != nil {
		e = restUnknownParams(def.params, raw)
	}
	if e == nil && write && strings.HasPrefix(strings.ToLower(def.name), "remove-") {
		if v, ok := raw.named["Confirm"]; ok && v.isBool && v.b {
			// The module's validation call: answer with the confirmation
			// text and change nothing (§2 "Confirm and Remove-*").
			s.writeExoConfirmation(w, r, tenantSeg, def.name, raw)
			return
		}
	}
	var objs []exoObject
	var warns []string
	if e == nil {
		objs, warns, e = v.invoke(name, raw, time.Now())
	}
	if e != nil {
		s.logf("sim: exchange admin API %s by %s: %s", def.name, u.UPN, e.category)
		s.writeExoError(w, e, warns)
		return
	}
	s.logf("sim: exchange admin API %s by %s: %d object(s)", def.name, u.UPN, len(objs))
	s.writeExoPage(w, r, tenantSeg, &exoPage{objs: objs, cmdlet: def.name, expires: time.Now().Add(exoPageTokenTimeout)}, pageSize, sel, warns)
}

// restUnknownParams: over the admin API an unknown parameter fails
// parameter-set resolution (a live capture of 2026-07-23 in a 3rd-party Go
// client's tests; docs/exchange-admin-api.md §4 "Bad / unknown parameter").
func restUnknownParams(specs []paramSpec, raw rawArgs) *exoError {
	known := map[string]bool{}
	for _, p := range specs {
		known[strings.ToLower(p.name)] = true
	}
	var unknown []string
	for _, n := range raw.order {
		if !known[strings.ToLower(n)] {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	return exoErr("AmbiguousParameterSetException", "Parameter set cannot be resolved using the specified named parameters. Invalid cmdlet parameters specified. %s", strings.Join(unknown, ", "))
}

// preferredPageSize reads "Prefer: odata.maxpagesize=N" (1..1000).
func preferredPageSize(prefer string) int {
	for _, part := range strings.Split(prefer, ",") {
		for _, item := range strings.Split(part, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(item), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "odata.maxpagesize") {
				if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
					return min(n, exoMaxPageSize)
				}
			}
		}
	}
	return exoDefaultPageSize
}

func selectProps(sel string) []string {
	var out []string
	for _, p := range strings.Split(sel, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// exoMoreResults is the warning of a non-final page (§3 "Paging").
const exoMoreResults = "There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter."

func (s *Server) writeExoPage(w http.ResponseWriter, r *http.Request, tenantSeg string, pg *exoPage, size int, sel []string, warns []string) {
	out := append([]string{}, warns...)
	objs := pg.objs
	next := ""
	if len(objs) > size {
		tok := s.exoPages.put(&exoPage{objs: objs[size:], cmdlet: pg.cmdlet, expires: time.Now().Add(exoPageTokenTimeout)})
		u := url.URL{Scheme: "https", Host: r.Host, Path: exoAdminPrefix + tenantSeg + "/InvokeCommand", RawQuery: "$skiptoken=" + url.QueryEscape(tok)}
		if len(sel) > 0 {
			u.RawQuery += "&$select=" + url.QueryEscape(strings.Join(sel, ","))
		}
		next = u.String()
		objs = objs[:size]
		out = append(out, exoMoreResults)
	}
	s.mu.Lock()
	q := s.exoQuirks
	s.mu.Unlock()
	value := make([]exoObject, 0, len(objs))
	for _, o := range objs {
		value = append(value, o.wire(sel, q))
	}
	var b strings.Builder
	b.WriteString(`{"@odata.context":`)
	writeJSONString(&b, "https://"+r.Host+exoAdminPrefix+tenantSeg+"/$metadata#Collection(Exchange.GenericHashTable)")
	b.WriteString(`,"adminapi.warnings@odata.type":"#Collection(String)","@adminapi.warnings":`)
	wj, _ := json.Marshal(out)
	b.Write(wj)
	b.WriteString(`,"value":`)
	vj, _ := json.Marshal(value)
	b.Write(vj)
	if next != "" {
		b.WriteString(`,"@odata.nextLink":`)
		writeJSONString(&b, next)
	}
	b.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, b.String())
}

func writeJSONString(b *strings.Builder, v string) {
	j, _ := json.Marshal(v)
	b.Write(j)
}

// writeExoConfirmation answers a Remove-* call with "Confirm": true.
func (s *Server) writeExoConfirmation(w http.ResponseWriter, r *http.Request, tenantSeg, cmdlet string, raw rawArgs) {
	target := ""
	if v, ok := raw.named["Identity"]; ok && len(v.strs) > 0 {
		target = v.strs[0]
	}
	msg := "Are you sure you want to perform this action?\n" + cmdlet + " \"" + target + "\"."
	resp := map[string]any{
		"@odata.context":               "https://" + r.Host + exoAdminPrefix + tenantSeg + "/$metadata#Collection(Exchange.GenericHashTable)",
		"adminapi.warnings@odata.type": "#Collection(String)", "@adminapi.warnings": []string{},
		"@adminapi.confirmationmessage": msg, "value": []exoObject{},
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	_ = json.NewEncoder(w).Encode(resp)
}

// exoForbidden is the bodyless 403 of an unknown cmdlet, a cmdlet outside
// the caller's role, a token for another API or client: NUL bytes under a
// Content-Encoding: gzip header that is not gzip (§4, measured).
func exoForbidden(w http.ResponseWriter) {
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write(make([]byte, 512))
}

// errorStringIDs are Exchange's localized string ids where a source quotes one.
var errorStringIDs = map[string]string{"ManagementObjectNotFoundException": "Ex6F9304"}

// writeExoError writes the admin API's OData error (§4): error.message is
// the generic text; the cmdlet's own words are in details[0].message (a
// JSON-serialized exception, or "<stringId>|<type>|<text>" with
// PipeErrorDetails) and in innererror.internalexception. Parameter
// transformation errors carry no details, as in the live capture.
func (s *Server) writeExoError(w http.ResponseWriter, e *exoError, warns []string) {
	if warns == nil {
		warns = []string{}
	}
	status, code, message := http.StatusBadRequest, "BadRequest", "Error executing cmdlet"
	typ := exceptionType(e.category)
	binding := strings.HasPrefix(e.category, "ParameterBinding") || e.category == "AmbiguousParameterSetException"
	switch {
	case e.category == "ManagementObjectNotFoundException":
		status, code = http.StatusNotFound, "NotFound"
	case binding:
		message = "Invalid Operation"
	}
	s.mu.Lock()
	pipe := s.exoQuirks.PipeErrorDetails
	s.mu.Unlock()
	body := map[string]any{"code": code, "message": message}
	if !strings.HasPrefix(e.category, "ParameterBinding") {
		var detail string
		if pipe || e.category == "AmbiguousParameterSetException" {
			detail = errorStringIDs[e.category] + "|" + typ + "|" + e.msg
		} else {
			ex := map[string]any{"ClassName": typ, "TypeName": typ, "Message": e.msg, "StackTrace": nil, "InnerError": nil}
			if id := errorStringIDs[e.category]; id != "" {
				ex["localizedString"] = map[string]string{"stringId": id}
			}
			j, _ := json.Marshal(ex)
			detail = string(j)
		}
		body["details"] = []map[string]string{{"code": "Client", "target": "", "message": detail}}
	}
	body["innererror"] = map[string]any{"message": message, "type": "Microsoft.Exchange.Admin.OData.Core.ODataServiceException", "stacktrace": "",
		"internalexception": map[string]string{"message": e.msg, "type": typ, "stacktrace": ""}}
	body["adminapi.warnings@odata.type"] = "#Collection(String)"
	body["@adminapi.warnings"] = warns
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.Header().Set("x-ExceptionType", e.category)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}

// exceptionType is the .NET type name the admin API reports for a category.
func exceptionType(category string) string {
	switch category {
	case "ParameterBindingException", "ParameterBindingValidationException", "ParameterBindingArgumentTransformationException":
		return "Microsoft.Exchange.AdminApi.CommandInvocation.ParameterTransformationException"
	case "AmbiguousParameterSetException":
		return "Microsoft.Exchange.AdminApi.CommandInvocation." + category
	case "ADObjectAlreadyExistsException":
		return "Microsoft.Exchange.Data.Directory." + category
	case "NotSupportedException", "InvalidOperationException":
		return "System." + category
	}
	return "Microsoft.Exchange.Configuration.Tasks." + category
}

// exoAdminCaller authenticates the request (§1, §4): a delegated v1 token of
// this tenant for https://outlook.office365.com from the
// ExchangeOnlineManagement client (scp AdminApi.AccessAsUser.All), of a user
// in Organization Management (Exchange or Global Administrator, or a member
// by name). No token: a Basic challenge; an unusable one: a Bearer
// challenge naming the login host; the wrong client, an app-only token or
// a user without the role: the bodyless 403.
func (s *view) exoAdminCaller(w http.ResponseWriter, r *http.Request, _ string) (*user, bool) {
	bearer401 := func(reason, diag string) (*user, bool) {
		s.logf("sim: exchange admin API refused (401): %s", reason)
		w.Header().Set("WWW-Authenticate", `Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001-0000-0000-c000-000000000000@*", token_types="app_asserted_user_v1 service_asserted_app_v1", authorization_uri="`+s.loginURL+`/common/oauth2/authorize", error="invalid_token"`)
		if diag != "" {
			w.Header().Set("x-ms-diagnostics", diag)
		}
		w.WriteHeader(http.StatusUnauthorized)
		return nil, false
	}
	forbid := func(reason string) (*user, bool) {
		s.logf("sim: exchange admin API refused (403): %s", reason)
		exoForbidden(w)
		return nil, false
	}
	authz := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(authz, "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		s.logf("sim: exchange admin API refused (401): no bearer token")
		w.Header().Set("WWW-Authenticate", `Basic Realm=""`)
		w.WriteHeader(http.StatusUnauthorized)
		return nil, false
	}
	claims, err := s.parseToken(strings.TrimSpace(raw))
	if err != nil {
		reason := "The token is invalid."
		if strings.Contains(err.Error(), "expired") {
			reason = "The token has expired."
		}
		return bearer401(err.Error(), `2000001;reason="`+reason+`";error_category="invalid_token"`)
	}
	if !strings.EqualFold(strings.TrimSuffix(str(claims["aud"]), "/"), exoResource) {
		return bearer401("audience "+str(claims["aud"]), `2000003;reason="The audience claim value is invalid '`+str(claims["aud"])+`'.";error_category="invalid_resource"`)
	}
	if !strings.EqualFold(str(claims["tid"]), s.ID) {
		return forbid("a token of tenant " + str(claims["tid"]) + " for " + s.Name + "'s organization")
	}
	if str(claims["idtyp"]) == "app" || str(claims["upn"]) == "" {
		return forbid("app-only token: the sim models the module's delegated sign-in only")
	}
	if !strings.EqualFold(str(claims["appid"]), ExchangePowerShellClientID) || !slices.Contains(strings.Fields(str(claims["scp"])), "AdminApi.AccessAsUser.All") {
		return forbid("token of client " + str(claims["appid"]) + " without AdminApi.AccessAsUser.All")
	}
	s.mu.Lock()
	u := s.userByID(str(claims["oid"]))
	allowed := u != nil && !u.Blocked && s.isOrgManagement(u)
	s.mu.Unlock()
	if u == nil {
		return bearer401("unknown user", "")
	}
	if !allowed {
		return forbid(u.UPN + " has no Exchange admin role (Exchange Administrator, Global Administrator or Organization Management)")
	}
	return u, true
}

// exoAdminThrottled applies ThrottleExchangeAdmin: 429 with Retry-After.
func (s *Server) exoAdminThrottled(w http.ResponseWriter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exoThrottleN <= 0 {
		return false
	}
	s.exoThrottleN--
	secs := max(int((s.exoThrottleRetry+time.Second-1)/time.Second), 1)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": "TooManyRequests",
		"message": "The request was throttled. Expected available in " + strconv.Itoa(secs) + " seconds."}})
	return true
}

// ThrottleExchangeAdmin makes the next n admin API requests answer 429
// with Retry-After.
func (s *Server) ThrottleExchangeAdmin(n int, retryAfter time.Duration) {
	s.mu.Lock()
	s.exoThrottleN, s.exoThrottleRetry = n, retryAfter
	s.mu.Unlock()
}
