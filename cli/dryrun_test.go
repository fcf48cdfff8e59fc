package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailoauth/mailoauth/sim"
)

// assertNoWrites: the sim saw no Graph POST, PATCH or DELETE.
func assertNoWrites(t *testing.T, reqs []sim.Request) {
	t.Helper()
	for _, q := range reqs {
		if q.Service == "graph" && q.Method != "GET" {
			t.Errorf("the tenant was changed: %s %s (%d)", q.Method, q.Path, q.Status)
		}
	}
}

// TestDryRun: --dry-run signs in and reads, then prints the ordered Graph
// requests with bodies (no secret value) and changes nothing; --json is
// one valid JSON document.
func TestDryRun(t *testing.T) {
	t.Parallel()
	s := startSim(t)
	dir := t.TempDir()
	base := []string{"--dry-run", "--product", "generic", "--method", "client-credentials", "--protocols", "imap,smtp", "--mailboxes", testMailbox}

	r := runMain(t, testCtx(t), s, nil, "", setupArgs(s, filepath.Join(dir, "a"), base...)...)
	if r.code != ExitOK {
		t.Fatalf("exit %d\nstderr:\n%s", r.code, r.err)
	}
	for _, w := range []string{"Dry run: nothing was changed", "Round trip 1:", "POST", "/applications", "addPassword", "/servicePrincipals", "appRoleAssignedTo", `"displayName"`} {
		if !strings.Contains(r.out, w) {
			t.Errorf("dry-run text lacks %q:\n%s", w, r.out)
		}
	}
	if i, j := strings.Index(r.out, "/applications"), strings.Index(r.out, "/servicePrincipals"); i < 0 || j < 0 || i > j {
		t.Errorf("the app must be created before its service principal:\n%s", r.out)
	}
	if strings.Contains(r.out, "secretText") {
		t.Errorf("a secret value appears in the plan:\n%s", r.out)
	}
	assertNoWrites(t, s.Requests())
	if !hasGraphGET(s.Requests()) {
		t.Error("the dry run made no Graph read: it should pre-flight the tenant")
	}

	s.ResetRequests()
	r = runMain(t, testCtx(t), s, nil, "", setupArgs(s, filepath.Join(dir, "b"), append(base, "--json")...)...)
	if r.code != ExitOK {
		t.Fatalf("--json: exit %d\nstderr:\n%s", r.code, r.err)
	}
	var res struct {
		Requests []struct {
			Round  int    `json:"round"`
			Method string `json:"method"`
			URL    string `json:"url"`
			Body   any    `json:"body"`
		} `json:"requests"`
	}
	decodeJSON(t, r.out, &res)
	if len(res.Requests) < 4 {
		t.Fatalf("only %d planned requests: %s", len(res.Requests), r.out)
	}
	last := 0
	for _, q := range res.Requests {
		if q.Round < last {
			t.Errorf("requests out of order: round %d after %d", q.Round, last)
		}
		last = q.Round
	}
	if res.Requests[0].Method != "POST" || !strings.HasSuffix(res.Requests[0].URL, "/applications") || res.Requests[0].Body == nil {
		t.Errorf("first request should create the app with a body: %+v", res.Requests[0])
	}
	assertNoWrites(t, s.Requests())
}

func hasGraphGET(reqs []sim.Request) bool {
	for _, q := range reqs {
		if q.Service == "graph" && q.Method == "GET" {
			return true
		}
	}
	return false
}
