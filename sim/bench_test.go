package sim

import (
	"context"
	"net/http"
	"testing"
)

// BenchmarkStart is the simulator's start-up: CA, signing key, six listeners.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		s, err := Start(Options{})
		if err != nil {
			b.Fatal(err)
		}
		_ = s.Close()
	}
}

// BenchmarkGraphRoundTrip is one authenticated Graph GET over TLS.
func BenchmarkGraphRoundTrip(b *testing.B) {
	s := startSim(b, Options{})
	tok := ropcToken(b, s, adminUPN, adminPW, adminScopes)
	hc := s.HTTPClient()
	u := s.Info().GraphURL + "/v1.0/servicePrincipals(appId='" + EXOAppID + "')"
	for b.Loop() {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := hc.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// BenchmarkClientCredentials is an app-only token through MSAL (cache off:
// a new client each time, so every iteration reaches the token endpoint).
func BenchmarkClientCredentials(b *testing.B) {
	s := startSim(b, Options{})
	g := adminGraph(b, s)
	app := newApp(b, g, map[string]any{})
	grantRole(b, g, app, EXOAppID, roleIMAPApp)
	for b.Loop() {
		cc := confidentialClient(b, s, app.appID, app.secret, "")
		if _, err := cc.AcquireTokenByCredential(context.Background(), []string{"https://outlook.office365.com/.default"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProvisioningRoundTrips is the wizard's Graph sequence for an
// app-only IMAP app: create app, SP, secret, role assignment (4 round trips).
func BenchmarkProvisioningRoundTrips(b *testing.B) {
	s := startSim(b, Options{})
	g := adminGraph(b, s)
	exo := resourceSPID(b, g, EXOAppID)
	for b.Loop() {
		a := g.must(201, "POST", "/applications", map[string]any{"displayName": "bench"})
		sp := g.must(201, "POST", "/servicePrincipals", map[string]any{"appId": a["appId"]})
		g.must(200, "POST", "/applications/"+a["id"].(string)+"/addPassword", map[string]any{})
		g.must(201, "POST", "/servicePrincipals/"+exo+"/appRoleAssignedTo", map[string]any{"principalId": sp["id"], "resourceId": exo, "appRoleId": roleIMAPApp})
	}
}
