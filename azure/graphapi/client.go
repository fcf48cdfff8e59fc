// Package graphapi is mailoauth's Microsoft Graph client for one cloud:
// msgraph-sdk-go-core's request adapter and middleware (telemetry, URL
// replace, redirect, compression) on kiota's HTTP pipeline, a bearer-token
// provider that refuses any host outside the cloud, the cloud's HTTP client
// (roots, proxy, trace), msgraph-sdk-go's odataerrors model as the error
// mapping, read nil-safely, and a retry loop that waits out directory
// replication and throttling within a total time bound.
//
// Requests are data (method, path, JSON body) so that a dry run prints
// exactly what an apply sends. The generated fluent service client
// (msgraph-sdk-go's root package) is deliberately not linked: nothing used
// it, and its ~75,000 model symbols made the binary 168 MB (see
// docs/architecture.md, "Graph client").
//
// msgraph-sdk-go's own retry handler (kiota RetryHandler) would retry 429,
// 503 and 504 up to 3 times with its own delays, invisibly; stacked under
// mailoauth's retry it would double the waits and overrun the bound. It is
// therefore switched off (ShouldRetry returns false) and every retry, with
// its progress event, happens in Call.
package graphapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
	"github.com/mailoauth/mailoauth/internal/model"
	"github.com/mailoauth/mailoauth/internal/retry"
)

// TokenSource returns a Graph access token (signin.Session.Token).
type TokenSource func(ctx context.Context) (string, error)

// Event is a progress line: a change starting (Wait 0), or a wait before
// the next attempt ("Creating app: waiting for replication (attempt 3, 4s)…").
type Event = model.Event

// Options tune the client.
type Options struct {
	// RetryBound is the total time one Call may spend retrying; default 3 minutes.
	RetryBound time.Duration
	// OnEvent receives progress events; nil drops them. Called from several
	// goroutines when requests run concurrently.
	OnEvent func(Event)
}

// DefaultRetryBound is the default total retry time for one call.
var DefaultRetryBound = retry.Graph.Bound

// Client talks to Graph v1.0 of one cloud.
type Client struct {
	adapter *msgraphcore.GraphRequestAdapterBase
	base    string
	opts    Options
	// reads, when set, answers repeated cacheable GETs of one run.
	reads *ReadCache
}

// ReadCache keeps the replies of a run's cacheable reads (the tenant, the
// admin's roles, resource APIs, users, the app and its consent), so that
// pre-flight, review and apply read the tenant once. Whoever changes the
// tenant resets it.
type ReadCache struct {
	mu     sync.Mutex
	bodies map[string][]byte
	hits   int
}

// NewReadCache is an empty cache.
func NewReadCache() *ReadCache { return &ReadCache{bodies: map[string][]byte{}} }

// Reset forgets every reply: the tenant was changed.
func (rc *ReadCache) Reset() {
	rc.mu.Lock()
	rc.bodies = map[string][]byte{}
	rc.mu.Unlock()
}

// Hits is how many reads the cache answered.
func (rc *ReadCache) Hits() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.hits
}

func (rc *ReadCache) get(path string) ([]byte, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	b, ok := rc.bodies[path]
	if ok {
		rc.hits++
	}
	return b, ok
}

func (rc *ReadCache) put(path string, body []byte) {
	rc.mu.Lock()
	rc.bodies[path] = body
	rc.mu.Unlock()
}

// WithReads is the client answering cacheable GETs from rc (nil: none).
func (c *Client) WithReads(rc *ReadCache) *Client {
	cp := *c
	cp.reads = rc
	return &cp
}

// clientOptions leave the service library out of Graph's SdkVersion
// telemetry header: it then names only graph-go-core, which is what sends
// the requests ("graph-go-core/1.4.0 (... runtimeEnvironment=go1.26...)").
var clientOptions = msgraphcore.GraphClientOptions{}

// BaseURL is Graph's v1.0 URL the client uses.
func (c *Client) BaseURL() string { return c.base }

