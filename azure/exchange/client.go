package exchange

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/token"
	"github.com/mailoauth/mailoauth/internal/model"
	"github.com/mailoauth/mailoauth/internal/retry"
)

// ClientID is "Microsoft Exchange REST API Based PowerShell", the public
// client of the ExchangeOnlineManagement v3 module: the only client whose
// tokens the admin endpoint accepts (docs/exchange-admin-api.md §1).
const ClientID = "fb78d390-0c51-40cd-8e17-fdbfab77341b"

// AdminScope is the delegated scope a token of ClientID carries for the
// admin endpoint (measured by DRB, docs/exchange-admin-api.md §1).
const AdminScope = "AdminApi.AccessAsUser.All"

// Backoff is the module's own retry schedule for the admin endpoint: 2 s
// doubling, five retries (TMPEXO Get-WaitTimeForRetry), bounded like
// every wait in mailoauth; a Retry-After from the server replaces it.
var Backoff = retry.Schedule{Name: "exchange-admin", First: 2 * time.Second, Factor: 2, Max: 32 * time.Second, Bound: 3 * time.Minute}

// Request timeouts: the module allows far longer (960 s, 1860 s for
// Set-OrganizationConfig); 120 s is ample for the cmdlets used here, and
// Set-OrganizationConfig gets 300 s (docs/exchange-admin-api.md §6.5).
const (
	requestTimeout    = 120 * time.Second
	orgConfigTimeout  = 300 * time.Second
	defaultPageSize   = 1000
	defaultMaxPages   = 200
	pagingWarningText = "There are more results available than are currently displayed."
)

// Invoker runs one Exchange Online cmdlet and returns its output objects
// (every page), its warnings and, when refused, an *Error. It is the
// transport seam: today the module's adminapi/beta InvokeCommand, later
// Microsoft's documented Exchange Online Admin API once it covers these
// cmdlets.
type Invoker interface {
	Invoke(ctx context.Context, cmdlet string, params map[string]any) ([]json.RawMessage, []string, error)
}

// TokenFunc returns an access token for the Exchange resource. fresh asks
// for one not served from the cache (after a 401).
type TokenFunc func(ctx context.Context, fresh bool) (string, error)

// BaseURL is the admin endpoint's origin, https://<exchange host>. Exchange
// Online serves EWS and the admin API from the same host in every cloud
// (outlook.office365.com, outlook.office365.us, outlook-dod.office365.us,
// partner.outlook.cn; docs/exchange-admin-api.md §1), so it is the cloud's
// EWS URL without its path: one fact, kept in azure/cloud.
func BaseURL(c cloud.Cloud) (string, error) {
	u, err := url.Parse(c.EWSURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && cloud.IsLoopback(u.Hostname()))) {
		return "", fmt.Errorf("exchange: the cloud's EWS URL %q gives no Exchange host", c.EWSURL)
	}
	return u.Scheme + "://" + u.Host, nil
}

// Scope is the one scope the Exchange admin sign-in requests: the cloud's
// Exchange resource with /.default (https://outlook.office365.com/.default).
func Scope(c cloud.Cloud) string { return c.ExchangeAppScope() }

// Options configure a Client.
type Options struct {
	Cloud cloud.Cloud
	// HTTPClient is cloud.HTTPClient(trace.Wrap); nil builds one without a
	// trace. Its Timeout is replaced by per-cmdlet timeouts.
	HTTPClient *http.Client
	Token      TokenFunc
	// Anchor is the signed-in admin's UPN for X-AnchorMailbox; "" takes
	// the token's upn claim.
	Anchor string
	// Tenant is the tenant GUID in the URL; "" takes the token's tid.
	Tenant string
	// PageSize is Prefer: odata.maxpagesize (1..1000; 0 = 1000).
	PageSize int
	// MaxPages caps paging (0 = 200); more is an error, never a short list.
	MaxPages int
	// FirstWait replaces Backoff's first wait (tests).
	FirstWait time.Duration
	// OnWait receives throttling and busy waits as a countdown.
	OnWait func(model.Event)
}

// Client calls the admin endpoint. It is safe for concurrent use.
type Client struct {
	o            Options
	base         string
	hc           *http.Client
	connectionID string
	resource     string
}

