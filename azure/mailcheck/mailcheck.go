// Package mailcheck proves a setup the way the product will use it: it gets
// tokens with the product's flow (azure/token), logs in to every mailbox
// over every protocol the product uses (IMAP, POP3, SMTP, EWS, Graph mail),
// and explains each failure with its cause and fix (azure/explain).
//
// The protocol dialogues are written by hand from the wire formats of
// microsoft.md §10 and §13, so each check reports the server's exact reply.
// Every network step has a deadline; hosts, ports, TLS mode and trusted
// roots come from the cloud.Cloud, so the same checks run against national
// clouds, a lab or any server that speaks XOAUTH2.
package mailcheck

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
	"github.com/mailoauth/mailoauth/azure/token"
)

// DefaultTimeout bounds every network step.
const DefaultTimeout = 20 * time.Second

// Config is one login test: the product's flow and protocols, the mailboxes,
// the app and its credentials.
type Config struct {
	Cloud     cloud.Cloud
	Flow      catalog.Flow
	Protocols []catalog.Protocol
	Mailboxes []string

	TenantID string
	ClientID string
	// Secret is the app's client secret (client credentials; also sent by
	// confidential apps in ROPC and auth code). Never logged.
	Secret string
	// ServicePrincipalID and AppObjectID fill the Exchange PowerShell fixes
	// (New-ServicePrincipal needs the former; the latter is the pitfall).
	ServicePrincipalID string
	AppObjectID        string

	// Delegated flows. Users maps a mailbox to the user who signs in for it
	// (a shared mailbox needs a user with FullAccess); default the mailbox.
	Users map[string]string
	// Passwords holds the ROPC password per signing-in user, typed into a
	// hidden field; never stored, never logged.
	Passwords  map[string]string
	DeviceCode token.DeviceCodeOptions
	AuthCode   token.AuthCodeOptions

	// SendTo, when set, sends a real test message (SMTP DATA, Graph sendMail).
	SendTo string
	// Timeout bounds every network step (default 20 s).
	Timeout time.Duration
	// ChangedAt is when the setup last changed the app, its secret, consent
	// or Exchange permissions. Refusals that replication delay explains are
	// retried until ChangedAt + Retry.Budget; zero means the setup is old and
	// nothing is waited for.
	ChangedAt time.Time
	// ExchangeSetupPending says the Exchange-side steps of the setup
	// (New-ServicePrincipal, FullAccess, SendAs, the EWS allow-list) have
	// not been done yet: the refusals only they cure are reported at once,
	// not waited out as replication delay.
	ExchangeSetupPending bool
	// Exchange is Exchange Online's state as read from Exchange (azure/
	// exchangesetup's Snapshot, after Apply its Result.Snapshot; see
	// explain.ExchangeFacts for the mapping), nil when not read. With it
	// the diagnosis states causes as facts ("IMAP is off for this mailbox
	// (ImapEnabled False)"), and a refusal is waited out as replication
	// only when Exchange's settings are right for it.
	Exchange *explain.ExchangeFacts
	// Retry sets the budget and countdown (Retry.OnEvent) of that waiting.
	Retry token.Retry
	// HTTPClient is used for the identity platform, EWS and Graph; nil =
	// Cloud.HTTPClient(nil).
	HTTPClient *http.Client
}

// Check is the result of one protocol for one mailbox.
type Check struct {
	Protocol catalog.Protocol `json:"protocol"`
	Mailbox  string           `json:"mailbox"`
	// Server is host:port or the URL the check talked to.
	Server string `json:"server,omitempty"`
	// Greeting is the server's first line (IMAP, POP3, SMTP): it tells
	// Exchange Online from other servers.
	Greeting   string        `json:"greeting,omitempty"`
	OK         bool          `json:"ok"`
	Duration   time.Duration `json:"-"`
	DurationMS int64         `json:"duration_ms"`
	// Step is the last step reached: config, token, connect, tls, greeting,
	// capability, starttls, ehlo, auth, select, stat, mail-from, rcpt-to,
	// data, request, inbox, messages, sendMail.
	Step string `json:"step"`
	// Reply is the server's exact reply line that decided the outcome (for
	// a token failure, the identity platform's error line).
	Reply string `json:"reply,omitempty"`
	// Detail says what was verified, on success.
	Detail      string               `json:"detail,omitempty"`
	Explanation *explain.Explanation `json:"explanation,omitempty"`
	// Token summarises the token's claims (never the token itself).
	Token      *token.Claims    `json:"token,omitempty"`
	Mismatches []token.Mismatch `json:"token_mismatches,omitempty"`
	// Attempts counts logins; TokenAttempts the token requests this check
	// made (0 when it reused another check's token).
	Attempts      int           `json:"attempts"`
	TokenAttempts int           `json:"token_attempts,omitempty"`
	Waited        time.Duration `json:"-"`
	WaitedMS      int64         `json:"waited_ms,omitempty"`
	// wait: this failure may pass on a later attempt without any change
	// (Exchange Online replicating a change, a network hiccup), so the
	// replication budget is spent waiting for it.
	wait bool
}