// New builds a client for the cloud. hc carries the cloud's roots and the
// trace (cloud.HTTPClient(tracer.Wrap)); nil builds one without a trace.
func New(c cloud.Cloud, tokens TokenSource, hc *http.Client, opts Options) (*Client, error) {
	if tokens == nil {
		return nil, errors.New("graphapi: no token source")
	}
	if hc == nil {
		var err error
		if hc, err = c.HTTPClient(nil); err != nil {
			return nil, err
		}
	}
	if opts.RetryBound <= 0 {
		opts.RetryBound = DefaultRetryBound
	}
	hosts := c.Hosts()
	if len(hosts) == 0 {
		return nil, fmt.Errorf("graphapi: cloud %q has no valid hosts", c.Name)
	}
	validator, err := absauth.NewAllowedHostsValidatorErrorCheck(hosts)
	if err != nil {
		return nil, fmt.Errorf("graphapi: allowed hosts %v: %w", hosts, err)
	}
	auth := absauth.NewBaseBearerTokenAuthenticationProvider(&tokenProvider{src: tokens, hosts: validator})

	never := func(time.Duration, int, *http.Request, *http.Response) bool { return false }
	// kiota's redirect handler would follow redirects inside the transport,
	// out of the cloud's CheckRedirect's sight: off, so that one rule (no
	// credential to another host, nothing outside the cloud) decides.
	noRedirect := func(*http.Request, *http.Response) bool { return false }
	kiotaMW, err := khttp.GetDefaultMiddlewaresWithOptions(&khttp.RetryHandlerOptions{ShouldRetry: never}, &khttp.RedirectHandlerOptions{ShouldRedirect: noRedirect})
	if err != nil {
		return nil, err
	}
	graphOpts := clientOptions
	mw := append([]khttp.Middleware{msgraphcore.NewGraphTelemetryHandler(&graphOpts), khttp.NewUrlReplaceHandler(true, msgraphcore.ReplacementPairs)}, kiotaMW...)
	parent := hc.Transport
	if parent == nil {
		parent = http.DefaultTransport
	}
	httpClient := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(parent, mw...), Timeout: hc.Timeout, CheckRedirect: hc.CheckRedirect}

	adapter, err := msgraphcore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, graphOpts, nil, nil, httpClient)
	if err != nil {
		return nil, err
	}
	base := c.GraphV1()
	adapter.SetBaseUrl(base)
	return &Client{adapter: adapter, base: base, opts: opts}, nil
}

// tokenProvider hands the Graph token only to the cloud's own hosts over https.
type tokenProvider struct {
	src   TokenSource
	hosts *absauth.AllowedHostsValidator
}

func (p *tokenProvider) GetAuthorizationToken(ctx context.Context, u *url.URL, _ map[string]interface{}) (string, error) {
	if u == nil || !strings.EqualFold(u.Scheme, "https") {
		return "", fmt.Errorf("refusing to send the Graph token over %v: only https is allowed", u)
	}
	if !p.hosts.IsUrlHostValid(u) {
		return "", fmt.Errorf("refusing to send the Graph token to %s: not one of this cloud's hosts (%s)", u.Hostname(), strings.Join(keys(p.hosts.GetAllowedHosts()), ", "))
	}
	return p.src(ctx)
}

func (p *tokenProvider) GetAllowedHostsValidator() *absauth.AllowedHostsValidator { return p.hosts }

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Request is one Graph call, described as data so that a dry run can print
// it and the apply can send exactly the same thing.
type Request struct {
	Method string `json:"method"`
	// Path is relative to the v1.0 base and may carry a query:
	// /applications?$filter=displayName eq 'x' (encode with Query).
	Path string `json:"url"`
	Body any    `json:"body,omitempty"`
	// Header holds extra request headers (ConsistencyLevel: eventual for
	// Graph's advanced queries).
	Header map[string]string `json:"headers,omitempty"`
	// Change is what a write does, with its typed verb; the dry run and the
	// review show it, and its gerund is the progress line. Zero for reads.
	Change model.Change `json:"-"`
	// Action is the progress line of a read ("Reading the tenant"); a
	// write's comes from Change.
	Action string `json:"-"`
	// Op names the operation, so Authorization_RequestDenied names the role.
	Op explain.Operation `json:"-"`
	// RetryNotFound waits out 404 Request_ResourceNotFound: the request names
	// an object created moments ago.
	RetryNotFound bool `json:"-"`
	// NoServerErrorRetry leaves 503/504 to the caller: a create that is not
	// idempotent may have been carried out although the reply was an error,
	// and only the caller can look for the object before trying again.
	NoServerErrorRetry bool `json:"-"`
	// Cacheable lets a GET be answered from the client's ReadCache: reads
	// of what no step of the run changes before the apply.
	Cacheable bool `json:"-"`
	// FinishInFlight lets a request that has been sent finish even when ctx
	// is cancelled (waits between attempts still stop at once). For writes
	// whose reply cannot be had again, such as addPassword's secretText: an
	// interrupted run then still records what it made.
	FinishInFlight bool `json:"-"`
}

// Line is the request's progress line.
func (r Request) Line() string {
	if r.Action == "" && r.Change.Action != "" {
		return r.Change.Progress()
	}
	return r.Action
}

