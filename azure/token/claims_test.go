package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
)

func jwtOf(t testing.TB, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9." + base64.RawURLEncoding.EncodeToString(b) + ".c2ln"
}

const (
	tid = "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50"
	app = "5f0e0a54-3b7e-4b7e-9a2a-1f1b2c3d4e5f"
)

func TestDecode(t *testing.T) {
	exp := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	v1 := jwtOf(t, map[string]any{"aud": "https://outlook.office.com", "scp": "IMAP.AccessAsUser.All SMTP.Send", "tid": tid, "appid": app, "unique_name": "helpdesk@contoso.com", "exp": exp.Unix(), "ver": "1.0"})
	c, err := Decode(v1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Audience != "https://outlook.office.com" || strings.Join(c.Scopes, ",") != "IMAP.AccessAsUser.All,SMTP.Send" || c.TenantID != tid || c.AppID != app || c.UPN != "helpdesk@contoso.com" || !c.Expiry.Equal(exp) || c.Version != "1.0" || c.AppOnly() {
		t.Fatalf("v1: %+v", c)
	}
	v2 := jwtOf(t, map[string]any{"aud": []string{"https://outlook.office365.com"}, "roles": []string{"IMAP.AccessAsApp"}, "tid": tid, "azp": app, "exp": exp.Unix(), "ver": "2.0"})
	c, err = Decode(v2)
	if err != nil {
		t.Fatal(err)
	}
	if c.Audience != "https://outlook.office365.com" || c.AppID != app || len(c.Roles) != 1 || !c.AppOnly() {
		t.Fatalf("v2: %+v", c)
	}
	if !strings.Contains(c.Summary(), "roles=IMAP.AccessAsApp") {
		t.Errorf("summary: %s", c.Summary())
	}
	for _, bad := range []string{"", "abc", "a.b", "a.!!!.c", "a." + base64.RawURLEncoding.EncodeToString([]byte("[1]")) + ".c"} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("Decode(%q) accepted", bad)
		}
	}
}

func TestCompare(t *testing.T) {
	now := time.Now()
	c := cloud.Global()
	wantIMAPApp, _ := WantFor(c, catalog.ClientCredentials, catalog.IMAP, tid, app, "helpdesk@contoso.com")
	wantIMAPUser, _ := WantFor(c, catalog.ROPC, catalog.IMAP, tid, app, "helpdesk@contoso.com")
	good := Claims{Audience: "https://outlook.office365.com/", Roles: []string{"IMAP.AccessAsApp"}, TenantID: tid, AppID: app, Expiry: now.Add(time.Hour)}
	if m := Compare(good, wantIMAPApp, now); m != nil {
		t.Fatalf("good token: %v", m)
	}
	fields := func(ms []Mismatch) string {
		var f []string
		for _, m := range ms {
			f = append(f, m.Field)
		}
		return strings.Join(f, ",")
	}
	graph := good
	graph.Audience = "https://graph.microsoft.com"
	ms := Compare(graph, wantIMAPApp, now)
	if fields(ms) != "aud" || !strings.Contains(ms[0].Fix, "Microsoft Graph") || !strings.Contains(ms[0].Fix, "https://outlook.office365.com/.default") {
		t.Fatalf("graph audience: %v", ms)
	}
	bad := Claims{Audience: "https://outlook.office.com", Roles: []string{"POP.AccessAsApp"}, TenantID: "other", AppID: "x", Expiry: now.Add(-time.Minute)}
	if got := fields(Compare(bad, wantIMAPApp, now)); got != "roles,tid,appid,exp" {
		t.Fatalf("bad app token fields: %s", got)
	}
	user := Claims{Audience: "https://outlook.office.com", Scopes: []string{"SMTP.Send"}, TenantID: tid, AppID: app, UPN: "admin@contoso.onmicrosoft.com", Expiry: now.Add(time.Hour)}
	ms = Compare(user, wantIMAPUser, now)
	if fields(ms) != "scp,upn" || !strings.Contains(ms[0].Fix, "https://outlook.office.com/IMAP.AccessAsUser.All") {
		t.Fatalf("user token: %v", ms)
	}
	// An app-only token where the product signs in as a user.
	if got := fields(Compare(good, wantIMAPUser, now)); !strings.Contains(got, "upn") {
		t.Fatalf("app-only for delegated: %s", got)
	}
}

