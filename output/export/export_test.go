package export

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/cloud"
	"github.com/mailoauth/mailoauth/internal/pwsh"
	"github.com/mailoauth/mailoauth/output/product"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// A fixed, realistic input: the simulator's tenant, fixed GUIDs, a secret in
// Entra's shape (40 characters), fixed times.
const (
	tenantID  = "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50"
	clientID  = "8d3f5a2e-7c41-4b9a-9e62-1f0a3c5d7b84"
	appObjID  = "c2a7e913-5b0d-4f6e-8a14-3d9b72e6f051"
	spID      = "f6b1d8c4-2e9a-47b3-b5c0-9a4e1d7f3268"
	secretKey = "0e4c2b7a-91d3-4f58-a6e0-b3c5d9f71a24"
	secret    = "Xy7~Q8.golden-fixture-only_0"
)

type goldenCase struct {
	name      string
	product   string
	method    string
	protocols []catalog.Protocol
	cloud     string
	audience  catalog.Audience
	noSecret  bool
	shared    bool // the mailboxes are shared (OtherMailboxes)
	history   bool // the demo's story: app-only login fails, mailoauth applies the Exchange side, the test passes
}

func (c goldenCase) input(t testing.TB) Input {
	t.Helper()
	p, err := product.Lookup(c.product)
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Method(c.method)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := cloud.Lookup(c.cloud)
	if err != nil {
		t.Fatal(err)
	}
	mailboxes := []string{"helpdesk@contoso.com", "support@contoso.com"}
	var additional []string
	if c.product == "agiloft" {
		mailboxes = mailboxes[:1]
		additional = []string{"support@contoso.com", "mfa.user@contoso.com"}
	}
	expires := time.Date(2027, 5, 21, 19, 0, 0, 0, time.UTC)
	in := Input{
		Product: c.product, Method: m.ID, AppName: product.DefaultAppName(p, m),
		Cloud: cl, TenantID: tenantID, TenantDomain: "contoso.com", TenantInitialDomain: "contoso.onmicrosoft.com", Audience: c.audience,
		ClientID: clientID, AppObjectID: appObjID, ServicePrincipalID: spID,
		Protocols: c.protocols, PublicClient: m.PublicClient,
		Mailboxes: mailboxes, AdditionalUsers: additional, OtherMailboxes: c.shared,
		Answers: map[string]string{
			product.KeyExtraViewURL: "https://ev.contoso.com/evj",
			product.KeyCallbackURL:  "https://jira.contoso.com/plugins/servlet/eti/oauth2/callback",
			product.KeyRedirectURI:  "https://mail-client.contoso.com/oauth2/callback",
		},
		Created: []string{
			"App registration \"" + product.DefaultAppName(p, m) + "\" (application ID " + clientID + ")",
			"Enterprise application (service principal " + spID + ")",
			"Admin consent for the API permissions listed below",
		},
		TestResults: []TestLine{{Protocol: c.protocols[0], Mailbox: "helpdesk@contoso.com", OK: true, Detail: "signed in and opened the inbox"}},
		GeneratedAt: time.Date(2026, 11, 21, 19, 0, 0, 0, time.UTC),
	}
	if m.NeedsSecret {
		in.Secret, in.SecretKeyID, in.SecretHint, in.SecretExpires = secret, secretKey, "Xy7", expires
		in.Created = append(in.Created, "Client secret "+secretKey+", expires 2027-05-21")
		if c.noSecret {
			in.Secret = ""
		}
	}
	if m.AssignUsers {
		in.Created = append(in.Created, "Assigned helpdesk@contoso.com and support@contoso.com to the enterprise application")
	}
	if c.history {
		t0 := in.GeneratedAt.Add(-3 * time.Minute)
		in.Exchange = ExchangeStatus{AppliedAt: t0.Add(time.Minute), Changes: []string{
			"Exchange Online: registered the app (New-ServicePrincipal, object ID " + spID + ")",
			"Exchange Online: added " + clientID + " to the EWS allow-list (kept 1 ID already listed)"}}
		in.TestAttempts = []TestAttempt{
			{At: t0, Results: []TestLine{{Protocol: c.protocols[0], Mailbox: "helpdesk@contoso.com", Detail: "EWS refused the app: it is not on the organisation's EWS allow-list."}},
				Fix: "mailoauth added the app to the EWS allow-list in Exchange Online"},
			{At: t0.Add(2 * time.Minute), Results: []TestLine{{Protocol: c.protocols[0], Mailbox: "helpdesk@contoso.com", OK: true, Detail: "signed in and opened the inbox"}}},
		}
		in.TestResults = in.TestAttempts[1].Results
	}
	return in
}

