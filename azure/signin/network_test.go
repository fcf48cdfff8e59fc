package signin

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
	"github.com/mailoauth/mailoauth/sim"
)

// signInErr runs a device-code sign-in that must fail and returns its error.
func signInErr(t *testing.T, c cloud.Cloud) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := SignIn(ctx, Options{Cloud: c, Scopes: Scopes(c, Needs{}), OnDeviceCode: func(DeviceCodePrompt) {}})
	if err == nil {
		t.Fatal("sign-in succeeded")
	}
	t.Log(err)
	return err
}

// oneSentence: the sign-in error is the explanation's sentence, not MSAL's
// chain of wrappers, and still unwraps to a *explain.ConnectionError.
func oneSentence(t *testing.T, err error, code string, want ...string) {
	t.Helper()
	var ce *explain.ConnectionError
	var se *Error
	if !errors.As(err, &se) || !errors.As(err, &ce) || ce.Explanation.Code != code || se.Explanation.Code != code {
		t.Fatalf("%v: want a sign-in *Error with a ConnectionError of code %s", err, code)
	}
	msg := err.Error()
	for _, bad := range []string{"unable to resolve an endpoint", "server response error", "sign-in (device code) failed", "\n"} {
		if strings.Contains(msg, bad) {
			t.Errorf("%q still holds %q", msg, bad)
		}
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%q lacks %q", msg, w)
		}
	}
}

// Offline: the authority's name does not resolve (a .invalid host, so no
// real network is ever asked for anything that exists).
func TestSignInDNSFailureIsOneSentence(t *testing.T) {
	c := cloud.Global()
	c.Name = "custom"
	c.AuthorityHost = "https://login.mailoauth-offline.invalid"
	err := signInErr(t, c)
	var ce *explain.ConnectionError
	if errors.As(err, &ce) && ce.Explanation.Code == explain.CodeDNSFailed {
		oneSentence(t, err, explain.CodeDNSFailed, "Cannot reach the identity platform: the name login.mailoauth-offline.invalid")
		return
	}
	oneSentence(t, err, explain.CodeDNS, "Cannot reach the identity platform: the name login.mailoauth-offline.invalid does not resolve in DNS", "HTTPS_PROXY")
}

func TestSignInRefusedIsOneSentence(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := cloud.Global()
	c.Name = "custom"
	c.AuthorityHost = "https://" + addr
	oneSentence(t, signInErr(t, c), explain.CodeRefused, addr+" refused the connection")
}

// The simulated tenant without its CA (no --ca-file): what a TLS-inspecting
// proxy looks like to a computer that does not trust it.
func TestSignInUntrustedCertificateIsOneSentence(t *testing.T) {
	_, c := startSim(t, sim.Options{AutoApprove: admin})
	c.RootCAs, c.CAFile = nil, ""
	oneSentence(t, signInErr(t, c), explain.CodeTLSUntrusted, "not signed by an authority this computer trusts", "--ca-file")
}

// The device code poll (device_code is a credential) stops at a 307 from
// the token endpoint to another host; that host receives nothing.
func TestSignInNeverFollowsTokenRedirect(t *testing.T) {
	s, c := startSim(t, sim.Options{AutoApprove: admin})
	var hits atomic.Int32
	other := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer other.Close()
	s.RedirectTokenEndpoint(other.URL)
	err := signInErr(t, c)
	var re *cloud.RedirectError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "the token endpoint answered with a redirect to "+strings.TrimPrefix(other.URL, "https://")+"; mailoauth never sends credentials to another host (a device code") {
		t.Fatalf("%v", err)
	}
	if hits.Load() != 0 {
		t.Fatal("the other host was reached")
	}
}