// Response is a raw Graph response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Error is a failed Graph call: Microsoft's error, what mailoauth was doing,
// and the explanation with its fix.
type Error struct {
	Action      string
	Method      string
	Path        string
	Graph       *explain.GraphError
	Explanation explain.Explanation
	RetryAfter  time.Duration
	// GaveUp is set when retrying stopped at the time bound.
	GaveUp time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Action != "" {
		b.WriteString(e.Action + ": ")
	}
	b.WriteString(e.Graph.Error())
	if e.GaveUp > 0 {
		fmt.Fprintf(&b, " (still failing after %s of retries)", e.GaveUp.Round(time.Second))
	}
	if e.Explanation.Fix != "" {
		b.WriteString(". Fix: " + e.Explanation.Fix)
	}
	if e.GaveUp > 0 && e.Explanation.Retryable {
		b.WriteString(" mailoauth stopped retrying at its time bound; run it again in a few minutes: the state file lets it resume where it stopped.")
	}
	return b.String()
}

// Unwrap exposes the *explain.GraphError.
func (e *Error) Unwrap() error { return e.Graph }

// Code is Graph's error code ("" when not a Graph error body).
func (e *Error) Code() string { return e.Graph.Code }

// Do sends one request once. A status of 400 or more is an *Error.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	ri, err := c.requestInfo(r)
	if err != nil {
		return nil, err
	}
	var resp *Response
	var readErr error
	h := abs.NewRequestHandlerOption()
	// The native response handler gives the raw status, headers and body of
	// every reply, JSON or not, so nothing is lost to a failed parse.
	h.SetResponseHandler(func(native any, _ abs.ErrorMappings) (any, error) {
		hr, ok := native.(*http.Response)
		if !ok || hr == nil {
			return nil, errors.New("graphapi: no HTTP response")
		}
		defer hr.Body.Close()
		body, err := io.ReadAll(io.LimitReader(hr.Body, 32<<20))
		readErr = err
		resp = &Response{Status: hr.StatusCode, Header: hr.Header, Body: body}
		return nil, nil
	})
	ri.AddRequestOptions([]abs.RequestOption{h})
	if _, err := c.adapter.SendPrimitive(ctx, ri, "[]byte", nil); err != nil {
		// No network, DNS, a proxy, an untrusted certificate: one sentence
		// with the fix.
		if ce := explain.Connection(explain.ServiceGraph, c.base, err); ce != err {
			return nil, ce
		}
		return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
	}
	if resp == nil {
		return nil, fmt.Errorf("%s %s: no response", r.Method, r.Path)
	}
	if readErr != nil {
		return nil, fmt.Errorf("%s %s: reading response: %w", r.Method, r.Path, readErr)
	}
	if resp.Status >= 400 {
		ge := errorFromBody(resp.Status, resp.Body)
		return resp, &Error{Action: r.Line(), Method: r.Method, Path: r.Path, Graph: ge, Explanation: explain.GraphFor(ge, r.Op, explain.MailContext{}), RetryAfter: retryAfter(resp.Header)}
	}
	return resp, nil
}

func (c *Client) requestInfo(r Request) (*abs.RequestInformation, error) {
	ri := abs.NewRequestInformation()
	switch strings.ToUpper(r.Method) {
	case "GET":
		ri.Method = abs.GET
	case "POST":
		ri.Method = abs.POST
	case "PATCH":
		ri.Method = abs.PATCH
	case "DELETE":
		ri.Method = abs.DELETE
	case "PUT":
		ri.Method = abs.PUT
	default:
		return nil, fmt.Errorf("graphapi: unsupported method %q", r.Method)
	}
	if !strings.HasPrefix(r.Path, "/") {
		return nil, fmt.Errorf("graphapi: path %q must start with /", r.Path)
	}
	u, err := url.Parse(c.base + r.Path)
	if err != nil {
		return nil, fmt.Errorf("graphapi: bad path %q: %w", r.Path, err)
	}
	ri.SetUri(*u)
	ri.Headers.TryAdd("Accept", "application/json")
	for k, v := range r.Header {
		ri.Headers.TryAdd(k, v)
	}
	if r.Body != nil {
		b, err := json.Marshal(r.Body)
		if err != nil {
			return nil, fmt.Errorf("graphapi: encoding %s %s body: %w", r.Method, r.Path, err)
		}
		ri.SetStreamContentAndContentType(b, "application/json")
	}
	return ri, nil
}