// goldenCases: every product × method with its default protocols, all its
// protocols and each protocol alone, plus sovereign-cloud, multitenant and
// no-secret cases.
func goldenCases() []goldenCase {
	var out []goldenCase
	seen := map[string]bool{}
	add := func(c goldenCase) {
		var ps []string
		for _, p := range c.protocols {
			ps = append(ps, string(p))
		}
		c.name = c.product + "-" + c.method + "-" + strings.Join(ps, "-")
		if c.cloud != "" {
			c.name += "-" + c.cloud
		}
		if c.audience == catalog.MultiTenant {
			c.name += "-multi"
		}
		if c.noSecret {
			c.name += "-nosecret"
		}
		if c.shared {
			c.name += "-shared"
		}
		if c.history {
			c.name += "-history"
		}
		if !seen[c.name] {
			seen[c.name] = true
			out = append(out, c)
		}
	}
	for _, p := range product.All() {
		for _, m := range p.Methods {
			base := goldenCase{product: p.ID, method: m.ID}
			c := base
			c.protocols = m.DefaultProtocols
			add(c)
			c.protocols = m.Protocols
			add(c)
			for _, pr := range m.Protocols {
				c.protocols = []catalog.Protocol{pr}
				add(c)
			}
		}
	}
	add(goldenCase{product: "monitor-erp", method: "client-secret", protocols: []catalog.Protocol{catalog.EWS}, cloud: "usgov-high"})
	add(goldenCase{product: "generic", method: "client-credentials", protocols: []catalog.Protocol{catalog.IMAP, catalog.POP, catalog.SMTP}, cloud: "usgov-high"})
	add(goldenCase{product: "genesys", method: "ropc", protocols: []catalog.Protocol{catalog.POP, catalog.SMTP}, cloud: "usgov-high"})
	add(goldenCase{product: "email-this-issue", method: "auth-code", protocols: []catalog.Protocol{catalog.IMAP, catalog.SMTP}, audience: catalog.MultiTenant})
	add(goldenCase{product: "genesys", method: "ropc", protocols: []catalog.Protocol{catalog.IMAP, catalog.SMTP}, audience: catalog.SingleTenant})
	add(goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}, noSecret: true})
	add(goldenCase{product: "email-this-issue", method: "auth-code", protocols: []catalog.Protocol{catalog.GraphRead, catalog.GraphSend}, shared: true})
	add(goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}, history: true})
	return out
}

func TestGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			arts, err := Render(c.input(t))
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("testdata", "golden", c.name)
			if *update {
				os.RemoveAll(dir)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			want := map[string]bool{}
			for _, a := range arts {
				want[a.Name] = true
				path := filepath.Join(dir, a.Name)
				if *update {
					if err := os.WriteFile(path, a.Content, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				golden, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./output/export -update to create it)", err)
				}
				if !bytes.Equal(golden, a.Content) {
					t.Errorf("%s differs from %s:\n%s", a.Name, path, firstDiff(golden, a.Content))
				}
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if !want[e.Name()] {
					t.Errorf("stale golden file %s (no longer rendered)", filepath.Join(dir, e.Name()))
				}
			}
		})
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n golden: " + x + "\n    got: " + y
		}
	}
	return "(same lines, different bytes)"
}

var secretFiles = map[string]bool{SettingsMD: true, SettingsHTML: true, SettingsJSON: true, DotEnv: true}

// TestSecretOnlyWhereIntended writes every case to disk and checks that the
// secret is in exactly the intended files, those are 0600, the folder 0700,
// and that --no-secret leaves it nowhere.
func TestSecretOnlyWhereIntended(t *testing.T) {
	for _, c := range goldenCases() {
		for _, noSecret := range []bool{false, true} {
			in := c.input(t)
			p, _ := product.Lookup(in.Product)
			m, _ := p.Method(in.Method)
			// Even with --no-secret the caller may pass the secret in; Write must drop it.
			if m.NeedsSecret {
				in.Secret = secret
			}
			dir := filepath.Join(t.TempDir(), "out")
			files, err := Write(in, Options{OutDir: dir, NoSecret: noSecret})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: folder mode %v", c.name, fi.Mode().Perm())
			}
			reported := map[string]File{}
			for _, f := range files {
				reported[filepath.Base(f.Path)] = f
				if f.Status != "written" {
					t.Errorf("%s: %s status %s", c.name, f.Path, f.Status)
				}
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				path := filepath.Join(dir, e.Name())
				data, _ := os.ReadFile(path)
				fi, _ := os.Stat(path)
				has := bytes.Contains(data, []byte(secret))
				wantHas := m.NeedsSecret && !noSecret && secretFiles[e.Name()]
				if has != wantHas {
					t.Errorf("%s (no-secret %v): %s holds the secret: %v, want %v", c.name, noSecret, e.Name(), has, wantHas)
				}
				if secretFiles[e.Name()] && fi.Mode().Perm() != 0o600 {
					t.Errorf("%s: %s mode %v, want 0600", c.name, e.Name(), fi.Mode().Perm())
				}
				if f, ok := reported[e.Name()]; ok && f.HoldsSecret != has {
					t.Errorf("%s: %s HoldsSecret %v, content says %v", c.name, e.Name(), f.HoldsSecret, has)
				}
				if m.NeedsSecret && noSecret && secretFiles[e.Name()] && !bytes.Contains(data, []byte(SecretPlaceholder)) &&
					!bytes.Contains(data, []byte("&lt;paste the client secret value here&gt;")) {
					t.Errorf("%s: %s has no placeholder with --no-secret", c.name, e.Name())
				}
			}
		}
	}
}

