package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSimCommand: `mailoauth sim --info FILE` serves the tenant, writes
// the documented JSON (0600, with the CA beside it), prints the endpoints
// without any password, and stops cleanly when cancelled.
func TestSimCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	infoFile := filepath.Join(dir, "sim.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"sim", "--info", infoFile, "--auto-approve", testAdmin},
			IO{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: env{}.get})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Use it: mailoauth setup") {
		select {
		case code := <-done:
			t.Fatalf("sim exited early with %d\n%s", code, errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sim did not print its endpoints:\n%s\n%s", out.String(), errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if m := mode(t, infoFile); m != 0o600 {
		t.Errorf("--info file mode %v, want 0600", m)
	}
	raw := mustRead(t, infoFile)
	var info map[string]any
	if err := json.Unmarshal(raw, &info); err != nil {
		t.Fatalf("--info is not JSON: %v\n%s", err, raw)
	}
	for _, k := range []string{"tenant_id", "tenant_name", "domains", "authority_host", "authority", "graph_url", "imap", "pop", "smtp", "ews_url", "device_login_url", "ca_cert_file", "users"} {
		if v, ok := info[k]; !ok || v == "" || v == nil {
			t.Errorf("--info lacks %q", k)
		}
	}
	if info["tenant_id"] != "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50" {
		t.Errorf("tenant_id %v", info["tenant_id"])
	}
	if gu, _ := info["graph_url"].(string); !strings.HasPrefix(gu, "https://127.0.0.1:") || strings.HasSuffix(gu, "/v1.0") {
		t.Errorf("graph_url %q: want https://127.0.0.1:port without /v1.0", gu)
	}
	ca, _ := info["ca_cert_file"].(string)
	if filepath.Dir(ca) != dir {
		t.Errorf("the CA %s is not beside the info file", ca)
	}
	if pem, err := os.ReadFile(ca); err != nil || !strings.Contains(string(pem), "BEGIN CERTIFICATE") {
		t.Errorf("CA file: %v", err)
	}
	users, _ := info["users"].([]any)
	if len(users) < 6 {
		t.Fatalf("users: %d", len(users))
	}
	var passwords []string
	for _, u := range users {
		m, _ := u.(map[string]any)
		for _, k := range []string{"upn", "display_name", "password", "roles", "licence", "mfa", "shared_mailbox", "mailbox"} {
			if _, ok := m[k]; !ok {
				t.Errorf("user %v lacks %q", m["upn"], k)
			}
		}
		if p, _ := m["password"].(string); p != "" {
			passwords = append(passwords, p)
		}
	}
	if len(passwords) == 0 {
		t.Error("--info holds no demo password")
	}
	printed := out.String() + errOut.String()
	for _, p := range passwords {
		if strings.Contains(printed, p) {
			t.Errorf("a password (%s…) was printed", p[:4])
		}
	}
	for _, k := range []string{"authority_host", "graph_url", "imap", "pop", "smtp", "ews_url", "ca_cert_file"} {
		if v, _ := info[k].(string); !strings.Contains(out.String(), v) {
			t.Errorf("stdout lacks %s %s", k, v)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Errorf("sim stopped with exit %d, want 0\n%s", code, errOut.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop after cancel")
	}
	if !strings.Contains(errOut.String(), "Stopping") {
		t.Errorf("no stop message:\n%s", errOut.String())
	}
	// Its ports are closed.
	if c, err := net.DialTimeout("tcp", info["imap"].(string), 2*time.Second); err == nil {
		c.Close()
		t.Error("the IMAP port still accepts connections after stop")
	}
}

// TestSimLatency: `mailoauth sim --latency` adds the delay to every HTTP
// request (demos and benchmarks of a slower, more realistic tenant).
func TestSimLatency(t *testing.T) {
	t.Parallel()
	infoFile := filepath.Join(t.TempDir(), "sim.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuf
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"sim", "--info", infoFile, "--latency", "300ms"}, IO{In: strings.NewReader(""), Out: &out, Err: &errOut, Getenv: env{}.get})
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "Use it: mailoauth setup") {
		if time.Now().After(deadline) {
			t.Fatalf("sim did not start:\n%s\n%s", out.String(), errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "300ms added to every HTTP request") {
		t.Errorf("the latency is not shown:\n%s", out.String())
	}
	var info struct {
		AuthorityHost string `json:"authority_host"`
		TenantID      string `json:"tenant_id"`
		CA            string `json:"ca_cert_file"`
	}
	if err := json.Unmarshal(mustRead(t, infoFile), &info); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(mustRead(t, info.CA))
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	start := time.Now()
	resp, err := hc.Get(info.AuthorityHost + "/" + info.TenantID + "/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("a request took %v, under the 300ms latency", took)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d", code)
	}
}