// New checks the options and builds a client.
func New(o Options) (*Client, error) {
	if o.Token == nil {
		return nil, errors.New("exchange: no token source")
	}
	base, err := BaseURL(o.Cloud)
	if err != nil {
		return nil, err
	}
	hc := o.HTTPClient
	if hc == nil {
		if hc, err = o.Cloud.HTTPClient(nil); err != nil {
			return nil, err
		}
	}
	cp := *hc
	cp.Timeout = 0
	// Credentials go to the cloud's own host only: never follow a redirect.
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if o.PageSize <= 0 || o.PageSize > 1000 {
		o.PageSize = defaultPageSize
	}
	if o.MaxPages <= 0 {
		o.MaxPages = defaultMaxPages
	}
	return &Client{o: o, base: base, hc: &cp, connectionID: uuid.NewString(), resource: strings.TrimRight(o.Cloud.ExchangeAppResource, "/")}, nil
}

// BaseURL is the endpoint's origin.
func (c *Client) BaseURL() string { return c.base }

// isRead: Get-* and Test-* change nothing, so a network failure may be
// retried; a write may have happened and is re-read by the caller instead.
func isRead(cmdlet string) bool {
	l := strings.ToLower(cmdlet)
	return strings.HasPrefix(l, "get-") || strings.HasPrefix(l, "test-")
}

type invokeBody struct {
	CmdletInput struct {
		CmdletName string         `json:"CmdletName"`
		Parameters map[string]any `json:"Parameters"`
	} `json:"CmdletInput"`
}

// Invoke runs one cmdlet: POST .../adminapi/beta/<tenant>/InvokeCommand,
// then POST the same body to each @odata.nextLink.
func (c *Client) Invoke(ctx context.Context, cmdlet string, params map[string]any) ([]json.RawMessage, []string, error) {
	if params == nil {
		params = map[string]any{}
	}
	var body invokeBody
	body.CmdletInput.CmdletName = cmdlet
	body.CmdletInput.Parameters = params
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: %s parameters: %w", cmdlet, err)
	}
	requestID := uuid.NewString() // the same for every retry and page of one run
	var values []json.RawMessage
	var warnings []string
	next := ""
	for page := 1; ; page++ {
		if page > c.o.MaxPages {
			return nil, warnings, &Error{Kind: Unknown, Cmdlet: cmdlet, Message: fmt.Sprintf("more than %d pages of results; stopped rather than use a partial list", c.o.MaxPages)}
		}
		pg, err := c.post(ctx, cmdlet, next, raw, requestID)
		if err != nil {
			// A failed later page is an error, never a short list.
			return nil, warnings, err
		}
		values = append(values, pg.values...)
		warnings = append(warnings, pg.warnings...)
		if pg.next == "" {
			return values, warnings, nil
		}
		if next, err = c.checkNext(cmdlet, pg.next); err != nil {
			return nil, warnings, err
		}
	}
}

// checkNext refuses a nextLink to any other origin: the token goes only to
// the Exchange host it was asked for.
func (c *Client) checkNext(cmdlet, link string) (string, error) {
	u, err := url.Parse(link)
	base, _ := url.Parse(c.base)
	if err != nil || u.Scheme != base.Scheme || !strings.EqualFold(u.Host, base.Host) {
		return "", &Error{Kind: Unknown, Cmdlet: cmdlet, Message: fmt.Sprintf("@odata.nextLink %q is not on %s; not followed", link, c.base)}
	}
	return u.String(), nil
}

type page struct {
	values   []json.RawMessage
	warnings []string
	next     string
}

// post sends one page request with the retries: 429 and 503/504 (and the
// transient exceptions) through retry.Loop, one fresh-token retry on 401.
func (c *Client) post(ctx context.Context, cmdlet, link string, body []byte, requestID string) (*page, error) {
	var out *page
	loop := retry.Loop{Schedule: Backoff, What: "Exchange Online " + cmdlet, First: c.o.FirstWait, OnWait: c.o.OnWait}
	_, err := loop.Run(ctx, func(ctx context.Context, _ int) error {
		pg, err := c.attempt(ctx, cmdlet, link, body, requestID, false)
		if Is(err, Unauthorized) {
			var e *Error
			if errors.As(err, &e) && e.Status == http.StatusUnauthorized {
				// The cached token may be stale (revoked, or its clock
				// ahead of Exchange's): once with a fresh one.
				pg, err = c.attempt(ctx, cmdlet, link, body, requestID, true)
			}
		}
		out = pg
		return err
	}, func(err error) retry.Verdict {
		var e *Error
		if !errors.As(err, &e) {
			return retry.Verdict{}
		}
		switch e.Kind {
		case Throttled:
			return retry.Verdict{Retry: true, After: e.RetryAfter, Why: "Exchange Online throttling", Code: strconv.Itoa(e.Status)}
		case Unavailable:
			if e.Err != nil && !isRead(cmdlet) {
				return retry.Verdict{}
			}
			return retry.Verdict{Retry: true, After: e.RetryAfter, Why: "Exchange Online to answer", Code: strconv.Itoa(e.Status)}
		}
		return retry.Verdict{}
	})
	return out, err
}

