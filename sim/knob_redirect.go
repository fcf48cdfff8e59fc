package sim

import (
	"net/http"
	"strings"
	"sync"
)

// tokenRedirects holds RedirectTokenEndpoint's target per server. It lives
// beside the knob rather than in Server so that the knob stays in one file.
var tokenRedirects sync.Map // *Server -> string

// RedirectTokenEndpoint makes every POST to the token endpoint
// (/{tenant}/oauth2/v2.0/token) answer 307 Temporary Redirect to the same
// path on the base URL to (e.g. "https://127.0.0.1:4431"), as a hostile
// network or a misconfigured proxy might: a client that follows it posts
// its client secret, password or code there. "" turns the knob off.
func (s *Server) RedirectTokenEndpoint(to string) {
	if to == "" {
		tokenRedirects.Delete(s)
		return
	}
	tokenRedirects.Store(s, strings.TrimRight(to, "/"))
}

// redirectToken answers a token request with the configured redirect; it
// reports whether it did (the middleware then skips the real handler).
func (s *Server) redirectToken(service string, w http.ResponseWriter, r *http.Request) bool {
	if service != "login" || r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") {
		return false
	}
	to, ok := tokenRedirects.Load(s)
	if !ok {
		return false
	}
	w.Header().Set("Location", to.(string)+r.URL.RequestURI())
	w.WriteHeader(http.StatusTemporaryRedirect)
	return true
}