func TestTokenNeverPrintsRaw(t *testing.T) {
	raw := jwtOf(t, map[string]any{"aud": "https://outlook.office.com", "exp": time.Now().Add(time.Hour).Unix()})
	tok, err := NewToken(raw, catalog.ROPC)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v", tok), fmt.Sprintf("%#v", tok), mustJSON(t, tok)} {
		if strings.Contains(s, raw) || strings.Contains(s, strings.Split(raw, ".")[1]) {
			t.Fatalf("token printed: %s", s)
		}
	}
	if tok.Value() != raw {
		t.Fatal("Value() lost the token")
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func aadErr(code int) error {
	return fmt.Errorf("http call(https://x/t/oauth2/v2.0/token)(POST) error: reply status code was 401:\n{\"error\":\"invalid_client\",\"error_description\":\"AADSTS%d: x\",\"error_codes\":[%d]}", code, code)
}

func TestRetryWaitsOutReplication(t *testing.T) {
	var events []Event
	r := Retry{Budget: 5 * time.Second, Interval: 100 * time.Millisecond, Tick: 40 * time.Millisecond, OnEvent: func(e Event) { events = append(events, e) }}
	calls := 0
	out, err := r.Do(context.Background(), "token", ReplicationDelay, func(context.Context) error {
		calls++
		if calls < 3 {
			return aadErr(7000215)
		}
		return nil
	})
	if err != nil || out.Attempts != 3 || calls != 3 {
		t.Fatalf("err %v attempts %d", err, out.Attempts)
	}
	if len(events) < 3 {
		t.Fatalf("want a countdown, got %d events", len(events))
	}
	if events[0].Code != "AADSTS7000215" || events[0].Attempt != 2 || events[0].Wait <= 0 || events[0].Left <= 0 || events[0].Left > 5*time.Second {
		t.Fatalf("first event: %+v", events[0])
	}
	// The countdown goes down.
	if events[1].Attempt == 2 && events[1].Wait >= events[0].Wait {
		t.Fatalf("countdown does not decrease: %v then %v", events[0].Wait, events[1].Wait)
	}
}

func TestRetryStopsOnOtherErrors(t *testing.T) {
	calls := 0
	_, err := Retry{Interval: time.Millisecond}.Do(context.Background(), "token", ReplicationDelay, func(context.Context) error {
		calls++
		return aadErr(7000222)
	})
	if calls != 1 || err == nil {
		t.Fatalf("calls %d err %v", calls, err)
	}
}

func TestRetryBudgetAndCancel(t *testing.T) {
	start := time.Now()
	_, err := Retry{Budget: 300 * time.Millisecond, Interval: 50 * time.Millisecond}.Do(context.Background(), "token for x", ReplicationDelay, func(context.Context) error { return aadErr(65001) })
	var be *BudgetError
	if !errors.As(err, &be) || time.Since(start) > 2*time.Second {
		t.Fatalf("budget: %v after %v", err, time.Since(start))
	}
	if ae, ok := explain.ParseAAD(err); !ok || ae.Code() != 65001 {
		t.Fatalf("budget error lost the AAD error: %v", err)
	}
	// An absolute deadline ends the waiting before the budget does.
	start = time.Now()
	_, err = Retry{Budget: time.Minute, Deadline: time.Now().Add(300 * time.Millisecond), Interval: 50 * time.Millisecond}.Do(context.Background(), "token", ReplicationDelay, func(context.Context) error { return aadErr(7000215) })
	if !errors.As(err, &be) || time.Since(start) > 2*time.Second {
		t.Fatalf("deadline: %v after %v", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	start = time.Now()
	_, err = Retry{Interval: 10 * time.Second}.Do(ctx, "token", ReplicationDelay, func(context.Context) error { return aadErr(700016) })
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("cancel: %v after %v", err, time.Since(start))
	}
}

func TestValidation(t *testing.T) {
	c := cloud.Global()
	req, _ := catalog.TokenRequestFor(c, catalog.ClientCredentials, catalog.IMAP)
	cases := []struct {
		a     Acquirer
		field string
	}{
		{Acquirer{Cloud: c, TenantID: "", ClientID: app, Secret: "s"}, "tenant id"},
		{Acquirer{Cloud: c, TenantID: "common", ClientID: app, Secret: "s"}, "tenant id"},
		{Acquirer{Cloud: c, TenantID: "contoso", ClientID: app, Secret: "s"}, "tenant id"},
		{Acquirer{Cloud: c, TenantID: tid, ClientID: "not-a-guid", Secret: "s"}, "client id"},
		{Acquirer{Cloud: c, TenantID: tid, ClientID: app}, "client secret"},
		{Acquirer{Cloud: cloud.Cloud{AuthorityHost: "http://127.0.0.1:1"}, TenantID: tid, ClientID: app, Secret: "s"}, "authority"},
	}
	for _, tc := range cases {
		_, err := tc.a.ClientCredentials(context.Background(), req)
		if err == nil || !strings.HasPrefix(err.Error(), tc.field) {
			t.Errorf("%+v: err %v, want field %q", tc.a.TenantID, err, tc.field)
		}
	}
	a := Acquirer{Cloud: c, TenantID: tid, ClientID: app, Secret: "s"}
	mixed := catalog.TokenRequest{Scopes: []string{"https://graph.microsoft.com/.default", "https://outlook.office365.com/.default"}}
	if _, err := a.ClientCredentials(context.Background(), mixed); err == nil || !strings.Contains(err.Error(), "two resources") {
		t.Errorf("mixed resources: %v", err)
	}
	del, _ := catalog.TokenRequestFor(c, catalog.ROPC, catalog.IMAP)
	if _, err := a.Password(context.Background(), del, "helpdesk", "pw"); err == nil || !strings.HasPrefix(err.Error(), "user name") {
		t.Errorf("user name: %v", err)
	}
	if _, err := a.Password(context.Background(), del, "helpdesk@contoso.com", ""); err == nil || !strings.HasPrefix(err.Error(), "password") {
		t.Errorf("password: %v", err)
	}
	if _, err := a.AuthCode(context.Background(), del, AuthCodeOptions{RedirectURI: "https://product.example/callback"}); err == nil || !strings.HasPrefix(err.Error(), "redirect URI") {
		t.Errorf("redirect: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("a.eyJhdWQiOiJ4In0.c")
	f.Add("a.eyJleHAiOjFlMzA.c")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Decode(s)
		if err == nil {
			_ = c.Summary()
			_ = Compare(c, Want{Permission: "x", Audiences: []string{"y"}}, time.Now())
		}
	})
}

func TestClassifiers(t *testing.T) {
	for code, want := range map[int]bool{700016: true, 7000215: true, 65001: true, 7000218: false, 50126: false} {
		if _, got := ReplicationDelay(aadErr(code)); got != want {
			t.Errorf("ReplicationDelay(%d) = %v", code, got)
		}
	}
	c := alsoRetry(7000218)
	if x, ok := c(aadErr(7000218)); !ok || !x.Retryable || x.Code != "AADSTS7000218" {
		t.Errorf("alsoRetry(7000218): %v %+v", ok, x)
	}
	if _, ok := c(aadErr(50126)); ok {
		t.Error("alsoRetry retried 50126")
	}
	if _, ok := c(errors.New("dial tcp: refused")); ok {
		t.Error("alsoRetry retried a network error")
	}
}