func (c *Client) attempt(ctx context.Context, cmdlet, link string, body []byte, requestID string, fresh bool) (*page, error) {
	tok, err := c.o.Token(ctx, fresh)
	if err != nil {
		return nil, fmt.Errorf("Exchange Online %s: no token: %w", cmdlet, err)
	}
	facts := c.facts(tok)
	target := link
	if target == "" {
		tenant := c.o.Tenant
		if tenant == "" {
			tenant = facts.tid
		}
		if tenant == "" {
			return nil, &Error{Kind: Unauthorized, Cmdlet: cmdlet, Token: "the token names no tenant (tid) and none was given"}
		}
		target = c.base + "/adminapi/beta/" + url.PathEscape(tenant) + "/InvokeCommand"
	}
	timeout := requestTimeout
	if strings.EqualFold(cmdlet, "Set-OrganizationConfig") {
		timeout = orgConfigTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Authorization", "Bearer "+tok)
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json")
	h.Set("Accept-Charset", "UTF-8")
	// Set by hand, so Go does not decode for us: the admin API declares
	// gzip on bodies that are not (§4); decodeBody sniffs the magic bytes.
	h.Set("Accept-Encoding", "gzip")
	h.Set("X-ResponseFormat", "json")
	h.Set("Prefer", "odata.maxpagesize="+strconv.Itoa(c.o.PageSize))
	h.Set("client-request-id", requestID)
	h.Set("connection-id", c.connectionID)
	h.Set("X-CmdletName", cmdlet)
	h.Set("X-ClientApplication", "mailoauth")
	h.Set("User-Agent", "mailoauth")
	if anchor := c.anchor(facts); anchor != "" {
		h.Set("X-AnchorMailbox", "UPN:"+anchor)
	} else {
		facts.noAnchor = true
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		msg := "no answer: " + err.Error()
		if rctx.Err() != nil && ctx.Err() == nil {
			msg = fmt.Sprintf("no answer within %s", timeout)
		}
		if !isRead(cmdlet) {
			msg += "; the change may or may not have been made (mailoauth reads before it writes, so running again is safe)"
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Kind: Unavailable, Cmdlet: cmdlet, Message: msg, Err: err, User: facts.upn}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, &Error{Kind: Unavailable, Cmdlet: cmdlet, Status: resp.StatusCode, Message: "reading the answer: " + err.Error(), Err: err}
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return nil, parseError(cmdlet, resp.StatusCode, resp.Header, data, facts)
	}
	return parsePage(cmdlet, resp.Header, data, facts)
}

func (c *Client) anchor(f tokenFacts) string {
	if c.o.Anchor != "" {
		return c.o.Anchor
	}
	return f.upn
}

// wirePage is a successful answer (docs/exchange-admin-api.md §3).
type wirePage struct {
	Value        json.RawMessage `json:"value"`
	Warnings     []string        `json:"@adminapi.warnings"`
	Errors       json.RawMessage `json:"@adminapi.errors"`
	Confirmation string          `json:"@adminapi.confirmationmessage"`
	NextLink     string          `json:"@odata.nextLink"`
}

// parsePage reads a 200/204: value as an array (one object, null, absent
// or an empty body are accepted, §3 "No output"), warnings without the
// paging notice, and the non-terminating errors a 200 can carry.
func parsePage(cmdlet string, h http.Header, data []byte, f tokenFacts) (*page, error) {
	pg := &page{}
	if w := strings.TrimSpace(h.Get("X-Warnings")); w != "" {
		pg.warnings = append(pg.warnings, w)
	}
	data = decodeBody(data)
	if len(data) == 0 {
		return pg, nil
	}
	var w wirePage
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, &Error{Kind: Unknown, Cmdlet: cmdlet, Status: http.StatusOK, RequestID: h.Get("request-id"), Message: "the answer is not JSON: " + printable(data)}
	}
	for _, s := range w.Warnings {
		if !strings.HasPrefix(s, pagingWarningText) {
			pg.warnings = append(pg.warnings, s)
		}
	}
	if msg := errorsText(w.Errors); msg != "" {
		e := &Error{Cmdlet: cmdlet, Status: http.StatusOK, RequestID: h.Get("request-id"), User: f.upn, Warnings: pg.warnings}
		e.StringID, e.Type, e.Message = parseDetail(msg)
		e.Kind = classify(e, false, f)
		return nil, e
	}
	if w.Confirmation != "" {
		return nil, &Error{Kind: Unknown, Cmdlet: cmdlet, Status: http.StatusOK, Message: "Exchange asked for a confirmation and changed nothing: " + w.Confirmation}
	}
	values, err := splitValue(w.Value)
	if err != nil {
		return nil, &Error{Kind: Unknown, Cmdlet: cmdlet, Status: http.StatusOK, Message: "unexpected value: " + err.Error()}
	}
	pg.values = values
	pg.next = w.NextLink
	return pg, nil
}