func TestRewriteProtectsEditedFiles(t *testing.T) {
	c := goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}}
	in := c.input(t)
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := Write(in, Options{OutDir: dir}); err != nil {
		t.Fatal(err)
	}
	// Unchanged re-run: every file unchanged.
	files, err := Write(in, Options{OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Status != "unchanged" {
			t.Errorf("re-run: %s %s", f.Path, f.Status)
		}
	}
	// A re-run with a new secret rewrites the secret files the admin did not touch.
	in.Secret = strings.Repeat("N", 40)
	files, _ = Write(in, Options{OutDir: dir})
	for _, f := range files {
		if f.HoldsSecret && f.Status != "written" {
			t.Errorf("new secret: %s %s", f.Path, f.Status)
		}
	}
	// The admin edits .env: skipped without asking, asked with Confirm, overwritten with Force.
	env := filepath.Join(dir, DotEnv)
	edited := []byte("MAILOAUTH_CLIENT_ID=mine\n")
	os.WriteFile(env, edited, 0o600)
	in.GeneratedAt = in.GeneratedAt.Add(time.Hour) // every file would change
	statusOf := func(files []File, name string) string {
		for _, f := range files {
			if filepath.Base(f.Path) == name {
				return f.Status
			}
		}
		return ""
	}
	files, _ = Write(in, Options{OutDir: dir})
	if got := statusOf(files, DotEnv); got != "skipped-modified" {
		t.Errorf("edited .env: %s", got)
	}
	if got := statusOf(files, SettingsJSON); got != "written" {
		t.Errorf("untouched settings.json: %s", got)
	}
	if data, _ := os.ReadFile(env); !bytes.Equal(data, edited) {
		t.Error("edited .env was overwritten")
	}
	var asked []string
	files, _ = Write(in, Options{OutDir: dir, Confirm: func(p string) bool { asked = append(asked, p); return false }})
	if len(asked) != 1 || asked[0] != env || statusOf(files, DotEnv) != "skipped-modified" {
		t.Errorf("confirm: asked %v, status %s", asked, statusOf(files, DotEnv))
	}
	files, _ = Write(in, Options{OutDir: dir, Force: true})
	if statusOf(files, DotEnv) != "written" {
		t.Errorf("force: %s", statusOf(files, DotEnv))
	}
	if data, _ := os.ReadFile(env); bytes.Equal(data, edited) {
		t.Error("force did not overwrite")
	}
}

func TestHTMLEscapesValues(t *testing.T) {
	c := goldenCase{product: "generic", method: "client-credentials", protocols: []catalog.Protocol{catalog.IMAP}}
	in := c.input(t)
	evil := `<script>alert("x")</script>`
	in.AppName = "Mail " + evil
	in.Created = append(in.Created, "created "+evil)
	in.ManualSteps = []string{"step " + evil}
	in.TestResults[0].Detail = evil
	arts, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		switch a.Name {
		case SettingsHTML:
			if bytes.Contains(bytes.ToLower(a.Content), []byte("<script")) {
				t.Error("settings.html contains a live <script> tag")
			}
			if n := bytes.Count(a.Content, []byte("&lt;script&gt;")); n < 4 {
				t.Errorf("settings.html: escaped value found %d times, want >= 4", n)
			}
			for _, ext := range []string{"<link", "<img", "src=", "@import", "url("} {
				if bytes.Contains(a.Content, []byte(ext)) {
					t.Errorf("settings.html is not self-contained: has %q", ext)
				}
			}
		case SettingsMD:
			// Prose is escaped; values sit in code spans where markup is inert.
			if bytes.Contains(a.Content, []byte("- created <script>")) {
				t.Error("settings.md: raw HTML in prose")
			}
		case PowerShell:
			if !bytes.Contains(a.Content, []byte(`$AppName = 'Mail <script>alert("x")</script>'`)) {
				t.Errorf("PowerShell app name not single-quoted:\n%s", a.Content)
			}
		}
	}
}

// psSkeleton reads a PowerShell script as PowerShell's tokenizer would for
// strings and comments: it returns the code with every single-quoted literal
// replaced by ” (values collected in lits), double-quoted strings kept
// (they must hold no interpolated value), and comments dropped. Two scripts
// with the same skeleton run the same code on different data.
func psSkeleton(t testing.TB, script string) (skeleton string, lits []string) {
	t.Helper()
	if !strings.HasPrefix(script, utf8BOM) {
		t.Fatalf("%s does not start with a UTF-8 byte order mark", PowerShell)
	}
	src := strings.TrimPrefix(script, utf8BOM)
	var b strings.Builder
	for len(src) > 0 {
		r, n := utf8.DecodeRuneInString(src)
		switch {
		case pwsh.IsQuote(r):
			v, rest, err := pwsh.ReadLiteral(src)
			if err != nil {
				t.Fatalf("script: %v near %q", err, src[:min(len(src), 60)])
			}
			lits = append(lits, v)
			b.WriteString("''")
			src = rest
		case r == '#':
			if i := strings.IndexByte(src, '\n'); i >= 0 {
				src = src[i:]
			} else {
				src = ""
			}
		case r == '"':
			end := strings.IndexByte(src[1:], '"')
			if end < 0 {
				t.Fatalf("script: unterminated double-quoted string near %q", src[:min(len(src), 60)])
			}
			b.WriteString(src[:end+2])
			src = src[end+2:]
		default:
			b.WriteString(src[:n])
			src = src[n:]
		}
	}
	return b.String(), lits
}