// Report is every check of a run.
type Report struct {
	Started time.Time `json:"started"`
	Checks  []Check   `json:"checks"`
	// Changes lists test-only app settings added and removed during the run.
	Changes []string `json:"changes,omitempty"`
}

// OK is true when there was at least one check and every check passed.
func (r Report) OK() bool {
	if len(r.Checks) == 0 {
		return false
	}
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Failed lists the checks that did not pass.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

// Validate checks the configuration before anything is sent; each error
// names the field and the accepted form.
func (c Config) Validate() error {
	if !validFlow(c.Flow) {
		return fmt.Errorf("flow: %q; accepted: auth-code, ropc, client-credentials, device-code", c.Flow)
	}
	if len(c.Protocols) == 0 {
		return errors.New("protocols: none; accepted: one or more of imap, pop, smtp, ews, graph-read, graph-send")
	}
	for _, p := range c.Protocols {
		if _, err := catalog.ForProtocol(p, c.Flow); err != nil {
			return fmt.Errorf("protocols: %w", err)
		}
	}
	if len(c.Mailboxes) == 0 {
		return errors.New("mailboxes: none; accepted: one or more SMTP addresses like helpdesk@contoso.com")
	}
	for _, m := range c.Mailboxes {
		if !looksLikeAddress(m) {
			return fmt.Errorf("mailboxes: %q; accepted form: an SMTP address like helpdesk@contoso.com", m)
		}
	}
	if c.SendTo != "" && !looksLikeAddress(c.SendTo) {
		return fmt.Errorf("send-to: %q; accepted form: an SMTP address like someone@example.com", c.SendTo)
	}
	if c.Flow == catalog.ClientCredentials && c.Secret == "" {
		return errors.New("client secret: empty; the client-credentials flow needs the secret's value")
	}
	if c.Flow == catalog.ROPC {
		for _, m := range c.Mailboxes {
			if c.Passwords[c.userFor(m)] == "" {
				return fmt.Errorf("password: none for %s; the ROPC flow needs the mailbox user's password", c.userFor(m))
			}
		}
	}
	if c.Flow == catalog.DeviceCode && c.DeviceCode.OnCode == nil {
		return errors.New("device code: no way to show the code (DeviceCode.OnCode is nil)")
	}
	if c.Timeout < 0 {
		return fmt.Errorf("timeout: %s; accepted: a positive duration like 20s", c.Timeout)
	}
	for _, p := range c.Protocols {
		var ep cloud.Endpoint
		flag := ""
		switch p {
		case catalog.IMAP:
			ep, flag = c.Cloud.IMAP, "--imap"
		case catalog.POP:
			ep, flag = c.Cloud.POP, "--pop"
		case catalog.SMTP:
			ep, flag = c.Cloud.SMTP, "--smtp"
		default:
			continue
		}
		if ep.Host == "" || ep.Port < 1 || ep.Port > 65535 {
			return fmt.Errorf("%s: %q; accepted form: host:port, e.g. outlook.office365.com:993", flag, ep.Addr())
		}
		// A bearer token must never cross the network in clear text.
		if ep.TLS != cloud.ImplicitTLS && ep.TLS != cloud.StartTLS {
			return fmt.Errorf("%s TLS mode: %q; accepted: %q (implicit TLS) or %q", flag, ep.TLS, cloud.ImplicitTLS, cloud.StartTLS)
		}
	}
	return nil
}

func validFlow(f catalog.Flow) bool {
	for _, x := range catalog.Flows {
		if x == f {
			return true
		}
	}
	return false
}

func looksLikeAddress(s string) bool {
	at := strings.LastIndex(s, "@")
	return at > 0 && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n<>") && strings.Contains(s[at:], ".")
}

func (c Config) userFor(mailbox string) string {
	if u := c.Users[mailbox]; u != "" {
		return u
	}
	return mailbox
}

// runner holds the state of one Run.
type runner struct {
	cfg     Config
	tlsCfg  *tls.Config
	hc      *http.Client
	acq     token.Acquirer
	timeout time.Duration
	tokens  map[string]tokenResult // by user + audience
	// requests are the product's token requests: one per resource, each
	// with the scopes of every protocol that resource serves.
	requests map[catalog.Protocol]catalog.TokenRequest
	report   *Report
}

type tokenResult struct {
	tok token.Token
	err error
}

// Run executes every protocol of the product for every mailbox and returns
// the report. It never returns early on a failure: each check stands alone.
func Run(ctx context.Context, cfg Config) Report {
	rep := Report{Started: time.Now().UTC()}
	fail := func(step string, err error) Report {
		x := explain.Explanation{Code: "config", Title: "Configuration error", Cause: err.Error(), Fix: "Correct the setting named above."}
		rep.Checks = append(rep.Checks, Check{Step: step, Reply: err.Error(), Explanation: &x})
		return rep
	}
	if err := cfg.Validate(); err != nil {
		return fail("config", err)
	}
	tlsCfg, err := cfg.Cloud.TLSConfig()
	if err != nil {
		return fail("config", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		if hc, err = cfg.Cloud.HTTPClient(nil); err != nil {
			return fail("config", err)
		}
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	// Every HTTP request (identity platform, EWS, Graph) gets the step
	// deadline too; the caller's client is copied, not changed.
	bounded := *hc
	if bounded.Timeout == 0 || bounded.Timeout > timeout {
		bounded.Timeout = timeout
	}
	hc = &bounded
	reqs, err := catalog.TokenRequests(cfg.Cloud, cfg.Flow, cfg.Protocols)
	if err != nil {
		return fail("config", err)
	}
	r := &runner{cfg: cfg, tlsCfg: tlsCfg, hc: hc, timeout: timeout, tokens: map[string]tokenResult{}, requests: map[catalog.Protocol]catalog.TokenRequest{}, report: &rep}
	for _, tr := range reqs {
		for _, p := range tr.Protocols {
			r.requests[p] = tr
		}
	}
	retry := cfg.Retry
	if cfg.ChangedAt.IsZero() {
		retry.Budget = -1
	} else {
		// One budget for the whole run, counted from the last change.
		if retry.Budget == 0 {
			retry.Budget = token.DefaultBudget
		}
		retry.Deadline = cfg.ChangedAt.Add(retry.Budget)
	}
	r.cfg.Retry = retry
	r.acq = token.Acquirer{Cloud: cfg.Cloud, TenantID: cfg.TenantID, ClientID: cfg.ClientID, Secret: cfg.Secret, HTTPClient: hc, Retry: retry}
	for _, mbx := range cfg.Mailboxes {
		first := len(rep.Checks)
		for _, p := range cfg.Protocols {
			rep.Checks = append(rep.Checks, r.check(ctx, p, mbx))
		}
		if cfg.Flow.AppOnly() {
			refineAppOnly(rep.Checks[first:])
		}
	}
	return rep
}

// refineAppOnly uses one mailbox's checks to settle an ambiguous refusal:
// app-only IMAP and POP3 both need the Exchange service principal and
// FullAccess, so when one of them logs in and the other is refused, the
// refused protocol is switched off on the mailbox.
func refineAppOnly(checks []Check) {
	byProto := map[catalog.Protocol]*Check{}
	for i := range checks {
		byProto[checks[i].Protocol] = &checks[i]
	}
	for _, pair := range []struct {
		failed, worked catalog.Protocol
		code, alt      string
	}{
		{catalog.IMAP, catalog.POP, explain.CodeIMAPNotConnected, "imap-disabled"},
		{catalog.POP, catalog.IMAP, explain.CodePOPAuthFailed, "pop3-disabled"},
	} {
		f, w := byProto[pair.failed], byProto[pair.worked]
		if f == nil || w == nil || f.OK || !w.OK || f.Explanation == nil || f.Explanation.Code != pair.code {
			continue
		}
		x := *f.Explanation
		for i, alt := range x.Alternatives {
			if alt.Code != pair.alt {
				continue
			}
			main := alt
			main.Code = x.Code
			main.Cause = fmt.Sprintf("%s works for this app and mailbox, so Exchange knows the app and it has FullAccess: %s", pair.worked.Label(), alt.Cause)
			rest := append([]explain.Explanation{}, x.Alternatives[:i]...)
			rest = append(rest, x.Alternatives[i+1:]...)
			x.Alternatives = nil
			main.Alternatives = append([]explain.Explanation{x}, rest...)
			f.Explanation = &main
			break
		}
	}
}

// check runs one protocol for one mailbox, retrying refusals that
// replication delay explains while the budget lasts.
func (r *runner) check(ctx context.Context, p catalog.Protocol, mbx string) Check {
	start := time.Now()
	c := Check{Protocol: p, Mailbox: mbx, Server: r.server(p)}
	req := r.requests[p]
	user := r.cfg.userFor(mbx)
	what := fmt.Sprintf("%s login %s", p.Label(), mbx)
	var last Check
	out, _ := r.cfg.Retry.Do(ctx, what, func(error) (explain.Explanation, bool) {
		// Token refusals were already retried inside azure/token.
		if last.Explanation == nil || last.Step == "token" {
			return explain.Explanation{}, false
		}
		return *last.Explanation, last.wait
	}, func(ctx context.Context) error {
		last = r.attempt(ctx, c, p, mbx, user, req)
		if last.OK {
			return nil
		}
		if last.wait {
			// The next attempt gets a fresh token: consent or roles may
			// have replicated since.
			delete(r.tokens, user+"|"+req.Audience)
		}
		return errors.New(last.Reply)
	})
	last.Attempts = out.Attempts
	last.Waited += out.Waited
	last.WaitedMS = last.Waited.Milliseconds()
	return finish(last, start, last.Step, last.Reply, last.Explanation)
}

func finish(c Check, start time.Time, step, reply string, x *explain.Explanation) Check {
	c.Step, c.Reply, c.Explanation = step, reply, x
	c.Duration = time.Since(start)
	c.DurationMS = c.Duration.Milliseconds()
	return c
}

func (r *runner) server(p catalog.Protocol) string {
	switch p {
	case catalog.IMAP:
		return r.cfg.Cloud.IMAP.String()
	case catalog.POP:
		return r.cfg.Cloud.POP.String()
	case catalog.SMTP:
		return r.cfg.Cloud.SMTP.String()
	case catalog.EWS:
		return r.cfg.Cloud.EWSURL
	}
	return r.cfg.Cloud.GraphV1()
}

func (r *runner) host(p catalog.Protocol) string {
	switch p {
	case catalog.IMAP:
		return r.cfg.Cloud.IMAP.Host
	case catalog.POP:
		return r.cfg.Cloud.POP.Host
	case catalog.SMTP:
		return r.cfg.Cloud.SMTP.Host
	}
	return r.server(p)
}

// token gets (once per user and resource) the token the product would get;
// fresh is true when this call acquired it.
func (r *runner) token(ctx context.Context, user string, req catalog.TokenRequest) (tok token.Token, fresh bool, err error) {
	key := user + "|" + req.Audience
	if t, ok := r.tokens[key]; ok {
		return t.tok, false, t.err
	}
	switch r.cfg.Flow {
	case catalog.ClientCredentials:
		tok, err = r.acq.ClientCredentials(ctx, req)
	case catalog.ROPC:
		tok, err = r.acq.Password(ctx, req, user, r.cfg.Passwords[user])
	case catalog.DeviceCode:
		tok, err = r.acq.DeviceCode(ctx, req, r.cfg.DeviceCode)
	case catalog.AuthCode:
		opts := r.cfg.AuthCode
		if opts.LoginHint == "" {
			opts.LoginHint = user
		}
		tok, err = r.acq.AuthCode(ctx, req, opts)
	default:
		err = fmt.Errorf("flow: %q is not supported", r.cfg.Flow)
	}
	r.report.Changes = append(r.report.Changes, tok.Changes...)
	r.tokens[key] = tokenResult{tok, err}
	return tok, true, err
}

func (r *runner) mailContext(p catalog.Protocol, mbx string, claims *token.Claims) explain.MailContext {
	mc := explain.MailContext{
		Flow: r.cfg.Flow, Mailbox: mbx, AppID: r.cfg.ClientID, ServicePrincipalID: r.cfg.ServicePrincipalID,
		AppObjectID: r.cfg.AppObjectID, TenantID: r.cfg.TenantID, ExchangeEnvironment: r.cfg.Cloud.ExchangeEnvironment, Host: r.host(p),
		Exchange: r.cfg.Exchange,
	}
	if claims != nil {
		mc.TokenAudience, mc.TokenScopes, mc.TokenRoles = claims.Audience, claims.Scopes, claims.Roles
		mc.TokenTenant, mc.TokenUser, mc.TokenExpired = claims.TenantID, claims.UPN, claims.Expired(time.Now())
		if mc.TokenRoles == nil && len(mc.TokenScopes) == 0 {
			mc.TokenRoles = []string{} // decoded: "no roles" is a fact, not unknown
		}
		if mc.TokenScopes == nil && len(mc.TokenRoles) == 0 && !r.cfg.Flow.AppOnly() {
			mc.TokenScopes = []string{}
		}
	}
	return mc
}

// attempt gets the token and runs the protocol once.
func (r *runner) attempt(ctx context.Context, c Check, p catalog.Protocol, mbx, user string, req catalog.TokenRequest) Check {
	c.Step = "token"
	tok, fresh, err := r.token(ctx, user, req)
	if fresh {
		c.TokenAttempts = tok.Outcome.Attempts
		c.Waited += tok.Outcome.Waited
	}
	if err != nil {
		mc := r.mailContext(p, mbx, nil)
		c.Reply = err.Error()
		var x explain.Explanation
		if ae, ok := explain.ParseAAD(err); ok {
			c.Reply = ae.Error()
			if code := ae.Code(); code != 0 {
				x = explain.AADSTSFor(code, mc)
			} else {
				x = ae.Explain()
			}
		} else {
			x = explain.Network("identity platform", r.cfg.Cloud.AuthorityHost, "token", err)
			if x.Code == explain.CodeNetwork {
				// Not a network failure: a setting refused before sending.
				x = explain.Explanation{Code: "token", Title: "No token", Cause: err.Error(), Fix: "Correct the setting named in the message."}
			}
		}
		c.Explanation = &x
		return c
	}
	claims := tok.Claims
	c.Token = &claims
	if want, err := token.WantFor(r.cfg.Cloud, r.cfg.Flow, p, r.cfg.TenantID, r.cfg.ClientID, user); err == nil {
		// Exchange and Graph see a domain tenant as its GUID; compare the
		// tenant only when a GUID was given.
		if !isGUID(want.TenantID) {
			want.TenantID = ""
		}
		c.Mismatches = token.Compare(claims, want, time.Now())
	}
	var res result
	var ge *explain.GraphError
	switch p {
	case catalog.IMAP:
		res = checkIMAP(ctx, r.cfg.Cloud.IMAP, r.tlsCfg, r.timeout, mbx, tok.Value())
	case catalog.POP:
		res = checkPOP(ctx, r.cfg.Cloud.POP, r.tlsCfg, r.timeout, mbx, tok.Value())
	case catalog.SMTP:
		res = checkSMTP(ctx, r.cfg.Cloud.SMTP, r.tlsCfg, r.timeout, mbx, tok.Value(), r.cfg.SendTo)
	case catalog.EWS:
		res = checkEWS(ctx, r.hc, r.cfg.Cloud.EWSURL, r.timeout, mbx, tok.Value(), r.cfg.Flow.AppOnly())
	case catalog.GraphRead:
		res, ge = checkGraphRead(ctx, r.hc, r.cfg.Cloud.GraphV1(), r.timeout, mbx, tok.Value())
	case catalog.GraphSend:
		if r.cfg.SendTo == "" {
			res = checkGraphSendPermission(claims, r.cfg.Flow)
		} else {
			res, ge = checkGraphSend(ctx, r.hc, r.cfg.Cloud.GraphV1(), r.timeout, mbx, tok.Value(), r.cfg.SendTo)
		}
	}
	c.Step, c.Reply, c.Detail, c.Greeting = res.step, res.reply, res.detail, res.greeting
	var decoded *token.Claims
	if claims.Audience != "" || claims.TenantID != "" {
		decoded = &claims
	}
	mc := r.mailContext(p, mbx, decoded)
	mc.Greeting = res.greeting
	switch {
	case res.err != nil:
		var se *stepError
		step := res.step
		if errors.As(res.err, &se) {
			step = se.step
			c.Step = step
		}
		var x explain.Explanation
		if res.tlsMode != nil {
			ep := r.endpoint(p)
			x = explain.TLSMode(p, ep.Addr(), ep.Port, step, res.tlsMode.evidence, res.tlsMode.seen)
		} else {
			x = explain.Network(p.Label(), c.Server, step, res.err)
		}
		c.Reply = res.err.Error()
		c.Explanation = &x
		c.wait = x.Retryable
	case res.refused:
		var x explain.Explanation
		if ge != nil {
			x = explain.GraphMail(p, ge, mc)
		} else {
			x = explain.Mail(p, res.reply, mc)
		}
		c.wait = r.replicationRefusal(p, x, mc)
		x.Retryable = x.Retryable || c.wait
		c.Explanation = &x
	default:
		c.OK = true
	}
	return c
}

// replicationRefusal reports whether a refusal may be replication delay,
// and so is waited out while the budget lasts: right after setup, Exchange
// Online refuses first logins while the new service principal, permission
// or consent propagates. Only Exchange Online's own refusals qualify: a
// server that is not Exchange Online (its greeting says so) does not
// replicate Microsoft's changes, so its refusal is reported at once.
func (r *runner) replicationRefusal(p catalog.Protocol, x explain.Explanation, mc explain.MailContext) bool {
	inBudget := r.cfg.Retry.Budget > 0 && time.Now().Before(r.cfg.Retry.Deadline)
	if !inBudget || !mc.Server(p).Exchange() {
		return false
	}
	if r.cfg.ExchangeSetupPending {
		switch x.Code {
		case explain.CodeEWSForbidden:
			return false // the EWS allow-list, for any flow
		case explain.CodeIMAPAuthFailed, explain.CodeIMAPNotConnected, explain.CodePOPAuthFailed, explain.CodeSMTPAuthFailed, explain.CodeSMTPNoSendAs:
			if r.cfg.Flow.AppOnly() {
				return false
			}
		}
	}
	if mc.Exchange != nil && len(x.Facts) > 0 {
		// Exchange's state was read and the explanation rests on it: a
		// fact waiting cannot cure (ImapEnabled False) is final; "the
		// settings are right" is Retryable and waited out.
		return x.Retryable
	}
	if x.Retryable {
		return true // Exchange's own transient refusals (STOREDRV, 4xx)
	}
	switch x.Code {
	case explain.CodeIMAPAuthFailed, explain.CodeIMAPNotConnected, explain.CodePOPAuthFailed, explain.CodeSMTPAuthFailed,
		explain.CodeSMTPNoSendAs, explain.CodeEWSUnauthorized, explain.CodeEWSForbidden, explain.CodeEWSImpersonateDeny,
		explain.CodeTokenPermission, "ErrorAccessDenied":
		return true
	}
	return false
}

// endpoint is the mail endpoint of a protocol (zero for EWS and Graph).
func (r *runner) endpoint(p catalog.Protocol) cloud.Endpoint {
	switch p {
	case catalog.IMAP:
		return r.cfg.Cloud.IMAP
	case catalog.POP:
		return r.cfg.Cloud.POP
	case catalog.SMTP:
		return r.cfg.Cloud.SMTP
	}
	return cloud.Endpoint{}
}

// checkGraphSendPermission verifies, without sending, that the token
// carries Mail.Send; a real send needs SendTo.
func checkGraphSendPermission(c token.Claims, f catalog.Flow) result {
	perms := c.Scopes
	if f.AppOnly() {
		perms = c.Roles
	}
	for _, p := range perms {
		if strings.EqualFold(p, "Mail.Send") {
			return result{step: "token", reply: "Mail.Send in token", detail: "token carries Mail.Send; no message sent (give an address to send a real test message)"}
		}
	}
	return refused("token", "403 ErrorAccessDenied: the token does not carry Mail.Send")
}

func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, ch := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if ch != '-' {
				return false
			}
		case (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F'):
		default:
			return false
		}
	}
	return true
}
