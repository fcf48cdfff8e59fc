package engine

import (
	"context"

	"net/http"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
	"github.com/mailoauth/mailoauth/azure/graphapi"
	"github.com/mailoauth/mailoauth/azure/mailcheck"
	"github.com/mailoauth/mailoauth/azure/token"
	"github.com/mailoauth/mailoauth/steps"
)

// LoginTest is one run of the mailbox login test, the way the product logs in.
type LoginTest struct {
	Cloud       cloud.Cloud
	HTTPClient  *http.Client
	TenantID    string
	ClientID    string
	Secret      string
	SPObjectID  string
	AppObjectID string
	Flow        catalog.Flow
	Input       steps.TestInput
	RedirectURI string
	ChangedAt   time.Time
	Timeout     time.Duration
	SendTo      string
	OpenURL     func(string) error
	// Exchange is Exchange Online's state as read (nil: not read).
	Exchange *explain.ExchangeFacts
	// exchangePending: the Exchange-side steps of an app-only setup have
	// not been run yet (right after setup); see mailcheck.Config.
	ExchangePending bool
	// wait, when set, is the replication budget (mailoauth test --wait).
	Wait time.Duration
	// onDeviceCode also receives the mailbox user's device code (the demo
	// approves it); nil = only shown.
	OnDeviceCode func(token.DeviceCodePrompt)
	// tweaks makes test-only changes to the app (a loopback redirect,
	// public client flows) and undoes them; nil when not signed in.
	tweaks *appTweaker
}

// runLoginTest runs the checks and turns the report into the steps' rows.
func runLoginTest(ctx context.Context, lt LoginTest, progress func(steps.Event)) (steps.TestReport, error) {
	rep, err := CheckLogins(ctx, lt, progress)
	if err != nil {
		return steps.TestReport{}, err
	}
	return testRows(rep), nil
}

func CheckLogins(ctx context.Context, lt LoginTest, progress func(steps.Event)) (mailcheck.Report, error) {
	if progress == nil {
		progress = func(steps.Event) {}
	}
	cfg := mailcheck.Config{
		Cloud: lt.Cloud, Flow: lt.Flow, Protocols: lt.Input.Protocols, Mailboxes: []string{lt.Input.Mailbox},
		TenantID: lt.TenantID, ClientID: lt.ClientID, Secret: lt.Secret,
		ServicePrincipalID: lt.SPObjectID, AppObjectID: lt.AppObjectID,
		SendTo: lt.SendTo, Timeout: lt.Timeout, ChangedAt: lt.ChangedAt, HTTPClient: lt.HTTPClient,
		ExchangeSetupPending: lt.ExchangePending, Exchange: lt.Exchange,
		Retry: token.Retry{Budget: lt.Wait, OnEvent: func(ev token.Event) {
			ev.Action = "Waiting for Microsoft to replicate: " + ev.Action
			progress(ev)
		}},
	}
	if lt.Input.Password != "" {
		cfg.Passwords = map[string]string{lt.Input.Mailbox: lt.Input.Password}
	}
	switch lt.Flow {
	case catalog.DeviceCode:
		cfg.DeviceCode = token.DeviceCodeOptions{OnCode: func(p token.DeviceCodePrompt) {
			progress(steps.Event{Action: "Sign in as " + lt.Input.Mailbox, Detail: p.Message})
			if lt.OnDeviceCode != nil {
				lt.OnDeviceCode(p)
			}
		}}
		if lt.tweaks != nil {
			cfg.DeviceCode.Tweak = lt.tweaks.publicClientFlows()
		}
	case catalog.AuthCode:
		cfg.AuthCode = token.AuthCodeOptions{RedirectURI: lt.RedirectURI, OpenURL: lt.OpenURL, LoginHint: lt.Input.Mailbox}
		if lt.tweaks != nil {
			cfg.AuthCode.Tweak = lt.tweaks.loopbackRedirect
		}
	}
	if err := cfg.Validate(); err != nil {
		return mailcheck.Report{}, err
	}
	rep := mailcheck.Run(ctx, cfg)
	for _, ch := range rep.Changes {
		progress(steps.Event{Action: "Test-only change", Detail: ch, Done: true})
	}
	return rep, nil
}