// TestPowerShellScript: every script is UTF-8 with a BOM, stops on errors,
// reads before it writes, hides no failure, never uses the app
// registration's object ID, and keeps each value inside a literal.
func TestPowerShellScript(t *testing.T) {
	for _, c := range goldenCases() {
		in := c.input(t)
		arts, err := Render(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range arts {
			if a.Name != PowerShell {
				continue
			}
			s := string(a.Content)
			code, lits := psSkeleton(t, s)
			for open, close := range map[string]string{"{": "}", "(": ")", "[": "]"} {
				if strings.Count(code, open) != strings.Count(code, close) {
					t.Errorf("%s: unbalanced %s%s in the code", c.name, open, close)
				}
			}
			if i, j := strings.Index(s, "\n$ErrorActionPreference = 'Stop'\n"), strings.Index(code, "Connect-ExchangeOnline"); i < 0 || i > strings.Index(s, "\nConnect-ExchangeOnline") || j < 0 {
				t.Errorf("%s: $ErrorActionPreference = 'Stop' is not set before the first cmdlet", c.name)
			}
			if strings.Contains(code, "SilentlyContinue") {
				t.Errorf("%s: -ErrorAction SilentlyContinue can hide a real failure", c.name)
			}
			if strings.Contains(code, appObjID) {
				t.Errorf("%s: the code uses the app registration's object ID", c.name)
			}
			for write, read := range map[string]string{"New-ServicePrincipal": "Get-ServicePrincipal", "Add-MailboxPermission": "Get-MailboxPermission",
				"Add-RecipientPermission": "Get-RecipientPermission", "Set-CASMailbox": "Get-CASMailbox", "Set-OrganizationConfig": "Get-OrganizationConfig"} {
				if w := strings.Index(code, write); w >= 0 && !(strings.Contains(code, read) && strings.Index(code, read) < w) {
					t.Errorf("%s: %s without %s first", c.name, write, read)
				}
			}
			for _, mb := range append(append([]string(nil), in.Mailboxes...), in.AdditionalUsers...) {
				if !slices.Contains(lits, mb) {
					t.Errorf("%s: mailbox %s is not in a literal", c.name, mb)
				}
			}
			p, _ := product.Lookup(in.Product)
			m, _ := p.Method(in.Method)
			if m.Flow.AppOnly() {
				if !slices.Contains(lits, in.AppName) || !slices.Contains(lits, spID) {
					t.Errorf("%s: app name or service principal ID not in a literal", c.name)
				}
				if slices.Contains(c.protocols, catalog.SMTP) && !strings.Contains(code, "Add-MailboxPermission -Identity $Mailbox -User $ServicePrincipalId -AccessRights FullAccess") {
					t.Errorf("%s: app-only SMTP without FullAccess", c.name)
				}
			}
			if strings.Contains(code, "Add-RecipientPermission") {
				t.Errorf("%s: SendAs granted though the product sends only as its own mailboxes", c.name)
			}
			if slices.Contains(c.protocols, catalog.EWS) && !strings.Contains(code, "Get-OrganizationConfig -RetrieveEwsOperationAccessPolicy") {
				t.Errorf("%s: the EWS allow-list is not read with -RetrieveEwsOperationAccessPolicy", c.name)
			}
			if c.cloud == "usgov-high" && !strings.Contains(code, "-ExchangeEnvironmentName O365USGovGCCHigh") {
				t.Errorf("%s: no -ExchangeEnvironmentName", c.name)
			}
			if c.cloud == "" && strings.Contains(code, "ExchangeEnvironmentName") {
				t.Errorf("%s: global cloud with -ExchangeEnvironmentName", c.name)
			}
		}
	}
}

// The EWS allow-list is rebuilt from the current one in the script (no hand
// editing): read, keep every ID, add this app's, write, check.
func TestScriptKeepsEveryAllowListID(t *testing.T) {
	in := goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}}.input(t)
	arts, _ := Render(in)
	var code string
	for _, a := range arts {
		if a.Name == PowerShell {
			code, _ = psSkeleton(t, string(a.Content))
		}
	}
	for _, want := range []string{
		"$wanted = @($ews.Ids) + $AppId",
		"Set-OrganizationConfig -EwsAllowedAppIDs ($wanted -join '')",
		"if ($after.Ids -notcontains $id) { throw",
		"} elseif ($EnableEws) {",
	} {
		if !strings.Contains(code, want) {
			t.Errorf("script lacks %q", want)
		}
	}
	if strings.Count(code, "Set-OrganizationConfig") != 2 {
		t.Errorf("Set-OrganizationConfig %d times, want 2 (the list; EwsEnabled only with -EnableEws)", strings.Count(code, "Set-OrganizationConfig"))
	}
}

