// Package httptrace writes --debug-http traces: one JSON object per HTTP
// exchange with the identity platform or Microsoft Graph, as JSON Lines, with
// every secret, token and password replaced by "REDACTED" before it is written.
//
// Both the MSAL client (sign-in) and the Graph client wrap their transport with
// the same Tracer, so one file shows the whole conversation in order.
package httptrace

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mailoauth/mailoauth/output/safefile"
)

// Entry is one line of the trace file.
type Entry struct {
	Time            string            `json:"time"`
	DurationMS      int64             `json:"duration_ms"`
	Method          string            `json:"method"`
	URL             string            `json:"url"`
	Status          int               `json:"status"`
	RequestHeaders  map[string]string `json:"request_headers,omitempty"`
	RequestBody     any               `json:"request_body"`
	ResponseHeaders map[string]string `json:"response_headers,omitempty"`
	ResponseBody    any               `json:"response_body"`
	Error           string            `json:"error,omitempty"`
}

// Tracer serialises entries to one writer; it is safe for concurrent use.
type Tracer struct {
	mu     sync.Mutex
	w      io.Writer
	closer io.Closer
	now    func() time.Time
}

// New writes entries to w.
func New(w io.Writer) *Tracer { return &Tracer{w: w, now: time.Now} }

// Open creates (or truncates) the --debug-http file as a private file
// (0600; owner-only ACL on Windows). Its folder is created private when
// missing; an existing folder is left as it is. A path that is a symbolic
// link is refused, never followed: truncating through it would empty
// whatever file it points to.
func Open(path string) (*Tracer, error) {
	if path == "" {
		return nil, fmt.Errorf("--debug-http: empty file name; accepted form: a file path, e.g. ./mailoauth-http.jsonl")
	}
	if dir := filepath.Dir(path); dir != "." {
		if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
			if err := safefile.EnsureDir(dir); err != nil {
				return nil, fmt.Errorf("--debug-http: %w", err)
			}
		}
	}
	f, err := safefile.CreatePrivate(path)
	if err != nil {
		return nil, fmt.Errorf("--debug-http: %w", err)
	}
	t := New(f)
	t.closer = f
	return t, nil
}

// Close closes the file Open made.
func (t *Tracer) Close() error {
	if t == nil || t.closer == nil {
		return nil
	}
	return t.closer.Close()
}

// Wrap returns a RoundTripper that traces every exchange through base. A nil
// Tracer returns base unchanged, so callers can wrap unconditionally.
// Its signature fits cloud.Cloud.HTTPClient's wrap parameter.
func (t *Tracer) Wrap(base http.RoundTripper) http.RoundTripper {
	if t == nil {
		return base
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, t: t}
}

func (t *Tracer) write(e *Entry) {
	line, err := json.Marshal(e)
	if err != nil {
		return
	}
	line = append(line, '\n')
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = t.w.Write(line)
}

type transport struct {
	base http.RoundTripper
	t    *Tracer
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := tr.t.now()
	reqBody, err := readRequestBody(req)
	if err != nil {
		return nil, err
	}
	e := &Entry{
		Time:           start.UTC().Format(time.RFC3339Nano),
		Method:         req.Method,
		URL:            RedactURL(req.URL.String()),
		RequestHeaders: RedactHeaders(req.Header),
		RequestBody:    Body(req.Header.Get("Content-Type"), req.Header.Get("Content-Encoding"), reqBody),
	}
	resp, rtErr := tr.base.RoundTrip(withBody(req, reqBody))
	if rtErr != nil {
		e.DurationMS = time.Since(start).Milliseconds()
		e.Error = redactString(rtErr.Error())
		tr.t.write(e)
		return resp, rtErr
	}
	respBody, readErr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	e.DurationMS = time.Since(start).Milliseconds()
	e.Status = resp.StatusCode
	e.ResponseHeaders = RedactHeaders(resp.Header)
	e.ResponseBody = Body(resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding"), respBody)
	if readErr != nil {
		e.Error = redactString(readErr.Error())
	}
	tr.t.write(e)
	if readErr != nil {
		return nil, readErr
	}
	return resp, nil
}

// readRequestBody reads the body so it can be both traced and sent.
func readRequestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("trace: reading request body: %w", err)
	}
	return b, nil
}

// withBody is a shallow copy of req carrying the body already read (a
// RoundTripper must not change the caller's request).
func withBody(req *http.Request, b []byte) *http.Request {
	if b == nil {
		return req
	}
	r := req.Clone(req.Context())
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	r.ContentLength = int64(len(b))
	return r
}