func testRows(rep mailcheck.Report) steps.TestReport {
	var out steps.TestReport
	for _, c := range rep.Checks {
		out.Rows = append(out.Rows, steps.TestRow{
			Protocol: c.Protocol, Mailbox: c.Mailbox, OK: c.OK, Duration: c.Duration,
			Cause: c.CauseText(), Fix: c.FixText(),
		})
	}
	return out
}

// appTweaker changes the app registration for the login test only, through
// Graph, and restores exactly what it changed.
type appTweaker struct {
	graph    *graphapi.Client
	objectID string
}

func (e *Live) tweaker(objectID string) *appTweaker {
	g, err := e.client()
	if err != nil || objectID == "" {
		return nil
	}
	return &appTweaker{graph: g, objectID: objectID}
}

type appSettings struct {
	IsFallbackPublicClient *bool `json:"isFallbackPublicClient"`
	Web                    struct {
		RedirectURIs []string `json:"redirectUris"`
	} `json:"web"`
}

func (a *appTweaker) read(ctx context.Context) (appSettings, error) {
	var s appSettings
	err := a.graph.Call(ctx, graphapi.Request{Method: http.MethodGet, Path: "/applications/" + a.objectID + graphapi.Query("$select", "isFallbackPublicClient,web"), Action: "Reading the app's settings"}, &s)
	return s, err
}

func (a *appTweaker) patch(ctx context.Context, action string, body map[string]any) error {
	return a.graph.Call(ctx, graphapi.Request{Method: http.MethodPatch, Path: "/applications/" + a.objectID, Body: body, Action: action, RetryNotFound: true}, nil)
}

// loopbackRedirect registers a Web redirect the tool can receive the
// authorization code on, for a product whose own redirect is its server.
func (a *appTweaker) loopbackRedirect(uri string) token.AppTweak {
	return &redirectTweak{a: a, uri: uri}
}

type redirectTweak struct {
	a     *appTweaker
	uri   string
	added bool
}

func (t *redirectTweak) Describe() string {
	return "redirect URI " + t.uri + " (Web), for the login test only"
}

func (t *redirectTweak) Add(ctx context.Context) error {
	s, err := t.a.read(ctx)
	if err != nil {
		return err
	}
	for _, u := range s.Web.RedirectURIs {
		if u == t.uri {
			return nil
		}
	}
	uris := append(append([]string(nil), s.Web.RedirectURIs...), t.uri)
	if err := t.a.patch(ctx, "Adding a test-only redirect URI", map[string]any{"web": map[string]any{"redirectUris": uris}}); err != nil {
		return err
	}
	t.added = true
	return nil
}

func (t *redirectTweak) Remove(ctx context.Context) error {
	if !t.added {
		return nil
	}
	s, err := t.a.read(ctx)
	if err != nil {
		return err
	}
	var keep []string
	for _, u := range s.Web.RedirectURIs {
		if u != t.uri {
			keep = append(keep, u)
		}
	}
	if keep == nil {
		keep = []string{}
	}
	return t.a.patch(ctx, "Removing the test-only redirect URI", map[string]any{"web": map[string]any{"redirectUris": keep}})
}

// publicClientFlows turns on "Allow public client flows" for a device-code
// test of an app that does not allow them, and off again afterwards.
func (a *appTweaker) publicClientFlows() token.AppTweak { return &publicClientTweak{a: a} }

type publicClientTweak struct {
	a       *appTweaker
	changed bool
}

func (t *publicClientTweak) Describe() string {
	return "\"Allow public client flows\" on, for the login test only"
}

func (t *publicClientTweak) Add(ctx context.Context) error {
	s, err := t.a.read(ctx)
	if err != nil {
		return err
	}
	if s.IsFallbackPublicClient != nil && *s.IsFallbackPublicClient {
		return nil
	}
	if err := t.a.patch(ctx, "Allowing public client flows for the test", map[string]any{"isFallbackPublicClient": true}); err != nil {
		return err
	}
	t.changed = true
	return nil
}

func (t *publicClientTweak) Remove(ctx context.Context) error {
	if !t.changed {
		return nil
	}
	return t.a.patch(ctx, "Turning public client flows off again", map[string]any{"isFallbackPublicClient": false})
}
