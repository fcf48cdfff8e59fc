package sim

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Microsoft Graph v1.0 subset. Handlers return (status, body, error); the
// router writes Graph's JSON shapes and error body.

const graphBase = "https://graph.microsoft.com/v1.0/"

type graphError struct {
	status     int
	code       string
	msg        string
	details    []map[string]string
	retryAfter int
}

func gerr(status int, code, format string, args ...any) *graphError {
	return &graphError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func errDenied() *graphError {
	return gerr(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

func errNotFound(id string) *graphError {
	return gerr(404, "Request_ResourceNotFound", "Resource '%s' does not exist or one of its queried reference-property objects are not present.", id)
}

func errBadRequest(format string, args ...any) *graphError {
	return gerr(400, "Request_BadRequest", format, args...)
}

func errUnsupportedQuery() *graphError {
	return gerr(400, "Request_UnsupportedQuery", "Unsupported Query.")
}

func writeGraphError(w http.ResponseWriter, r *http.Request, e *graphError) {
	reqID := newID()
	inner := map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": reqID,
		"client-request-id": nonEmpty(r.Header.Get("client-request-id"), reqID)}
	body := map[string]any{"code": e.code, "message": e.msg, "innerError": inner}
	if len(e.details) > 0 {
		body["details"] = e.details
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("request-id", reqID)
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}

func nonEmpty(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// caller is who a Graph request runs as.
type caller struct {
	user   *user // nil for app-only
	appID  string
	scopes []string
	roles  []string
}

// can reports whether the token carries any of the delegated scopes (for a
// user) or app roles (app-only) given.
func (c caller) can(scopes []string, roles []string) bool {
	if c.user != nil {
		return slices.ContainsFunc(c.scopes, func(s string) bool { return slices.Contains(scopes, s) })
	}
	return slices.ContainsFunc(c.roles, func(r string) bool { return slices.Contains(roles, r) })
}

// graphHandler serves https://<graph>/v1.0/...
func (s *Server) graphHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("client-request-id", r.Header.Get("client-request-id"))
		if e := s.graphFault(); e != nil {
			writeGraphError(w, r, e)
			return
		}
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(http.MaxBytesReader(w, r.Body, 8<<20))
			if err != nil {
				writeGraphError(w, r, errBadRequest("The request body is not valid gzip."))
				return
			}
			r.Body = io.NopCloser(io.LimitReader(zr, 8<<20))
			r.Header.Del("Content-Encoding")
		}
		if s.isMailPath(r.URL.Path) {
			s.graphMail(w, r)
			return
		}
		s.serveGraph(w, r, true)
	})
}

// graphFault applies the Throttle and FailNext knobs.
func (s *Server) graphFault() *graphError {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.throttleN > 0 {
		s.throttleN--
		secs := int((s.throttleRetry + time.Second - 1) / time.Second)
		e := gerr(429, "TooManyRequests", "Too many requests. Please retry after %d seconds.", secs)
		e.retryAfter = max(secs, 1)
		if s.throttleRetry == 0 {
			e.retryAfter = 0
		}
		return e
	}
	if s.failN > 0 {
		s.failN--
		switch s.failStatus {
		case 504:
			return gerr(504, "GatewayTimeout", "The gateway timed out waiting for the directory service.")
		default:
			return gerr(503, "ServiceUnavailable", "The service is temporarily unavailable. Please retry later.")
		}
	}
	return nil
}

// isMailPath reports whether a path is one of Graph's mail routes, which
// package exchange serves: /v1.0/me/<x>/... or /v1.0/users/{id|upn}/<x>/...
// with <x> mailFolders, messages or sendMail.
func (s *Server) isMailPath(p string) bool {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	if len(segs) < 3 || segs[0] != "v1.0" {
		return false
	}
	var x string
	switch {
	case segs[1] == "me":
		x = segs[2]
	case segs[1] == "users" && len(segs) >= 4:
		x = segs[3]
	default:
		return false
	}
	switch strings.ToLower(x) {
	case "mailfolders", "messages", "sendmail":
		return true
	}
	return false
}