// Names with any of PowerShell's five quote characters stay data: the
// script's code is the same as with a plain name, and the value reads back
// exactly (issue 10 item 1).
func TestScriptQuotesHostileNames(t *testing.T) {
	c := goldenCase{product: "generic", method: "client-credentials", protocols: []catalog.Protocol{catalog.IMAP, catalog.SMTP, catalog.EWS}}
	skeleton := func(name string) (string, []string) {
		in := c.input(t)
		in.AppName = name
		arts, err := Render(in)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		for _, a := range arts {
			if a.Name == PowerShell {
				return psSkeleton(t, string(a.Content))
			}
		}
		t.Fatal("no script")
		return "", nil
	}
	plain, _ := skeleton("Plain name")
	for _, name := range []string{"Evil’;Start-Process calc;#", "Bob’s helpdesk", "a‘b‚c‛d'e", "’’;calc", "$(calc) `calc` \"calc\""} {
		code, lits := skeleton(name)
		if code != plain {
			t.Errorf("%q changed the script's code", name)
		}
		if !slices.Contains(lits, name) {
			t.Errorf("%q does not read back from its literal", name)
		}
	}
	in := c.input(t)
	in.Mailboxes = []string{"bob’s@contoso.com"}
	if _, err := Render(in); err != nil && !strings.Contains(err.Error(), "Mailboxes") {
		t.Errorf("mailbox refusal does not name the field: %v", err)
	}
}

// The script says whether mailoauth applied it, and the sheet lists it as
// still to do only when it did not, with the reason.
func TestExchangeStatus(t *testing.T) {
	c := goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}}
	render := func(ex ExchangeStatus) (script, md string) {
		in := c.input(t)
		in.Exchange = ex
		arts, err := Render(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range arts {
			switch a.Name {
			case PowerShell:
				script = string(a.Content)
			case SettingsMD:
				md = string(a.Content)
			}
		}
		return
	}
	when := time.Date(2026, 11, 21, 19, 5, 0, 0, time.UTC)
	script, md := render(ExchangeStatus{AppliedAt: when, Changes: []string{"Added " + clientID + " to the EWS allow-list"}})
	if !strings.Contains(script, "# Applied by mailoauth on 2026-11-21; kept as the record and for re-running.") {
		t.Errorf("applied script lacks its heading:\n%s", script[:400])
	}
	if strings.Contains(md, "Run exchange-setup.ps1") || !strings.Contains(md, "to the EWS allow-list") {
		t.Errorf("applied: sheet still lists the script or lacks the change:\n%s", md)
	}
	_, md = render(ExchangeStatus{AppliedAt: when, Pending: []string{"EwsEnabled for the organisation"}})
	if !strings.Contains(md, "still to do: EwsEnabled for the organisation") {
		t.Errorf("partly applied:\n%s", md)
	}
	script, md = render(ExchangeStatus{Left: ExchangeMissingRole, LeftDetail: "signed in as helpdesk@contoso.com"})
	if !strings.Contains(script, "# Left for you to run: the account that signed in to Exchange Online has no Exchange administrator role") ||
		!strings.Contains(md, "It is left to you because the account that signed in to Exchange Online has no Exchange administrator role") ||
		!strings.Contains(md, "signed in as helpdesk@contoso.com") {
		t.Errorf("left:\n%s\n%s", script[:500], md)
	}
}

