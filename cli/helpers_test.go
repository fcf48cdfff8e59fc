package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/sim"
)

const (
	testAdmin    = "admin@contoso.onmicrosoft.com"
	testMailbox  = "helpdesk@contoso.com"
	testPassword = "Demo-Mail-2026!"
)

// result is one finished cli.Main.
type result struct {
	code int
	out  string
	err  string
}

// browserErr is the Err a person reads: it keeps every line and, like the
// person, opens in a "browser" (an HTTP client trusting the sim's CA) any
// address the command asks to open.
type browserErr struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	line   []byte
	client *http.Client
	wg     sync.WaitGroup
}

var openLine = regexp.MustCompile(`^\s+(https://127\.0\.0\.1:\d+/\S+)$`)

func (b *browserErr) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.client == nil {
		return len(p), nil
	}
	b.line = append(b.line, p...)
	for {
		i := bytes.IndexByte(b.line, '\n')
		if i < 0 {
			break
		}
		l := string(b.line[:i])
		b.line = b.line[i+1:]
		if m := openLine.FindStringSubmatch(l); m != nil {
			b.wg.Add(1)
			go func(u string) {
				defer b.wg.Done()
				resp, err := b.client.Get(u)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}(m[1])
		}
	}
	return len(p), nil
}

func (b *browserErr) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// syncBuf is a bytes.Buffer safe to read while Main writes (sim command).
type syncBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is the process environment a test gives the command.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// runMain runs cli.Main non-interactively with buffers. s, when not nil,
// is the tenant whose sign-in addresses get "opened".
func runMain(t *testing.T, ctx context.Context, s *sim.Server, e env, stdin string, args ...string) result {
	t.Helper()
	if e == nil {
		e = env{}
	}
	if _, ok := e["MAILOAUTH_NO_BROWSER"]; !ok {
		e["MAILOAUTH_NO_BROWSER"] = "1"
	}
	var out bytes.Buffer
	be := &browserErr{}
	if s != nil {
		be.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CertPool()}}}
	}
	code := Main(ctx, args, IO{In: strings.NewReader(stdin), Out: &out, Err: be, Interactive: false, Getenv: e.get})
	be.wg.Wait()
	return result{code: code, out: out.String(), err: be.String()}
}

// startSim starts the real simulated tenant in-process for one test.
func startSim(t *testing.T) *sim.Server {
	t.Helper()
	s, err := sim.Start(sim.Options{AutoApprove: testAdmin, CACertFile: filepath.Join(t.TempDir(), "sim-ca.pem")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// cloudArgs are the flags a user passes to point mailoauth at the sim.
func cloudArgs(s *sim.Server) []string {
	i := s.Info()
	return []string{"--cloud", "custom", "--authority", i.AuthorityHost, "--graph-url", i.GraphURL,
		"--imap", i.IMAP, "--pop", i.POP, "--smtp", i.SMTP, "--ews-url", i.EWSURL, "--ca-file", i.CACertFile}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// setupArgs is `setup <cloud flags> --yes --out out` + extra.
func setupArgs(s *sim.Server, out string, extra ...string) []string {
	a := append([]string{"setup"}, cloudArgs(s)...)
	a = append(a, "--yes", "--out", out)
	return append(a, extra...)
}

// decodeJSON fails the test unless s is one JSON value.
func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("not valid JSON: %v\n%s", err, s)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value on stdout:\n%s", s)
	}
}

// secretOf reads the client secret the setup wrote to settings.json.
func secretOf(t *testing.T, dir string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "settings.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	s, _ := m["client_secret"].(string)
	return s
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}
