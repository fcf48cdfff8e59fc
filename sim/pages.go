package sim

import (
	"html"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Server-rendered sign-in pages: device login, authorize (auth code) and
// admin consent. Plain HTML, no scripts.

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - {{.Tenant}} (simulated)</title>
<style>
body{font-family:"Segoe UI",system-ui,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
.card{max-width:440px;margin:8vh auto;background:#fff;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2);overflow-wrap:anywhere}
@media (max-width:528px){.card{margin:0;padding:24px 20px;box-shadow:none}}
.brand{font-weight:600;color:#737373;margin-bottom:16px}.brand b{color:#0067b8}
h1{font-size:24px;font-weight:600;margin:0 0 16px}
label{display:block;margin:12px 0 4px}input,select{width:100%;padding:6px 0;border:0;border-bottom:1px solid #666;font-size:15px;box-sizing:border-box}
.err{color:#e81123;margin:8px 0}.muted{color:#666;font-size:13px}
ul{padding-left:20px}li{margin:4px 0}li code{overflow-wrap:anywhere}
ul.demo{list-style:none;padding:0;font-size:13px}ul.demo li{padding:4px 0;border-bottom:1px solid #e6e6e6}
ul.demo code{white-space:nowrap;overflow-wrap:normal}
.btns{margin-top:24px;text-align:right}button{min-width:108px;padding:6px 12px;font-size:15px;border:0;margin-left:8px;cursor:pointer}
.primary{background:#0067b8;color:#fff}.secondary{background:#ccc}
code{background:#f4f4f4;padding:1px 4px}
</style></head><body><div class="card">
<div class="brand"><b>Microsoft</b> &middot; simulated tenant {{.Tenant}}</div>
<h1>{{.Title}}</h1>
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .Form}}<form method="post" action="{{.Action}}">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
{{if .AskCode}}<label for="code">Code</label><input id="code" name="user_code" autofocus autocomplete="off" placeholder="Code">{{end}}
{{if .App}}<p>Sign in to <b>{{.App}}</b>{{if .Scopes}}, which asks to:{{end}}</p>
{{if .Scopes}}<ul>{{range .Scopes}}<li><code>{{if .Resource}}{{.Resource}}<wbr>{{end}}{{.Name}}</code></li>{{end}}</ul>{{end}}{{end}}
{{if .Users}}<label for="upn">Account</label><select id="upn" name="upn">{{range .Users}}<option value="{{.UPN}}"{{if .Selected}} selected{{end}}>{{.UPN}} ({{.Name}})</option>{{end}}</select>
<label for="pw">Password</label><input id="pw" type="password" name="password" autocomplete="off">
{{if not .DemoUsers}}<p class="muted">Demo passwords are listed by <code>mailoauth sim --info</code>.</p>{{end}}{{end}}
<div class="btns">{{if .Decline}}<button class="secondary" name="action" value="decline">{{.Decline}}</button>{{end}}<button class="primary" name="action" value="{{.Verb}}">{{.Button}}</button></div>
</form>{{end}}
{{if .DemoUsers}}<p class="muted">This is the demo's simulated tenant; its accounts and passwords:</p>
<ul class="demo">{{range .DemoUsers}}<li><code>{{.UPN}}</code> &middot; {{.Role}}<br>password <code>{{.Password}}</code></li>{{end}}</ul>{{end}}
</div></body></html>`))

type pageUser struct {
	UPN, Name string
	Selected  bool
	Password  string // shown on the page in a demo only (Options.Demo)
	Role      string // what the account is for, in the demo's list
}

// scopeItem is one requested scope as the page shows it: the resource
// (with a line-break opportunity after it, so a phone-width card does not
// overflow) and the permission.
type scopeItem struct{ Resource, Name string }

func scopeItems(raw string) []scopeItem {
	var out []scopeItem
	for _, f := range splitScopes(raw) {
		if i := strings.LastIndex(f, "/"); i >= 0 {
			out = append(out, scopeItem{Resource: f[:i+1], Name: f[i+1:]})
			continue
		}
		out = append(out, scopeItem{Name: f})
	}
	return out
}

type page struct {
	Title, Error, Message string
	Form                  bool
	Action                string
	Hidden                map[string]string
	AskCode               bool
	App                   string
	Scopes                []scopeItem
	Users                 []pageUser
	Verb, Button, Decline string
	Tenant                string     // the tenant's name in the banner; "" = the seed tenant's
	DemoUsers             []pageUser // Options.Demo: the accounts and passwords, listed on the page
}

func (s *Server) renderPage(w http.ResponseWriter, status int, p page) {
	if p.Tenant == "" {
		p.Tenant = TenantName
	}
	if s.opts.Demo && p.Form {
		s.mu.Lock()
		p.DemoUsers = s.demoUsers(p.Tenant)
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = pageTmpl.Execute(w, p)
}

// signInUsers are the accounts offered on a sign-in page (not the shared
// mailbox, whose sign-in is blocked).
func (s *view) signInUsers(hint string) []pageUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pageUsers(s.users, hint)
}

func (s *Server) pageUsers(users []*user, hint string) []pageUser {
	var out []pageUser
	for _, u := range users {
		if u.Blocked {
			continue
		}
		out = append(out, pageUser{UPN: u.UPN, Name: u.DisplayName, Selected: strings.EqualFold(u.UPN, hint), Password: u.Password})
	}
	return out
}

// demoUsers are the accounts a demo page lists with their passwords: the
// named tenant's (Options.Demo only; caller holds s.mu).
func (s *Server) demoUsers(tenantName string) []pageUser {
	var out []pageUser
	for _, t := range s.tenants {
		if t.Name != tenantName {
			continue
		}
		for _, u := range t.users {
			if u.Blocked || u.Password == "" {
				continue
			}
			var what []string
			for _, r := range u.RoleIDs {
				what = append(what, roleNames[r])
			}
			if u.MFA {
				what = append(what, "MFA required")
			}
			if u.HasMailbox && len(u.RoleIDs) == 0 {
				what = append(what, "mailbox")
			}
			if !u.HasMailbox && len(u.RoleIDs) == 0 {
				what = append(what, "no mailbox")
			}
			out = append(out, pageUser{UPN: u.UPN, Name: u.DisplayName, Password: u.Password, Role: strings.Join(what, ", ")})
		}
	}
	return out
}

// signInUsersFor: the users of the segment's tenant, or of every tenant
// for organizations/common.
func (s *Server) signInUsersFor(seg, hint string) []pageUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.tenantBySegment(seg); t != nil {
		return s.pageUsers(t.users, hint)
	}
	var all []*user
	for _, t := range s.tenants {
		all = append(all, t.users...)
	}
	return s.pageUsers(all, hint)
}

func (s *Server) deviceLoginPage(w http.ResponseWriter, r *http.Request) {
	s.renderPage(w, 200, page{Title: "Enter code", Message: "Enter the code displayed on your app or device.",
		Form: true, Action: "/devicelogin", AskCode: true, Verb: "code", Button: "Next"})
}

func (s *Server) deviceLoginPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderPage(w, 400, page{Title: "Enter code", Error: "The form could not be read."})
		return
	}
	code := r.PostForm.Get("user_code")
	s.mu.Lock()
	dc := s.deviceByUserCode(code)
	var app, scope, seg string
	if dc != nil {
		app, scope, seg = dc.clientName, dc.scope, dc.tenantSeg
	}
	// The code's tenant (or, for organizations, the signing-in user's).
	v := s.home()
	if t := s.tenantBySegment(seg); t != nil {
		v = s.viewOf(t)
	}
	s.mu.Unlock()
	if dc == nil {
		s.renderPage(w, 400, page{Title: "Enter code", Error: "That code didn't work. Check the code and try again. (AADSTS70018)",
			Form: true, Action: "/devicelogin", AskCode: true, Verb: "code", Button: "Next"})
		return
	}
	approvePage := func(status int, errText string) {
		s.renderPage(w, status, page{Title: "Sign in and approve", Error: errText, Form: true, Action: "/devicelogin", Tenant: v.Name,
			Hidden: map[string]string{"user_code": code}, App: app, Scopes: scopeItems(scope),
			Users: s.signInUsersFor(seg, r.PostForm.Get("upn")), Verb: "approve", Button: "Approve", Decline: "Decline"})
	}
	switch r.PostForm.Get("action") {
	case "approve":
		s.mu.Lock()
		uv := v.forUser(seg, r.PostForm.Get("upn"))
		u, e := uv.checkUserPassword(r.PostForm.Get("upn"), r.PostForm.Get("password"), false, "")
		needAdmin := e == nil && uv.needsAdminApproval(dc.clientAppID, scope, u)
		s.mu.Unlock()
		if e != nil {
			approvePage(400, "AADSTS"+itoa(e.code)+": "+e.msg)
			return
		}
		if needAdmin {
			approvePage(403, "Need admin approval. AADSTS90094: "+app+" needs permission to access resources in your organization that only an admin can grant. Sign in as an administrator, or ask one to grant the permissions.")
			return
		}
		if err := s.ApproveDeviceCode(code, u.UPN); err != nil {
			s.renderPage(w, 400, page{Title: "Sign in", Error: err.Error()})
			return
		}
		s.renderPage(w, 200, page{Title: "You're signed in", Message: "You have signed in to the " + app +
			" application on your device as " + u.UPN + ". You may now close this window."})
	case "decline":
		_ = s.DeclineDeviceCode(code)
		s.renderPage(w, 200, page{Title: "Sign-in declined", Message: "You declined to sign in to " + app + ". You may now close this window."})
	default:
		approvePage(200, "")
	}
}

// authorize is GET /{tenant}/oauth2/v2.0/authorize: the auth-code flow's
// browser step. With AutoApprove it redirects at once.
func (s *view) authorize(w http.ResponseWriter, r *http.Request, tenant string) {
	q := r.URL.Query()
	if !s.checkAuthorizeRequest(w, r, tenant, q) {
		return
	}
	if s.opts.AutoApprove != "" {
		// Unattended: sign in as the hinted user when the hint names one
		// who may sign in (the product's own mailbox login), else as the
		// auto-approve user.
		s.mu.Lock()
		who := s.autoApprover().UPN
		if u := s.forUser(tenant, q.Get("login_hint")).userByName(q.Get("login_hint")); u != nil && !u.Blocked {
			who = u.UPN
		}
		s.mu.Unlock()
		s.issueCode(w, r, tenant, q, who)
		return
	}
	s.authorizeForm(w, tenant, q, 200, "")
}

func (s *view) authorizeForm(w http.ResponseWriter, tenant string, q url.Values, status int, errText string) {
	hidden := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method", "login_hint", "nonce", "response_mode"} {
		if v := q.Get(k); v != "" {
			hidden[k] = v
		}
	}
	s.mu.Lock()
	name := q.Get("client_id")
	if c, e := s.lookupClient(q.Get("client_id"), tenant, time.Now()); e == nil {
		name = c.name
	}
	s.mu.Unlock()
	s.renderPage(w, status, page{Title: "Sign in", Error: errText, Form: true, Action: "/" + tenant + "/oauth2/v2.0/authorize", Tenant: s.Name,
		Hidden: hidden, App: name, Scopes: scopeItems(q.Get("scope")), Users: s.signInUsersFor(tenant, q.Get("login_hint")),
		Verb: "approve", Button: "Sign in", Decline: "Cancel"})
}

func (s *view) authorizePost(w http.ResponseWriter, r *http.Request, tenant string) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderPage(w, 400, page{Title: "Sign in", Error: "The form could not be read."})
		return
	}
	q := r.PostForm
	if !s.checkAuthorizeRequest(w, r, tenant, q) {
		return
	}
	if q.Get("action") == "decline" {
		redirectWith(w, r, q.Get("redirect_uri"), url.Values{"error": {"access_denied"}, "error_subcode": {"cancel"},
			"error_description": {"AADSTS65004: User declined to consent to access the app."}, "state": {q.Get("state")}})
		return
	}
	s.mu.Lock()
	u, e := s.forUser(tenant, q.Get("upn")).checkUserPassword(q.Get("upn"), q.Get("password"), false, "")
	s.mu.Unlock()
	if e != nil {
		s.authorizeForm(w, tenant, q, 400, "AADSTS"+itoa(e.code)+": "+e.msg)
		return
	}
	s.issueCode(w, r, tenant, q, u.UPN)
}

// checkAuthorizeRequest validates client and redirect URI; errors before a
// trusted redirect URI is known are shown as a page, as Entra does.
func (s *view) checkAuthorizeRequest(w http.ResponseWriter, r *http.Request, tenant string, q url.Values) bool {
	s.mu.Lock()
	c, e := s.lookupClient(q.Get("client_id"), tenant, time.Now())
	s.mu.Unlock()
	if e == nil {
		redirect := q.Get("redirect_uri")
		ok := false
		if c.firstParty {
			u, err := url.Parse(redirect)
			ok = err == nil && u.Scheme == "http" && isLoopbackHost(u.Hostname())
		} else {
			ok = redirectMatches(c.app.PublicClient.RedirectURIs, redirect) || redirectMatches(c.app.Web.RedirectURIs, redirect) ||
				redirectMatches(c.app.Spa.RedirectURIs, redirect)
		}
		if !ok {
			e = errRedirectMismatch(redirect, c.appID)
		}
	}
	if e != nil {
		s.renderPage(w, 400, page{Title: "Sorry, but we're having trouble signing you in.", Error: "AADSTS" + itoa(e.code) + ": " + e.msg})
		return false
	}
	if q.Get("response_type") != "code" {
		redirectWith(w, r, q.Get("redirect_uri"), url.Values{"error": {"unsupported_response_type"},
			"error_description": {"AADSTS700054: response_type '" + q.Get("response_type") + "' is not enabled for the application."}, "state": {q.Get("state")}})
		return false
	}
	if m := q.Get("code_challenge_method"); m != "" && m != "S256" && m != "plain" {
		redirectWith(w, r, q.Get("redirect_uri"), url.Values{"error": {"invalid_request"},
			"error_description": {"AADSTS501491: Invalid code_challenge_method. Use S256 or plain."}, "state": {q.Get("state")}})
		return false
	}
	if _, e := s.parseScopesLocked(q.Get("scope")); e != nil {
		redirectWith(w, r, q.Get("redirect_uri"), url.Values{"error": {e.err}, "error_description": {"AADSTS" + itoa(e.code) + ": " + e.msg}, "state": {q.Get("state")}})
		return false
	}
	return true
}

func (s *view) parseScopesLocked(scope string) (scopeRequest, *aadError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parseScopes(scope, false)
}

func (s *view) issueCode(w http.ResponseWriter, r *http.Request, tenant string, q url.Values, upn string) {
	s.mu.Lock()
	s.purgeExpired(time.Now())
	u, _ := s.userAnywhere(upn)
	code := opaqueID() + opaqueID()
	method := q.Get("code_challenge_method")
	if method == "" && q.Get("code_challenge") != "" {
		method = "plain"
	}
	s.codes[code] = &authCode{clientAppID: strings.ToLower(q.Get("client_id")), redirectURI: q.Get("redirect_uri"), scope: q.Get("scope"),
		tenantSeg: tenant, userID: u.ID, challenge: q.Get("code_challenge"), method: method, expires: time.Now().Add(10 * time.Minute)}
	if a := s.appByAppID(q.Get("client_id")); a != nil {
		s.codes[code].clientAppID = a.AppID
	}
	s.mu.Unlock()
	v := url.Values{"code": {code}, "session_state": {newID()}}
	if st := q.Get("state"); st != "" {
		v.Set("state", st)
	}
	redirectWith(w, r, q.Get("redirect_uri"), v)
}

func redirectWith(w http.ResponseWriter, r *http.Request, target string, v url.Values) {
	u, err := url.Parse(target)
	if err != nil {
		http.Error(w, "bad redirect_uri", 400)
		return
	}
	mode := r.URL.Query().Get("response_mode")
	if r.PostForm != nil && r.PostForm.Get("response_mode") != "" {
		mode = r.PostForm.Get("response_mode")
	}
	if mode == "form_post" {
		formPost(w, u.String(), v)
		return
	}
	q := u.Query()
	for k, vs := range v {
		if len(vs) > 0 && vs[0] != "" {
			q.Set(k, vs[0])
		}
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// formPost answers response_mode=form_post as Entra does: a page whose form
// posts the code (or error) to the redirect URI as soon as it loads.
func formPost(w http.ResponseWriter, target string, v url.Values) {
	var b strings.Builder
	b.WriteString(`<html><head><title>Working...</title></head><body onload="javascript:document.forms[0].submit()">`)
	b.WriteString(`<form method="POST" name="hiddenform" action="` + html.EscapeString(target) + `">`)
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if val := v.Get(k); val != "" {
			b.WriteString(`<input type="hidden" name="` + html.EscapeString(k) + `" value="` + html.EscapeString(val) + `" />`)
		}
	}
	b.WriteString(`<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript></form></body></html>`)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(b.String()))
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
