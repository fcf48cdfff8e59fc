package httptrace

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTraceRealExchanges sends a gzip-compressed Graph-like JSON request, a
// $batch, a token-endpoint form post and a plain-text reply through a real
// 127.0.0.1 server and checks each line of the file.
func TestTraceRealExchanges(t *testing.T) {
	const secret = "s3cr3t~VALUE.abcdefghijklmnop"
	const token = "eyJ0eXAiOiJKV1QiLCJhbGciOi.TOKENPAYLOAD.sig"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/v1.0/applications/x/addPassword":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"keyId":"k1","hint":"s3c","secretText":"`+secret+`"}`)
		case "/v1.0/$batch":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"responses":[{"id":"1","status":200,"body":{"secretText":"`+secret+`"}}]}`)
		case "/tenant/oauth2/v2.0/token":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			io.WriteString(w, `{"access_token":"`+token+`","refresh_token":"`+token+`R","id_token":"`+token+`I","token_type":"Bearer"}`)
		case "/err":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"code":"Request_BadRequest","message":"bad","details":[{"code":"NoBackingApplicationObject"}]}}`)
		default:
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "hello")
		}
	}))
	defer srv.Close()

	path := filepath.Join(t.TempDir(), "out", "trace.jsonl")
	tr, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: tr.Wrap(http.DefaultTransport)}

	// 1. gzip JSON body, the way msgraph-sdk-go sends it, with a bearer token.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, `{"passwordCredential":{"displayName":"mailoauth","secretText":"`+secret+`"}}`)
	zw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/v1.0/applications/x/addPassword", &gz)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+token)
	mustDo(t, client, req)

	// 2. $batch with a nested secret in a sub-request body.
	req, _ = http.NewRequest("POST", srv.URL+"/v1.0/$batch", strings.NewReader(`{"requests":[{"id":"1","method":"POST","url":"/x","body":{"passwordCredential":{"secretText":"`+secret+`"}}}]}`))
	req.Header.Set("Content-Type", "application/json")
	mustDo(t, client, req)

	// 3. token endpoint form post with client_secret, password, code and device_code.
	form := url.Values{"client_id": {"abc"}, "client_secret": {secret}, "password": {secret + "P"}, "code": {secret + "C"}, "device_code": {secret + "D"}, "grant_type": {"password"}}
	req, _ = http.NewRequest("POST", srv.URL+"/tenant/oauth2/v2.0/token?code="+secret+"Q", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	mustDo(t, client, req)

	// 4. Graph error: its codes stay readable.
	req, _ = http.NewRequest("GET", srv.URL+"/err", nil)
	mustDo(t, client, req)

	// 5. plain text.
	req, _ = http.NewRequest("GET", srv.URL+"/plain", nil)
	mustDo(t, client, req)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("trace mode = %v, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(path)); di.Mode().Perm() != 0o700 {
		t.Errorf("trace folder mode = %v, want 0700", di.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	for _, s := range []string{secret, token, "TOKENPAYLOAD"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("trace file contains a secret %q:\n%s", s, raw)
		}
	}
	var entries []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line is not one JSON object: %v: %s", err, sc.Text())
		}
		entries = append(entries, m)
	}
	if len(entries) != 5 {
		t.Fatalf("got %d lines, want 5", len(entries))
	}
	for _, e := range entries {
		for _, k := range []string{"time", "duration_ms", "method", "url", "status", "request_body", "response_body"} {
			if _, ok := e[k]; !ok {
				t.Errorf("entry lacks %q: %v", k, e)
			}
		}
	}
	add := entries[0]
	if got := add["request_body"].(map[string]any)["passwordCredential"].(map[string]any)["displayName"]; got != "mailoauth" {
		t.Errorf("gzip request body not decoded: %v", add["request_body"])
	}
	if add["request_headers"].(map[string]any)["Authorization"] != Redacted {
		t.Errorf("Authorization not redacted: %v", add["request_headers"])
	}
	if add["response_body"].(map[string]any)["keyId"] != "k1" {
		t.Errorf("response body not parsed: %v", add["response_body"])
	}
	tok := entries[2]
	fields := tok["request_body"].(map[string]any)
	if fields["client_id"] != "abc" || fields["grant_type"] != "password" || fields["client_secret"] != Redacted || fields["code"] != Redacted {
		t.Errorf("form fields: %v", fields)
	}
	if !strings.Contains(tok["url"].(string), "code="+Redacted) {
		t.Errorf("query code not redacted: %v", tok["url"])
	}
	errBody := entries[3]["response_body"].(map[string]any)["error"].(map[string]any)
	if errBody["code"] != "Request_BadRequest" || errBody["details"].([]any)[0].(map[string]any)["code"] != "NoBackingApplicationObject" {
		t.Errorf("graph error codes lost: %v", errBody)
	}
	if entries[3]["status"].(float64) != 400 {
		t.Errorf("status = %v", entries[3]["status"])
	}
	if entries[4]["response_body"] != "hello" {
		t.Errorf("text body = %v", entries[4]["response_body"])
	}
}