// splitValue accepts an array of objects, one object, or null.
func splitValue(v json.RawMessage) ([]json.RawMessage, error) {
	t := bytes.TrimSpace(v)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil, nil
	}
	if t[0] == '{' {
		return []json.RawMessage{json.RawMessage(t)}, nil
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(t, &arr); err != nil {
		return nil, err
	}
	return arr, nil
}

// errorsText is @adminapi.errors as one text: strings joined, objects by
// their message, anything else as JSON.
func errorsText(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) || bytes.Equal(t, []byte("[]")) {
		return ""
	}
	var items []json.RawMessage
	if json.Unmarshal(t, &items) != nil {
		items = []json.RawMessage{t}
	}
	var parts []string
	for _, it := range items {
		var s string
		if json.Unmarshal(it, &s) == nil {
			parts = append(parts, s)
			continue
		}
		var m map[string]any
		if json.Unmarshal(it, &m) == nil {
			found := false
			for _, k := range []string{"Message", "message", "ErrorMessage", "Exception"} {
				if v, ok := m[k].(string); ok && v != "" {
					parts = append(parts, v)
					found = true
					break
				}
			}
			if found {
				continue
			}
		}
		parts = append(parts, printable(it))
	}
	return strings.Join(parts, "; ")
}

// decodeBody gunzips only when the magic bytes say gzip; a body of NUL
// bytes (a bodyless refusal) or blanks is no body.
func decodeBody(b []byte) []byte {
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			if plain, err := io.ReadAll(io.LimitReader(zr, 32<<20)); err == nil {
				b = plain
			}
		}
	}
	t := bytes.Trim(b, "\x00 \t\r\n")
	if len(t) == 0 {
		return nil
	}
	return t
}

// tokenFacts is what the client reads from the token it sends (never
// validating it, microsoft.md §9): enough to tell a refused role from a
// token Exchange will not use.
type tokenFacts struct {
	decoded  bool
	aud      string
	appID    string
	upn      string
	tid      string
	scopes   []string
	appOnly  bool
	expired  bool
	resource string
	// noAnchor: no X-AnchorMailbox could be sent (Exchange refuses writes
	// without one with the same bodyless 403, §2).
	noAnchor bool
}

func (c *Client) facts(tok string) tokenFacts {
	f := tokenFacts{resource: c.resource}
	cl, err := token.Decode(tok)
	if err != nil {
		return f
	}
	f.decoded = true
	f.aud, f.appID, f.upn, f.tid, f.scopes = cl.Audience, cl.AppID, cl.UPN, cl.TenantID, cl.Scopes
	f.appOnly = cl.AppOnly()
	f.expired = cl.Expired(time.Now())
	return f
}

// problem is what is wrong with the token for the admin endpoint, "" when
// it is the module's delegated admin token for this cloud's Exchange.
func (f tokenFacts) problem() string {
	var p []string
	if !strings.EqualFold(strings.TrimRight(f.aud, "/"), f.resource) {
		p = append(p, fmt.Sprintf("its audience is %q, not Exchange Online's %q (a token for another API, e.g. Microsoft Graph)", f.aud, f.resource))
	}
	if !strings.EqualFold(f.appID, ClientID) {
		p = append(p, fmt.Sprintf("it was issued to client %s, not the ExchangeOnlineManagement module's %s", f.appID, ClientID))
	}
	if f.appOnly {
		p = append(p, "it is app-only; the admin endpoint is used with a signed-in administrator")
	} else if !slices.ContainsFunc(f.scopes, func(s string) bool { return strings.EqualFold(s, AdminScope) }) {
		p = append(p, "it does not carry "+AdminScope)
	}
	if f.expired {
		p = append(p, "it has expired")
	}
	if f.noAnchor {
		p = append(p, "no X-AnchorMailbox was sent, since neither the options nor the token name the signed-in user")
	}
	return strings.Join(p, "; ")
}

// describe is the token in one line for a 401.
func (f tokenFacts) describe() string {
	if !f.decoded {
		return "(the token is not a readable JWT)"
	}
	if p := f.problem(); p != "" {
		return "(" + p + ")"
	}
	return "(audience " + f.aud + ", client " + f.appID + ", user " + f.upn + ")"
}
