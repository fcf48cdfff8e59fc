package explain_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/azure/explain"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
)

// get sends one GET through the cloud's own HTTP client and returns the
// classified error.
func get(t *testing.T, c cloud.Cloud, service, u string) error {
	t.Helper()
	hc, err := c.HTTPClient(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc.Timeout = 10 * time.Second
	resp, err := hc.Get(u)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET %s: no error", u)
	}
	return explain.Connection(service, u, err)
}

// check asserts the error is a ConnectionError of one of codes, whose text
// is one sentence holding every want, and which unwraps to the original.
func check(t *testing.T, err error, codes []string, want ...string) *explain.ConnectionError {
	t.Helper()
	var ce *explain.ConnectionError
	if !errors.As(err, &ce) {
		t.Fatalf("%v (%T): want a *explain.ConnectionError", err, err)
	}
	ok := false
	for _, c := range codes {
		ok = ok || ce.Explanation.Code == c
	}
	if !ok {
		t.Errorf("code %q, want one of %v: %s", ce.Explanation.Code, codes, err)
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%q lacks %q", msg, w)
		}
	}
	if strings.Count(msg, ". ") > 0 || !strings.HasSuffix(msg, ".") || strings.Contains(msg, "\n") {
		t.Errorf("not one sentence: %q", msg)
	}
	if errors.Unwrap(err) == nil {
		t.Error("does not unwrap to the original error")
	}
	t.Log(msg)
	return ce
}

func TestConnectionDNSFailure(t *testing.T) {
	c := cloud.Global()
	err := get(t, c, explain.ServiceIdentity, "https://login.mailoauth-test.invalid/organizations/v2.0/.well-known/openid-configuration")
	check(t, err, []string{explain.CodeDNS, explain.CodeDNSFailed},
		"Cannot reach the identity platform: the name login.mailoauth-test.invalid", "HTTPS_PROXY")
}

func TestConnectionRefusedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = get(t, cloud.Global(), explain.ServiceGraph, "https://"+addr+"/v1.0/organization")
	check(t, err, []string{explain.CodeRefused}, "Cannot reach Microsoft Graph: "+addr+" refused the connection", "firewall")
}