func mustDo(t *testing.T, c *http.Client, req *http.Request) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// TestNilTracerWrap keeps the base transport when tracing is off.
func TestNilTracerWrap(t *testing.T) {
	var tr *Tracer
	if tr.Wrap(http.DefaultTransport) != http.DefaultTransport {
		t.Fatal("nil tracer must not wrap")
	}
}

// FuzzRedactJSON: whatever JSON comes in, a string stored under a secret key
// never comes out, and the output is still valid JSON.
func FuzzRedactJSON(f *testing.F) {
	f.Add(`{"a":{"b":[{"c":1}]}}`, "secretText", "hunter2-xyz")
	f.Add(`{"requests":[{"body":{}}]}`, "client_secret", "abc.def~ghi")
	f.Add(`[{"error":{}}]`, "refresh_token", "0.AAAA")
	f.Add(`{}`, "Password", "p@ss word")
	f.Fuzz(func(t *testing.T, doc, key, secret string) {
		if !IsSecretKey(key) || len(secret) < 6 || strings.Contains(doc, secret) || strings.Contains(key, secret) {
			return
		}
		var v any
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			return
		}
		planted := plant(v, key, secret)
		body, err := json.Marshal(planted)
		if err != nil {
			return
		}
		out := Body("application/json", "", body)
		enc, err := json.Marshal(out)
		if err != nil {
			t.Fatalf("redacted value does not marshal: %v", err)
		}
		// Graph error codes are kept on purpose; the fuzzer does not plant
		// "code" under an error object.
		if bytes.Contains(enc, mustJSONString(secret)) {
			t.Fatalf("secret survived: in=%s out=%s", body, enc)
		}
		var back any
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("output is not JSON: %v", err)
		}
	})
}

// plant puts key:secret into every object of v, at every depth.
func plant(v any, key, secret string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if isErrorContainer(k) {
				delete(t, k) // keep the planted "code" out of error objects
				continue
			}
			t[k] = plant(val, key, secret)
		}
		t[key] = secret
		return t
	case []any:
		for i := range t {
			t[i] = plant(t[i], key, secret)
		}
		return t
	}
	return map[string]any{"wrapped": v, key: secret}
}

func mustJSONString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// FuzzBody: any bytes under any content type never panic, and the form and
// free-text paths drop a password value.
func FuzzBody(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "", []byte("password=abcdef&user=x"))
	f.Add("text/plain", "gzip", []byte{0x1f, 0x8b, 0, 0})
	f.Add("application/json", "", []byte(`{"password":"abcdefg"}`))
	f.Fuzz(func(t *testing.T, ct, ce string, body []byte) {
		out := Body(ct, ce, body)
		if _, err := json.Marshal(out); err != nil {
			t.Fatalf("Body result does not marshal: %v", err)
		}
		form := url.Values{"password": {"Zq9-" + string(body)}, "user": {"x"}}.Encode()
		got := Body("application/x-www-form-urlencoded", "", []byte(form))
		enc, _ := json.Marshal(got)
		if len(body) >= 4 && bytes.Contains(enc, mustJSONString("Zq9-" + string(body))[1:]) {
			t.Fatalf("form password survived: %s", enc)
		}
	})
}
