package sim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// maxBatch is Graph's JSON batching limit (microsoft.md §4).
const maxBatch = 20

type batchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// memWriter collects one sub-request's response.
type memWriter struct {
	h      http.Header
	status int
	buf    bytes.Buffer
}

func (m *memWriter) Header() http.Header { return m.h }
func (m *memWriter) WriteHeader(code int) {
	if m.status == 0 {
		m.status = code
	}
}
func (m *memWriter) Write(b []byte) (int, error) {
	if m.status == 0 {
		m.status = 200
	}
	return m.buf.Write(b)
}

// batch is POST /$batch: up to 20 requests, unique ids, dependsOn run in
// order; a request whose dependency failed gets 424.
func (s *Server) batch(w http.ResponseWriter, r *http.Request, _ caller) {
	var body struct {
		Requests []batchRequest `json:"requests"`
	}
	if e := readJSON(r, &body); e != nil {
		writeGraphError(w, r, e)
		return
	}
	if len(body.Requests) == 0 {
		writeGraphError(w, r, gerr(400, "BadRequest", "Invalid batch payload format: the requests array is empty."))
		return
	}
	if len(body.Requests) > maxBatch {
		writeGraphError(w, r, gerr(400, "BadRequest", "The number of batch requests exceeds the limit of %d.", maxBatch))
		return
	}
	seen := map[string]bool{}
	for _, br := range body.Requests {
		if br.ID == "" {
			writeGraphError(w, r, gerr(400, "BadRequest", "Invalid batch payload format: a request has no id."))
			return
		}
		if seen[br.ID] {
			writeGraphError(w, r, gerr(400, "BadRequest", "Batch request ids must be unique; '%s' is used twice.", br.ID))
			return
		}
		seen[br.ID] = true
	}
	for _, br := range body.Requests {
		for _, d := range br.DependsOn {
			if !seen[d] {
				writeGraphError(w, r, gerr(400, "BadRequest", "Request '%s' depends on '%s', which is not in the batch.", br.ID, d))
				return
			}
		}
	}
	status := map[string]int{}
	var out []batchResponse
	for _, br := range body.Requests {
		failed := ""
		for _, d := range br.DependsOn {
			if st, ok := status[d]; !ok || st >= 400 {
				failed = d
				break
			}
		}
		var resp batchResponse
		if failed != "" {
			resp = batchResponse{ID: br.ID, Status: 424, Headers: map[string]string{"Content-Type": "application/json"}}
			resp.Body, _ = json.Marshal(map[string]any{"error": map[string]any{"code": "Failed Dependency",
				"message": "Request '" + br.ID + "' depends on request '" + failed + "', which failed."}})
		} else {
			resp = s.runBatchItem(r, br)
		}
		status[br.ID] = resp.Status
		out = append(out, resp)
	}
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"responses": out})
}

func (s *Server) runBatchItem(parent *http.Request, br batchRequest) batchResponse {
	u := br.URL
	if !strings.HasPrefix(u, "/") {
		u = "/" + u
	}
	target, err := url.Parse("/v1.0" + u)
	if err != nil || br.Method == "" {
		return batchError(br.ID, 400, "BadRequest", "Invalid request URL or method.")
	}
	var body []byte
	if len(br.Body) > 0 && string(br.Body) != "null" {
		body = br.Body
		if !hasHeader(br.Headers, "Content-Type") {
			return batchError(br.ID, 400, "BadRequest", "Content-Type header must be specified for a request with a body.")
		}
	}
	req, err := http.NewRequestWithContext(parent.Context(), strings.ToUpper(br.Method), target.String(), bytes.NewReader(body))
	if err != nil {
		return batchError(br.ID, 400, "BadRequest", "Invalid request.")
	}
	for k, v := range br.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Authorization", parent.Header.Get("Authorization"))
	mw := &memWriter{h: http.Header{}}
	if s.isMailPath(req.URL.Path) {
		s.graphMail(mw, req)
	} else {
		s.serveGraph(mw, req, false)
	}
	resp := batchResponse{ID: br.ID, Status: mw.status, Headers: map[string]string{}}
	if resp.Status == 0 {
		resp.Status = 200
	}
	for k := range mw.h {
		if k == "Content-Type" || k == "Location" || k == "Retry-After" {
			resp.Headers[k] = mw.h.Get(k)
		}
	}
	if b := bytes.TrimSpace(mw.buf.Bytes()); len(b) > 0 {
		if json.Valid(b) {
			resp.Body = b
		} else {
			resp.Body, _ = json.Marshal(string(b))
		}
	}
	return resp
}

func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

func batchError(id string, status int, code, msg string) batchResponse {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg}})
	return batchResponse{ID: id, Status: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: b}
}