// TestConnectionUntrustedCertificate: the simulated tenant reached without
// its CA (no --ca-file), as a TLS-inspecting proxy looks to a computer that
// does not trust it.
func TestConnectionUntrustedCertificate(t *testing.T) {
	s, err := sim.Start(sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := simcloud.Must(t, s)
	c.RootCAs, c.CAFile = nil, ""
	u := c.Authority(sim.TenantID) + "/v2.0/.well-known/openid-configuration"
	err = get(t, c, explain.ServiceIdentity, u)
	check(t, err, []string{explain.CodeTLSUntrusted}, "is not signed by an authority this computer trusts", "--ca-file")
}

func TestConnectionLeavesOtherErrorsAlone(t *testing.T) {
	for _, err := range []error{nil, context.Canceled, errors.New(`{"error":"invalid_client","error_codes":[7000215]}`)} {
		if got := explain.Connection(explain.ServiceIdentity, "https://x", err); got != err {
			t.Errorf("%v became %v", err, got)
		}
	}
}

// The proxy cases need HTTPS_PROXY, which net/http reads once per process:
// each runs in a fresh copy of this test binary (proxyChild, from TestMain).
const childEnv = "MAILOAUTH_EXPLAIN_PROXY_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		proxyChild()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// proxyChild makes one request through HTTPS_PROXY and prints the result.
func proxyChild() {
	c := cloud.Global()
	if f := os.Getenv("CHILD_CA_FILE"); f != "" {
		c.CAFile = f
	}
	hc, _ := c.HTTPClient(nil)
	hc.Timeout = 10 * time.Second
	u := "https://login.proxytest.invalid/organizations/v2.0/.well-known/openid-configuration"
	resp, err := hc.Get(u)
	if err == nil {
		resp.Body.Close()
		os.Stdout.WriteString("RESULT no error\n")
		return
	}
	out := explain.Connection(explain.ServiceIdentity, u, err)
	code := "none"
	var ce *explain.ConnectionError
	if errors.As(out, &ce) {
		code = ce.Explanation.Code
	}
	os.Stdout.WriteString("RESULT " + code + " " + out.Error() + "\n")
}

// proxy answers each CONNECT as mode says.
func proxy(t *testing.T, mode string, tlsSrv *httptest.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func(conn net.Conn) {
				defer conn.Close()
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil || req.Method != http.MethodConnect {
					return
				}
				switch mode {
				case "407":
					conn.Write([]byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n"))
				case "403":
					conn.Write([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
				case "close":
					return
				case "inspect":
					// Tunnel to a TLS server whose certificate nobody trusts,
					// as a TLS-inspecting proxy does.
					up, err := net.Dial("tcp", tlsSrv.Listener.Addr().String())
					if err != nil {
						return
					}
					defer up.Close()
					conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
					go func() {
						buf := make([]byte, 32<<10)
						for {
							n, err := conn.Read(buf)
							if err != nil {
								return
							}
							up.Write(buf[:n])
						}
					}()
					buf := make([]byte, 32<<10)
					for {
						n, err := up.Read(buf)
						if err != nil {
							return
						}
						conn.Write(buf[:n])
					}
				}
			}(conn)
		}
	}()
	return ln.Addr().String()
}

// inspectingServer is the TLS end of a TLS-inspecting proxy: a certificate
// for the requested host, signed by the proxy's own CA (here self-signed),
// whose PEM is written to the returned file.
func inspectingServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Corp Inspecting Proxy CA"},
		DNSNames: []string{"login.proxytest.invalid"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "proxy-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, caFile
}

func runChild(t *testing.T, proxyAddr string, extra ...string) (code, msg string) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1", "HTTPS_PROXY=http://"+proxyAddr, "https_proxy=", "NO_PROXY=", "no_proxy=")
	cmd.Env = append(cmd.Env, extra...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "RESULT "); ok {
			code, msg, _ = strings.Cut(rest, " ")
			t.Log(msg)
			return code, msg
		}
	}
	t.Fatalf("child printed no result:\n%s", out)
	return "", ""
}

func TestConnectionThroughProxy(t *testing.T) {
	inspecting, caFile := inspectingServer(t)
	closedLn, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closedLn.Addr().String()
	closedLn.Close()

	cases := []struct {
		name, addr, code string
		want             []string
	}{
		{"proxy wants a login", proxy(t, "407", nil), explain.CodeProxyAuth, []string{"407 Proxy Authentication Required", "HTTPS_PROXY (http://user:password@"}},
		{"proxy forbids the host", proxy(t, "403", nil), explain.CodeProxyDenied, []string{"403 Forbidden", "allow login.proxytest.invalid", "NO_PROXY"}},
		{"proxy closes", proxy(t, "close", nil), explain.CodeClosed, []string{"through the proxy 127.0.0.1:", "was closed"}},
		{"proxy port refused", closedAddr, explain.CodeProxyRefused, []string{"the proxy " + closedAddr + " (HTTPS_PROXY) refused the connection", "check the proxy's host and port in HTTPS_PROXY"}},
		{"proxy inspects TLS", proxy(t, "inspect", inspecting), explain.CodeTLSUntrusted, []string{"inspects TLS", "--ca-file"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, msg := runChild(t, tc.addr)
			if code != tc.code {
				t.Errorf("code %q, want %q: %s", code, tc.code, msg)
			}
			if !strings.HasPrefix(msg, "Cannot reach the identity platform: ") {
				t.Errorf("message %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q lacks %q", msg, w)
				}
			}
		})
	}
	// The fix the message gives works: with the proxy's CA in --ca-file
	// the same request goes through the inspecting proxy.
	if code, msg := runChild(t, cases[len(cases)-1].addr, "CHILD_CA_FILE="+caFile); code != "no" {
		t.Errorf("with --ca-file: %s %s", code, msg)
	}
}