// Call sends a request, retrying what replication and throttling explain
// (see Retryable) on the Graph schedule (1, 2, 4, 8, 16 s, or the server's
// Retry-After) until the client's bound; then it returns the last *Error
// with GaveUp set. out, when not nil, receives the JSON body.
func (c *Client) Call(ctx context.Context, r Request, out any) error {
	if r.Line() != "" && r.Method != http.MethodGet {
		// A change starting: the wizard shows it while it runs.
		c.emit(Event{Action: r.Line(), Attempt: 1})
	}
	cache := c.reads
	if r.Method != http.MethodGet || !r.Cacheable {
		cache = nil
	}
	if cache != nil {
		if body, ok := cache.get(r.Path); ok {
			return decodeInto(r, body, out)
		}
	}
	sched := retry.Graph
	sched.Bound = c.opts.RetryBound
	loop := retry.Loop{Schedule: sched, What: r.Line(), OnWait: c.emit}
	_, err := loop.Run(ctx, func(ctx context.Context, _ int) error {
		sendCtx := ctx
		if r.FinishInFlight {
			// The HTTP client's timeout still bounds the request.
			sendCtx = context.WithoutCancel(ctx)
		}
		resp, err := c.Do(sendCtx, r)
		if err != nil {
			return err
		}
		if err := decodeInto(r, resp.Body, out); err != nil {
			return err
		}
		if cache != nil {
			cache.put(r.Path, resp.Body)
		}
		return nil
	}, func(err error) retry.Verdict {
		var ge *Error
		if !errors.As(err, &ge) || !Retryable(ge, r.RetryNotFound) || (r.NoServerErrorRetry && ge.Graph.Status >= 500) {
			return retry.Verdict{}
		}
		return retry.Verdict{Retry: true, After: ge.RetryAfter, Why: waitReason(ge)}
	})
	var gave *retry.GaveUpError
	var ge *Error
	if errors.As(err, &gave) && errors.As(gave.Err, &ge) {
		ge.GaveUp = gave.After
		return ge
	}
	return err
}

func decodeInto(r Request, body []byte, out any) error {
	if out == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: Graph's reply is not the expected JSON: %w", r.Method, r.Path, err)
	}
	return nil
}

// waitReason says in a few words what a retry waits for.
func waitReason(ge *Error) string {
	switch {
	case ge.Graph.Status == http.StatusTooManyRequests:
		return "Graph throttling"
	case ge.Graph.Status >= 500:
		return "Graph to recover"
	}
	return "replication"
}

func (c *Client) emit(e Event) {
	if c.opts.OnEvent != nil && e.Action != "" {
		c.opts.OnEvent(e)
	}
}

// Emit sends a progress event to the client's listener (used by callers to
// announce an action before its requests).
func (c *Client) Emit(e Event) { c.emit(e) }

// Retryable reports whether waiting may fix the error: throttling (429),
// 503/504, and the replication refusals of explain.ReplicationCodes
// (Request_ResourceNotFound only for requests naming a just-created
// object).
func Retryable(e *Error, notFoundToo bool) bool {
	if e == nil || e.Graph == nil {
		return false
	}
	switch e.Graph.Status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return explain.GraphReplication(e.Graph, notFoundToo)
}

// IsNoBackingApplication recognises the service principal replication error
// by its detail code or, when details are missing, by its known messages.
func IsNoBackingApplication(g *explain.GraphError) bool {
	return g != nil && g.Status == http.StatusBadRequest && explain.GraphReplication(g, false)
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var secs float64
	if _, err := fmt.Sscanf(v, "%g", &secs); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// IsCode reports whether err is a Graph error with that code or detail code.
func IsCode(err error, code string) bool {
	var ge *explain.GraphError
	if errors.As(err, &ge) {
		return ge.Code == code || ge.DetailCode == code
	}
	return false
}

// Status is the HTTP status of a Graph error, or 0.
func Status(err error) int {
	var ge *explain.GraphError
	if errors.As(err, &ge) {
		return ge.Status
	}
	return 0
}

// Query builds an encoded query string from pairs: Query("$filter", "x eq 'y'").
func Query(pairs ...string) string {
	var parts []string
	for i := 0; i+1 < len(pairs); i += 2 {
		parts = append(parts, url.QueryEscape(pairs[i])+"="+strings.ReplaceAll(url.QueryEscape(pairs[i+1]), "+", "%20"))
	}
	if len(parts) == 0 {
		return ""
	}
	return "?" + strings.Join(parts, "&")
}

// QuoteOData doubles single quotes for an OData string literal.
func QuoteOData(s string) string { return strings.ReplaceAll(s, "'", "''") }
