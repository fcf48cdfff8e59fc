package httptrace

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"mime"
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces every secret value in a trace.
const Redacted = "REDACTED"

// secretKeys are the field names whose values never reach a trace file, at
// any depth: Graph's addPassword response (secretText), the identity
// platform's token requests and responses, and device-code polling.
var secretKeys = map[string]bool{
	"secrettext":            true,
	"client_secret":         true,
	"password":              true,
	"access_token":          true,
	"refresh_token":         true,
	"id_token":              true,
	"code":                  true,
	"device_code":           true,
	"client_assertion":      true,
	"assertion":             true,
	"code_verifier":         true,
	"passwordcredentialraw": true,
}

// IsSecretKey reports whether a field of that name is replaced by REDACTED.
func IsSecretKey(name string) bool { return secretKeys[strings.ToLower(name)] }

// secretHeaders are the HTTP headers a trace never shows.
var secretHeaders = map[string]bool{"authorization": true, "cookie": true, "set-cookie": true, "proxy-authorization": true}

// RedactJSON walks a decoded JSON value and replaces secret fields.
//
// One exception, on purpose: Graph's error objects carry their error code in
// a field named "code" ({"error":{"code":"Request_BadRequest",...}} and the
// same inside "details" and "innerError"). Those codes are what a person
// reads a trace for, and they are never a secret, so "code" is kept when its
// parent is an error object. An OAuth authorization code travels in form
// bodies and query strings, where "code" is always redacted.
func RedactJSON(v any) any { return redactValue(v, "") }

func redactValue(v any, parentKey string) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		errorObject := isErrorContainer(parentKey)
		for k, val := range t {
			if IsSecretKey(k) && !(errorObject && strings.EqualFold(k, "code") && isScalarString(val)) {
				out[k] = Redacted
				continue
			}
			out[k] = redactValue(val, k)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, val := range t {
			// Array elements inherit their array's key, so "details":[{"code":...}] stays readable.
			out[i] = redactValue(val, parentKey)
		}
		return out
	case string:
		return redactString(t)
	}
	return v
}

func isErrorContainer(key string) bool {
	switch strings.ToLower(key) {
	case "error", "innererror", "details", "innererrors":
		return true
	}
	return false
}

func isScalarString(v any) bool {
	_, ok := v.(string)
	return ok
}

// secretInText finds key=value and "key":"value" pairs inside free text
// (MSAL error strings, HTML pages, bodies that are not valid JSON).
var secretInText = regexp.MustCompile(`(?i)(\b(?:secretText|client_secret|password|access_token|refresh_token|id_token|device_code|client_assertion|code_verifier|code)"?\s*[:=]\s*"?)([^"&\s,}]+)`)

// bearerInText catches a bearer token pasted into free text.
var bearerInText = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9\-_\.=+/]+`)

func redactString(s string) string {
	if !strings.ContainsAny(s, ":=") && !strings.Contains(strings.ToLower(s), "bearer") {
		return s
	}
	s = secretInText.ReplaceAllString(s, "${1}"+Redacted)
	return bearerInText.ReplaceAllString(s, "${1}"+Redacted)
}

// RedactURL replaces secret query parameters.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redactString(raw)
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	if u.RawQuery == "" {
		return u.String()
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		u.RawQuery = redactString(u.RawQuery)
		return u.String()
	}
	for k := range q {
		if IsSecretKey(k) {
			q[k] = []string{Redacted}
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// RedactHeaders returns the headers as an object with secrets replaced.
func RedactHeaders(h map[string][]string) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		if secretHeaders[strings.ToLower(k)] {
			out[k] = Redacted
			continue
		}
		out[k] = redactString(strings.Join(vs, ", "))
	}
	return out
}

// maxBody caps how much of one body a trace keeps.
const maxBody = 1 << 20

// Body decodes a request or response body for the trace: parsed JSON where
// the body is JSON (gzip-decoded first when Content-Encoding says so, as
// msgraph-sdk-go compresses its request bodies), form fields as an object,
// else a string; secrets replaced in every case. An empty body is nil.
func Body(contentType, contentEncoding string, body []byte) any {
	if len(body) == 0 {
		return nil
	}
	if strings.EqualFold(strings.TrimSpace(contentEncoding), "gzip") || (len(body) > 2 && body[0] == 0x1f && body[1] == 0x8b) {
		if zr, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
			if plain, err := io.ReadAll(io.LimitReader(zr, maxBody+1)); err == nil {
				body = plain
			}
		}
	}
	if len(body) > maxBody {
		body = body[:maxBody]
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := bytes.TrimSpace(body)
	if strings.Contains(mt, "json") || (len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')) {
		var v any
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&v); err == nil && !dec.More() {
			return RedactJSON(v)
		}
	}
	if mt == "application/x-www-form-urlencoded" {
		if q, err := url.ParseQuery(string(body)); err == nil {
			obj := make(map[string]any, len(q))
			for k, vs := range q {
				switch {
				case IsSecretKey(k):
					obj[k] = Redacted
				case len(vs) == 1:
					obj[k] = redactString(vs[0])
				default:
					arr := make([]any, len(vs))
					for i, v := range vs {
						arr[i] = redactString(v)
					}
					obj[k] = arr
				}
			}
			return obj
		}
	}
	return redactString(string(body))
}
