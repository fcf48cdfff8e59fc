package sim

import (
	"net/http"
	"runtime/debug"
	"time"
)

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// middleware adds the configured latency, records the request, and turns a
// panic into the service's own 500 answer: bad input never crashes the sim.
func (s *Server) middleware(service string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.opts.Latency > 0 {
			time.Sleep(s.opts.Latency)
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.logf("sim: %s %s %s: internal error: %v\n%s", service, r.Method, r.URL.Path, p, debug.Stack())
				if rec.status == 0 {
					switch service {
					case "login":
						writeAAD(rec, r, aad(500, "server_error", 90033, "A transient error has occurred. Please try again."))
					default:
						writeGraphError(rec, r, &graphError{status: 500, code: "InternalServerError", msg: "An internal server error occurred."})
					}
				}
			}
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			// The path only: query strings may carry codes or hints.
			s.record(Request{Time: time.Now(), Service: service, Method: r.Method, Path: r.URL.Path, Status: status})
		}()
		if !s.redirectToken(service, rec, r) { // knob_redirect.go
			h.ServeHTTP(rec, r)
		}
	})
}