// serveGraph authenticates and routes one request; top is false inside $batch.
func (s *Server) serveGraph(w http.ResponseWriter, r *http.Request, top bool) {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/v1.0/") {
		writeGraphError(w, r, gerr(400, "BadRequest", "Invalid version: %s", strings.Split(strings.Trim(p, "/"), "/")[0]))
		return
	}
	c, v, e := s.graphCaller(r)
	if e != nil {
		writeGraphError(w, r, e)
		return
	}
	if top && p == "/v1.0/$batch" && r.Method == http.MethodPost {
		s.batch(w, r, c)
		return
	}
	status, body, e := v.routeGraph(r, c, strings.TrimPrefix(p, "/v1.0/"))
	if e != nil {
		writeGraphError(w, r, e)
		return
	}
	if body == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	if loc, ok := body["id"].(string); ok && status == 201 && !strings.Contains(strings.TrimPrefix(p, "/v1.0/"), "/") {
		w.Header().Set("Location", graphBase+strings.TrimPrefix(p, "/v1.0/")+"/"+loc)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// graphCaller checks the bearer token (one of the simulator's tenants',
// for Graph) and answers with the token's tenant's view.
func (s *Server) graphCaller(r *http.Request) (caller, *view, *graphError) {
	h := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || raw == "" {
		return caller{}, nil, gerr(401, "InvalidAuthenticationToken", "Access token is empty.")
	}
	claims, err := s.parseToken(raw)
	if err != nil {
		if strings.Contains(err.Error(), "expired") {
			return caller{}, nil, gerr(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
		}
		return caller{}, nil, gerr(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
	}
	switch str(claims["aud"]) {
	case "https://graph.microsoft.com", "https://graph.microsoft.com/", GraphAppID:
	default:
		return caller{}, nil, gerr(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
	}
	s.mu.Lock()
	t := s.tenantBySegment(str(claims["tid"]))
	s.mu.Unlock()
	if t == nil {
		return caller{}, nil, gerr(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid issuer.")
	}
	v := s.viewOf(t)
	c := caller{appID: str(claims["azp"])}
	if c.appID == "" {
		c.appID = str(claims["appid"])
	}
	roles, _ := claims["roles"].([]any)
	switch scp := str(claims["scp"]); {
	case scp != "" || claimUser(claims) != "":
		s.mu.Lock()
		c.user = v.userByID(str(claims["oid"]))
		s.mu.Unlock()
		if c.user == nil {
			return caller{}, nil, gerr(401, "InvalidAuthenticationToken", "Access token validation failure. The user does not exist.")
		}
		c.scopes = strings.Fields(scp)
	case len(roles) == 0:
		// An app-only token without any permission (several field reports).
		return caller{}, nil, gerr(403, "AccessDenied", "Either scp or roles claim need to be present in the token.")
	default:
		for _, r := range roles {
			c.roles = append(c.roles, str(r))
		}
	}
	return c, v, nil
}

func claimUser(c jwt.MapClaims) string {
	if v := str(c["preferred_username"]); v != "" {
		return v
	}
	return str(c["upn"])
}

// pathSeg is one path segment, with a key in parentheses if any:
// applications(appId='x') -> name applications, key appId, value x.
type pathSeg struct{ name, keyProp, key string }

func parseSeg(seg string) (pathSeg, *graphError) {
	seg, _ = url.PathUnescape(seg)
	i := strings.Index(seg, "(")
	if i < 0 {
		return pathSeg{name: seg}, nil
	}
	if !strings.HasSuffix(seg, ")") {
		return pathSeg{}, errBadRequest("Bad request. Please fix the request before retrying: unbalanced parentheses in '%s'.", seg)
	}
	inner := seg[i+1 : len(seg)-1]
	ps := pathSeg{name: seg[:i]}
	if k, v, ok := strings.Cut(inner, "="); ok {
		ps.keyProp, inner = strings.TrimSpace(k), strings.TrimSpace(v)
	}
	if len(inner) < 2 || inner[0] != '\'' || inner[len(inner)-1] != '\'' {
		return pathSeg{}, errBadRequest("Bad request. Please fix the request before retrying: the key in '%s' must be quoted.", seg)
	}
	ps.key = strings.ReplaceAll(inner[1:len(inner)-1], "''", "'")
	return ps, nil
}

type graphBody = map[string]any

// routeGraph dispatches a request below /v1.0/.
func (s *view) routeGraph(r *http.Request, c caller, rest string) (int, graphBody, *graphError) {
	raw := strings.Split(strings.Trim(rest, "/"), "/")
	segs := make([]pathSeg, 0, len(raw))
	for _, x := range raw {
		ps, e := parseSeg(x)
		if e != nil {
			return 0, nil, e
		}
		segs = append(segs, ps)
	}
	q, e := parseQuery(r.URL.RawQuery)
	if e != nil {
		return 0, nil, e
	}
	// A keyed first segment becomes name + id, so both forms route alike.
	if segs[0].key != "" {
		id := segs[0].key
		if segs[0].keyProp != "" && !strings.EqualFold(segs[0].keyProp, "id") {
			id = segs[0].keyProp + "=" + segs[0].key
		}
		segs = append([]pathSeg{{name: segs[0].name}, {name: id}}, segs[1:]...)
	}
	name := segs[0].name
	m := r.Method
	n := len(segs)
	switch {
	case name == "organization" && n == 1 && m == "GET":
		return s.getOrganization(c)
	case name == "me":
		return s.routeUser(r, c, q, append([]pathSeg{{name: "users"}, {name: c.selfID()}}, segs[1:]...))
	case name == "users":
		return s.routeUser(r, c, q, segs)
	case name == "applications":
		return s.routeApplications(r, c, q, segs)
	case name == "servicePrincipals":
		return s.routeServicePrincipals(r, c, q, segs)
	case name == "oauth2PermissionGrants":
		return s.routeGrants(r, c, q, segs)
	}
	return 0, nil, gerr(400, "BadRequest", "Resource not found for the segment '%s'.", name)
}

func (c caller) selfID() string {
	if c.user == nil {
		return "me"
	}
	return c.user.ID
}

// query is a parsed OData query: only $filter (eq joined by and), $select
// (ignored: full objects are returned) and $top are supported.
type query struct {
	filter []filterTerm
	top    int
	count  bool // $count=true
	skip   int  // from $skiptoken
	raw    url.Values
}

type filterTerm struct {
	prop, value string
	any         bool // prop/any(x:x eq value): prop is a collection, joined by "\x00"
}

func parseQuery(raw string) (query, *graphError) {
	var q query
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return q, errBadRequest("Invalid query string.")
	}
	q.raw = vals
	for k, vs := range vals {
		v := vs[0]
		switch strings.ToLower(k) {
		case "$select":
		case "$count":
			q.count = strings.EqualFold(v, "true")
		case "$skiptoken":
			n, ok := parseSkipToken(v)
			if !ok {
				return q, errBadRequest("The specified page token value has expired and can no longer be included in your request.")
			}
			q.skip = n
		case "$top":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 999 {
				return q, gerr(400, "Request_BadRequest", "Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", v)
			}
			q.top = n
		case "$filter":
			terms, e := parseFilter(v)
			if e != nil {
				return q, e
			}
			q.filter = terms
		default:
			if strings.HasPrefix(k, "$") {
				return q, errUnsupportedQuery()
			}
		}
	}
	return q, nil
}

// parseFilter accepts terms joined by "and": `prop eq 'value'`, `prop eq
// true|false`, and the lambda `prop/any(x:x eq 'value')` on a collection
// property (Graph's filter syntax, filter-query-parameter.md).
func parseFilter(f string) ([]filterTerm, *graphError) {
	var terms []filterTerm
	rest := strings.TrimSpace(f)
	for rest != "" {
		var term filterTerm
		var after string
		if p, lambda, ok := strings.Cut(rest, "/any("); ok && !strings.Contains(p, " ") {
			// prop/any(v:v eq 'value')
			v, body, ok := strings.Cut(lambda, ":")
			if !ok || strings.TrimSpace(v) == "" {
				return nil, errUnsupportedQuery()
			}
			inner, tail, ok := strings.Cut(strings.TrimSpace(body), " ")
			if !ok || inner != strings.TrimSpace(v) {
				return nil, errUnsupportedQuery()
			}
			val, after2, e := filterOperand(tail)
			if e != nil {
				return nil, e
			}
			after2 = strings.TrimLeft(after2, " ")
			if !strings.HasPrefix(after2, ")") {
				return nil, errUnsupportedQuery()
			}
			term, after = filterTerm{prop: p, value: val, any: true}, after2[1:]
		} else {
			prop, tail, ok := strings.Cut(rest, " ")
			if !ok {
				return nil, errUnsupportedQuery()
			}
			val, after2, e := filterOperand(tail)
			if e != nil {
				return nil, e
			}
			term, after = filterTerm{prop: prop, value: val}, after2
		}
		terms = append(terms, term)
		rest = strings.TrimSpace(after)
		if rest == "" {
			break
		}
		conj, more, ok := strings.Cut(rest, " ")
		if !ok || !strings.EqualFold(conj, "and") {
			return nil, errUnsupportedQuery()
		}
		rest = strings.TrimSpace(more)
	}
	return terms, nil
}

// filterOperand reads "eq <literal>" and returns the literal and the rest:
// a quoted string (” escapes a quote) or true/false.
func filterOperand(s string) (string, string, *graphError) {
	s = strings.TrimLeft(s, " ")
	op, after, ok := strings.Cut(s, " ")
	if !ok || !strings.EqualFold(op, "eq") {
		return "", "", errUnsupportedQuery()
	}
	after = strings.TrimLeft(after, " ")
	for _, b := range []string{"true", "false"} {
		if strings.HasPrefix(strings.ToLower(after), b) && (len(after) == len(b) || after[len(b)] == ' ' || after[len(b)] == ')') {
			return b, after[len(b):], nil
		}
	}
	if !strings.HasPrefix(after, "'") {
		return "", "", errUnsupportedQuery()
	}
	var val strings.Builder
	for i := 1; ; {
		if i >= len(after) {
			return "", "", errBadRequest("Invalid filter clause: unterminated string literal.")
		}
		if after[i] == '\'' {
			if i+1 < len(after) && after[i+1] == '\'' {
				val.WriteByte('\'')
				i += 2
				continue
			}
			return val.String(), after[i+1:], nil
		}
		val.WriteByte(after[i])
		i++
	}
}

// filterProp is one property a collection's $filter may name.
type filterProp[T any] struct {
	name  string
	get   func(T) string
	multi bool // a collection: filtered with prop/any(x:x eq ...) only
}

func prop[T any](name string, get func(T) string) filterProp[T] {
	return filterProp[T]{name: name, get: get}
}

// multiProp is a collection property; get joins its values with "\x00".
func multiProp[T any](name string, get func(T) []string) filterProp[T] {
	return filterProp[T]{name: name, get: func(t T) string { return strings.Join(get(t), "\x00") }, multi: true}
}

// listMatching answers a collection GET: the items, in the order given,
// that keep allows and every $filter term matches (case-insensitively),
// rendered by view (paged afterwards by page). A filter on a property the
// collection does not offer is Request_UnsupportedQuery, as Graph says,
// whether or not any item would be tested.
func listMatching[T any](q query, items []T, props []filterProp[T], keep func(T) bool, view func(T) any) ([]any, *graphError) {
	getters := map[string]func(T) string{}
	multi := map[string]bool{}
	for _, p := range props {
		getters[strings.ToLower(p.name)] = p.get
		multi[strings.ToLower(p.name)] = p.multi
	}
	for _, t := range q.filter {
		if getters[strings.ToLower(t.prop)] == nil || multi[strings.ToLower(t.prop)] != t.any {
			return nil, errUnsupportedQuery()
		}
	}
	out := []any{}
	for _, it := range items {
		if keep != nil && !keep(it) {
			continue
		}
		match := true
		for _, t := range q.filter {
			got := getters[strings.ToLower(t.prop)](it)
			if t.any {
				if !slices.ContainsFunc(strings.Split(got, "\x00"), func(v string) bool { return strings.EqualFold(v, t.value) }) {
					match = false
					break
				}
			} else if !strings.EqualFold(got, t.value) {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		out = append(out, view(it))
	}
	return out, nil
}

// inIDOrder lists a map's values in key order, for stable collections.
func inIDOrder[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

// entity renders an object as Graph JSON with its @odata.context.
func entity(context string, v any) graphBody {
	b, _ := json.Marshal(v)
	m := graphBody{}
	_ = json.Unmarshal(b, &m)
	m["@odata.context"] = graphBase + "$metadata#" + context
	return m
}

func collection(context string, items []any) graphBody {
	vals := make([]any, 0, len(items))
	for _, it := range items {
		b, _ := json.Marshal(it)
		m := map[string]any{}
		_ = json.Unmarshal(b, &m)
		vals = append(vals, m)
	}
	return graphBody{"@odata.context": graphBase + "$metadata#" + context, "value": vals}
}

// readJSON decodes a request body into v; a bad body is a 400.
func readJSON(r *http.Request, v any) *graphError {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		return errBadRequest("The request body could not be read.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errBadRequest("Empty Payload. JSON content expected.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errBadRequest("Invalid JSON in the request body: %s", jsonErrText(err))
	}
	return nil
}

func jsonErrText(err error) string {
	var te *json.UnmarshalTypeError
	if ok := asType(err, &te); ok {
		return fmt.Sprintf("a value of type %s was given for property '%s'", te.Value, te.Field)
	}
	return "the body is not valid JSON"
}

func asType[T any](err error, target *T) bool {
	t, ok := err.(T)
	if ok {
		*target = t
	}
	return ok
}

// spTooNew: a service principal created less than the delay ago is not yet
// visible to grants and role assignments (caller holds s.mu).
func (s *view) spTooNew(sp *servicePrincipal) bool {
	return time.Since(sp.created) < s.delays.ServicePrincipalToGrant
}

func (s *view) getOrganization(c caller) (int, graphBody, *graphError) {
	if !c.allowed(opOrganizationGet) {
		return 0, nil, errDenied()
	}
	org := map[string]any{
		"id": s.ID, "displayName": s.Name, "tenantType": "AAD", "countryLetterCode": "US",
		"createdDateTime": "2021-03-14T09:26:53Z", "preferredLanguage": "en", "businessPhones": []string{},
		"verifiedDomains": []map[string]any{
			{"name": s.InitialDomain, "isInitial": true, "isDefault": false, "type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline"},
			{"name": s.DefaultDomain, "isInitial": false, "isDefault": true, "type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline"},
		},
	}
	// With User.Read only, Graph returns id, displayName and verifiedDomains;
	// other properties come back null (organization-get.md).
	if !c.holdsAny([]string{"Organization.Read.All", "Directory.Read.All", "Organization.ReadWrite.All", "Directory.ReadWrite.All"}) {
		for k := range org {
			if k != "id" && k != "displayName" && k != "verifiedDomains" {
				org[k] = nil
			}
		}
	}
	return 200, collection("organization", []any{org}), nil
}

// DefaultGraphPageSize is Graph's default page size for directory
// collections (microsoft.md §15.3; most list pages: "default 100").
const DefaultGraphPageSize = 100

// SetGraphPageSize sets the page size of directory collections when the
// request gives no $top (0 = DefaultGraphPageSize); tests make it small so
// every list a client reads is followed across @odata.nextLink pages.
func (s *Server) SetGraphPageSize(n int) {
	s.mu.Lock()
	s.pageSize = n
	s.mu.Unlock()
}

// graphPageSize: caller holds s.mu.
func (s *view) graphPageSize() int {
	if s.pageSize > 0 {
		return s.pageSize
	}
	return DefaultGraphPageSize
}

// page answers a collection GET one page at a time: $top (or the page
// size) items from the $skiptoken position, @odata.nextLink to the rest
// (the same query with a new $skiptoken, on this Graph host), and
// @odata.count when $count=true came with ConsistencyLevel: eventual.
// The caller holds s.mu.
func (s *view) page(r *http.Request, q query, context string, items []any) graphBody {
	size := q.top
	if size == 0 {
		size = s.graphPageSize()
	}
	start := min(q.skip, len(items))
	end := min(start+size, len(items))
	body := collection(context, items[start:end])
	if q.count && strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual") {
		body["@odata.count"] = len(items)
	}
	if end < len(items) {
		v := url.Values{}
		for k, vs := range q.raw {
			if !strings.EqualFold(k, "$skiptoken") {
				v[k] = vs
			}
		}
		v.Set("$skiptoken", skipToken(end))
		body["@odata.nextLink"] = s.graphURL + r.URL.Path + "?" + strings.ReplaceAll(v.Encode(), "%24", "$")
	}
	return body
}

// skipToken is an opaque page position, shaped like Graph's long tokens.
func skipToken(offset int) string {
	return "RFNwdAIAAQAAAD" + base64URL("mailoauth-sim:"+strconv.Itoa(offset))
}

func parseSkipToken(tok string) (int, bool) {
	rest, ok := strings.CutPrefix(tok, "RFNwdAIAAQAAAD")
	if !ok {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "mailoauth-sim:"))
	return n, err == nil && n >= 0 && strings.HasPrefix(string(b), "mailoauth-sim:")
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
