package sim

import (
	"os"
	"sort"
	"strings"
	"testing"
)

// permissionsTable renders graphPermissions as the Markdown table of
// docs/sim-graph-permissions.md, so the page cannot drift from the code.
func permissionsTable() string {
	ops := make([]int, 0, len(graphPermissions))
	for op := range graphPermissions {
		ops = append(ops, int(op))
	}
	sort.Ints(ops)
	var b strings.Builder
	b.WriteString("| Call | Delegated (any of) | Application (any of) | Source (microsoft-graph-docs-contrib, api-reference/v1.0) |\n|---|---|---|---|\n")
	for _, op := range ops {
		r := graphPermissions[graphOp(op)]
		app := strings.Join(r.application, ", ")
		if app == "" {
			app = "not supported"
		}
		del := strings.Join(r.delegated, ", ")
		if r.and != nil {
			del += " **and** one of " + strings.Join(r.and, ", ")
			app += " **and** one of " + strings.Join(r.and, ", ")
		}
		b.WriteString("| `" + r.op + "` | " + del + " | " + app + " | " + r.source + " |\n")
	}
	return b.String()
}

func TestGraphPermissionsDocIsCurrent(t *testing.T) {
	doc, err := os.ReadFile("../docs/sim-graph-permissions.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := permissionsTable(); !strings.Contains(string(doc), want) {
		t.Errorf("docs/sim-graph-permissions.md does not hold the current table; it should contain:\n%s", want)
	}
}