func TestScriptOnlyWhenExchangeWorkIsNeeded(t *testing.T) {
	cases := []struct {
		c    goldenCase
		want bool
	}{
		{goldenCase{product: "email-this-issue", method: "auth-code", protocols: []catalog.Protocol{catalog.GraphRead}}, false},
		{goldenCase{product: "generic", method: "client-credentials", protocols: []catalog.Protocol{catalog.GraphSend}}, true},
		{goldenCase{product: "genesys", method: "ropc", protocols: []catalog.Protocol{catalog.SMTP}}, true},
	}
	for _, x := range cases {
		arts, err := Render(x.c.input(t))
		if err != nil {
			t.Fatal(err)
		}
		got := false
		for _, a := range arts {
			got = got || a.Name == PowerShell
		}
		if got != x.want {
			t.Errorf("%s %v: script %v, want %v", x.c.product, x.c.protocols, got, x.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	base := goldenCase{product: "generic", method: "client-credentials", protocols: []catalog.Protocol{catalog.IMAP}}
	cases := []struct {
		name    string
		mutate  func(*Input)
		mention []string
	}{
		{"tenant", func(in *Input) { in.TenantID = "contoso" }, []string{"TenantID", "GUID"}},
		{"client", func(in *Input) { in.ClientID = "" }, []string{"ClientID", "accepted form"}},
		{"mailbox", func(in *Input) { in.Mailboxes = []string{"helpdesk"} }, []string{"Mailboxes", "email address"}},
		{"no mailbox", func(in *Input) { in.Mailboxes = nil }, []string{"Mailboxes", "at least one"}},
		{"protocol", func(in *Input) { in.Product = "agiloft"; in.Protocols = []catalog.Protocol{catalog.IMAP} }, []string{"protocols", "IMAP is not supported", "accepted: ews (EWS)"}},
		{"sp", func(in *Input) { in.ServicePrincipalID = "" }, []string{"ServicePrincipalID", "enterprise application"}},
		{"newline", func(in *Input) { in.AppName = "a\nb" }, []string{"AppName", "line break"}},
		{"product", func(in *Input) { in.Product = "outlook" }, []string{"unknown product", "accepted"}},
		{"method", func(in *Input) { in.Method = "magic" }, []string{"method", "accepted"}},
		{"cloud", func(in *Input) { in.Cloud = cloud.Cloud{} }, []string{"Cloud", "accepted form"}},
		{"redirect", func(in *Input) {
			in.Product, in.Method = "extraview", "auth-code"
			in.Answers = map[string]string{product.KeyExtraViewURL: "https://ev.contoso.com"}
		}, []string{"extraview_url", "instance path"}},
	}
	for _, c := range cases {
		in := base.input(t)
		c.mutate(&in)
		_, err := Render(in)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, s := range c.mention {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q lacks %q", c.name, err, s)
			}
		}
	}
	if _, err := Write(base.input(t), Options{}); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("Write without OutDir: %v", err)
	}
}

func TestGoldenCasesCoverEveryMethod(t *testing.T) {
	got := map[string]bool{}
	for _, c := range goldenCases() {
		got[c.product+"/"+c.method] = true
	}
	var missing []string
	for _, p := range product.All() {
		for _, m := range p.Methods {
			if !got[p.ID+"/"+m.ID] {
				missing = append(missing, p.ID+"/"+m.ID)
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no golden case for %v", missing)
	}
}

func TestSlugAndEnvQuote(t *testing.T) {
	for in, want := range map[string]string{"ExtraView mail (OAuth2)": "extraview-mail-oauth2", "  ": "mail-app", "a--b": "a-b",
		"Bob’s helpdesk": "bob-s-helpdesk"} {
		if got := Slug(in); got != want {
			t.Errorf("Slug(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"abc": "abc", "a b": "'a b'", "it's": `"it's"`, `$x'`: `"\$x'"`, "": "''", secret: "'" + secret + "'"} {
		if got := envQuote(in); got != want {
			t.Errorf("envQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestDotEnvRoundTripsThroughShell sources .env in a real POSIX shell and
// checks that tricky values come back byte for byte.
func TestDotEnvRoundTripsThroughShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("a POSIX sh is needed for this test: %v", err)
	}
	c := goldenCase{product: "generic", method: "auth-code", protocols: []catalog.Protocol{catalog.IMAP}}
	for _, s := range []string{secret, `a'b"c$d` + "`e\\f", "with space", "~.-_"} {
		in := c.input(t)
		in.Secret = s
		dir := t.TempDir()
		if _, err := Write(in, Options{OutDir: dir}); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sh, "-c", `set -a; . ./.env; printf %s "$MAILOAUTH_CLIENT_SECRET"`)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil || string(out) != s {
			t.Errorf("secret %q came back as %q (%v)", s, out, err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	in := goldenCase{product: "generic", method: "client-credentials",
		protocols: []catalog.Protocol{catalog.IMAP, catalog.POP, catalog.SMTP, catalog.EWS, catalog.GraphRead, catalog.GraphSend}}.input(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteUnchanged(b *testing.B) {
	in := goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}}.input(b)
	dir := b.TempDir()
	if _, err := Write(in, Options{OutDir: dir}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Write(in, Options{OutDir: dir}); err != nil {
			b.Fatal(err)
		}
	}
}

// Entra shows a secret once: an export without it (mailoauth export with no
// secret given, --no-secret) keeps the files that hold it instead of
// replacing the only copy with the placeholder; Force replaces them.
func TestExportWithoutSecretKeepsTheFilesThatHoldIt(t *testing.T) {
	c := goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}}
	in := c.input(t)
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := Write(in, Options{OutDir: dir}); err != nil {
		t.Fatal(err)
	}
	secret := in.Secret
	in.Secret = ""
	in.GeneratedAt = in.GeneratedAt.Add(time.Hour) // every file would change
	files, err := Write(in, Options{OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, f := range files {
		data, _ := os.ReadFile(f.Path)
		switch f.Status {
		case "kept-secret":
			kept++
			if !strings.Contains(string(data), secret) {
				t.Errorf("%s kept but lost the secret", f.Path)
			}
		case "written":
			if strings.Contains(string(data), SecretPlaceholder) && !strings.HasSuffix(f.Path, "manifest.json") {
				t.Errorf("%s replaced the secret with the placeholder", f.Path)
			}
		}
	}
	if kept != 4 {
		t.Errorf("kept %d secret files, want 4 (settings.md, settings.html, settings.json, .env): %+v", kept, files)
	}
	files, _ = Write(in, Options{OutDir: dir, Force: true})
	for _, f := range files {
		if f.Status == "kept-secret" {
			t.Errorf("Force: %s still kept", f.Path)
		}
	}
}

// A product is its profile plus one file here: every profile has an export.
func TestEveryProductIsRegistered(t *testing.T) {
	for _, p := range product.All() {
		if _, err := lookupProductExport(p.ID); err != nil {
			t.Error(err)
		}
	}
	if len(productExports) != len(product.All()) {
		t.Errorf("%d products exported, %d profiles", len(productExports), len(product.All()))
	}
}

// The whole history of the login test is on the sheet: each attempt, its
// failure, the fix applied, the test again (issue 12 item 5).
func TestSheetKeepsTheTestHistory(t *testing.T) {
	in := goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}, history: true}.input(t)
	arts, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range arts {
		s := string(a.Content)
		switch a.Name {
		case SettingsMD, SettingsHTML:
			for _, want := range []string{"Attempt 1 of 2 (2026-11-21 18:57:00 UTC)", "FAILED", "not on the organisation", "Fix applied: mailoauth added the app to the EWS allow-list",
				"Attempt 2 of 2 (2026-11-21 18:59:00 UTC)", "registered the app (New-ServicePrincipal"} {
				want = strings.ReplaceAll(want, "'", "&#39;")
				if !strings.Contains(s, want) {
					t.Errorf("%s lacks %q", a.Name, want)
				}
			}
			if strings.Index(s, "Attempt 1") > strings.Index(s, "Attempt 2") {
				t.Errorf("%s: attempts out of order", a.Name)
			}
			if strings.Contains(s, "Run exchange-setup.ps1") {
				t.Errorf("%s: lists the script as still to do though mailoauth applied it", a.Name)
			}
		case PowerShell:
			if !strings.Contains(s, "# Applied by mailoauth on 2026-11-21; kept as the record and for re-running.") {
				t.Errorf("script not headed as applied")
			}
		}
	}
}

// Multitenant apps tell how another organisation consents; single-tenant
// ones do not (issue 13).
func TestOtherTenantConsent(t *testing.T) {
	for _, c := range []struct {
		g    goldenCase
		want bool
	}{
		{goldenCase{product: "email-this-issue", method: "auth-code", protocols: []catalog.Protocol{catalog.IMAP}, audience: catalog.MultiTenant}, true},
		{goldenCase{product: "genesys", method: "ropc", protocols: []catalog.Protocol{catalog.IMAP}}, true}, // multitenant by default
		{goldenCase{product: "genesys", method: "ropc", protocols: []catalog.Protocol{catalog.IMAP}, audience: catalog.SingleTenant}, false},
		{goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}}, false},
		{goldenCase{product: "genesys", method: "ropc", protocols: []catalog.Protocol{catalog.IMAP}, cloud: "usgov-high"}, true},
	} {
		in := c.g.input(t)
		arts, _ := Render(in)
		md := string(arts[0].Content)
		url := strings.TrimRight(in.Cloud.AuthorityHost, "/") + "/{tenant}/adminconsent?client_id=" + clientID
		cmd := "mailoauth setup --tenant {tenant} --app-id " + clientID + " --product " + c.g.product
		if got := strings.Contains(md, url) && strings.Contains(md, cmd); got != c.want {
			t.Errorf("%s %s %s: consent URL and command shown %v, want %v", c.g.product, c.g.audience, c.g.cloud, got, c.want)
		}
	}
}

// Only the vendor corrections that apply are on the sheet.
func TestSheetFixesOnlyWhatApplies(t *testing.T) {
	for _, c := range []struct {
		g      goldenCase
		has    string
		hasNot string
	}{
		{goldenCase{product: "extraview", method: "auth-code", protocols: []catalog.Protocol{catalog.IMAP}}, "under Microsoft Graph", "POP.AccessUser.All"},
		{goldenCase{product: "extraview", method: "auth-code", protocols: []catalog.Protocol{catalog.POP}}, "POP.AccessUser.All", "offline\\_access, which"},
		{goldenCase{product: "monitor-erp", method: "user-password", protocols: []catalog.Protocol{catalog.EWS}}, "offline\\_access, which the vendor document does not list", "New-ApplicationAccessPolicy"},
		{goldenCase{product: "monitor-erp", method: "client-secret", protocols: []catalog.Protocol{catalog.EWS}}, "New-ApplicationAccessPolicy", "offline\\_access"},
	} {
		arts, _ := Render(c.g.input(t))
		md := string(arts[0].Content)
		if !strings.Contains(md, c.has) || strings.Contains(md, c.hasNot) {
			t.Errorf("%s/%s %v: want %q and not %q", c.g.product, c.g.method, c.g.protocols, c.has, c.hasNot)
		}
	}
}

// Folder names: readable, and different names never share one (issue 10
// item 2: "Почта Agiloft" and "邮件 Agiloft" both became agiloft).
func TestSlugNeverCollides(t *testing.T) {
	hashed := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*-[0-9a-f]{8}$`)
	cases := map[string]string{ // name -> readable part
		"Почта Agiloft":         "pochta-agiloft",
		"邮件 Agiloft":            "agiloft",
		"Ä/../x":                "a-x",
		"Müller Mail":           "muller-mail",
		"Straße":                "strasse",
		"Ελληνικά mail":         "ellinika-mail",
		"邮件":                    "mail-app",
		strings.Repeat("a", 70): strings.Repeat("a", 51),
	}
	seen := map[string]string{}
	for name, readable := range cases {
		got := Slug(name)
		if !hashed.MatchString(got) || !strings.HasPrefix(got, readable+"-") || len(got) > 60 {
			t.Errorf("Slug(%q) = %q, want %s-<8 hex digits>, at most 60 characters", name, got, readable)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%q and %q share the folder %s", name, other, got)
		}
		seen[got] = name
		if Slug(name) != got {
			t.Errorf("Slug(%q) is not stable", name)
		}
	}
	// The ASCII name a transliteration reads like is another folder.
	if Slug("Pochta Agiloft") == Slug("Почта Agiloft") {
		t.Error("Pochta Agiloft and Почта Agiloft share a folder")
	}
	if DefaultOutDir("Почта Agiloft") == DefaultOutDir("邮件 Agiloft") {
		t.Error("DefaultOutDir collides")
	}
	// ASCII names keep today's folders (existing setups are found again).
	if got := DefaultOutDir("Agiloft mail (OAuth2)"); got != filepath.Join("mailoauth-out", "agiloft-mail-oauth2") {
		t.Errorf("DefaultOutDir changed for an ASCII name: %s", got)
	}
}

func FuzzSlug(f *testing.F) {
	for _, s := range []string{"Почта Agiloft", "邮件 Agiloft", "ExtraView mail (OAuth2)", "", "---", "Ä"} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		sa, sb := Slug(a), Slug(b)
		if len(sa) == 0 || len(sa) > 60 || strings.Trim(sa, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || strings.Contains(sa, "--") ||
			strings.HasPrefix(sa, "-") || strings.HasSuffix(sa, "-") {
			t.Fatalf("Slug(%q) = %q is not a safe name", a, sa)
		}
		// Equal slugs only for names that differ in ASCII case, spacing or punctuation.
		if sa == sb && a != b && !sameASCIIWords(a, b) {
			t.Fatalf("%q and %q share the slug %s", a, b, sa)
		}
	})
}

// sameASCIIWords: both names are the same ASCII letters and digits, in
// order, once case and everything else is ignored, and neither lost
// information (all letters and digits ASCII, short enough).
func sameASCIIWords(a, b string) bool {
	words := func(s string) (string, bool) {
		var out []string
		cur := ""
		for _, r := range s {
			switch {
			case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
				cur += string(unicode.ToLower(r))
			case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
				return "", false
			default:
				if cur != "" {
					out = append(out, cur)
					cur = ""
				}
			}
		}
		if cur != "" {
			out = append(out, cur)
		}
		j := strings.Join(out, "-")
		return j, len(j) <= 60
	}
	wa, oka := words(a)
	wb, okb := words(b)
	return oka && okb && wa == wb
}

// Connect-ExchangeOnline gets the initial domain Graph reports, not a
// guess; without it the tenant domain (older callers), without both none.
func TestConnectUsesTheInitialDomain(t *testing.T) {
	c := goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}}
	for _, x := range []struct{ domain, initial, want string }{
		{"contoso.com", "contoso.onmicrosoft.com", "Connect-ExchangeOnline -Organization 'contoso.onmicrosoft.com' -ShowBanner:$false"},
		{"contoso.onmicrosoft.com", "", "Connect-ExchangeOnline -Organization 'contoso.onmicrosoft.com' -ShowBanner:$false"},
		{"", "", "\nConnect-ExchangeOnline -ShowBanner:$false"},
	} {
		in := c.input(t)
		in.TenantDomain, in.TenantInitialDomain = x.domain, x.initial
		arts, err := Render(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range arts {
			if a.Name == PowerShell && !strings.Contains(string(a.Content), x.want) {
				t.Errorf("%q/%q: script lacks %q", x.domain, x.initial, x.want)
			}
		}
	}
	in := c.input(t)
	in.TenantInitialDomain = "contoso'.onmicrosoft.com"
	if _, err := Render(in); err == nil || !strings.Contains(err.Error(), "TenantInitialDomain") {
		t.Errorf("a bad initial domain: %v", err)
	}
}

// Words for admins (issue 12 item 11): no developer caveats in anything
// mailoauth hands over; they live in docs/settings-json.md.
func TestNoDeveloperWordsInFiles(t *testing.T) {
	bad := []string{"UNVERIFIED", "the document's example", "pick the one configured", "3rd-party", "third-party copies", "TODO"}
	for _, c := range goldenCases() {
		arts, err := Render(c.input(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range arts {
			for _, b := range bad {
				if strings.Contains(string(a.Content), b) {
					t.Errorf("%s/%s: %q", c.name, a.Name, b)
				}
			}
		}
	}
}
