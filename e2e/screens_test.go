package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests drive the built binary in tmux as a first-time admin would,
// at 80x24 and 120x40, and read every screen it draws. For each product
// (and method) they assert, from the captured screens only:
//   - the step header stays on top and the keys at the bottom of every frame;
//   - nothing is written over the screen while it is drawn (a browser
//     opener that prints, like xdg-open without a browser, is on PATH);
//   - no URL, GUID, e-mail address, flag or permission name is cut across
//     two lines (values wider than the whole screen excepted: nothing can
//     show those on one line);
//   - the end screen's first screenful holds the login test's result and,
//     where there is one, the client secret shown only this once;
//   - scrolling reaches the test table, every row, and the cause and fix of
//     every failed login;
//   - the secret is not left on the terminal after the exit.

// screenCase is one product (and method) walked through the demo.
type screenCase struct {
	name    string
	product int // position in the product list
	method  int // position in the method list; -1: the product has one
	// typed answers, by question title.
	typed map[string]string
	// mailbox replaces the demo's default mailbox.
	mailbox string
	secret  bool // the method uses a client secret
	failing bool // logins must fail, with their causes on screen
}

var screenCases = []screenCase{
	{name: "extraview", product: 0, method: -1, typed: map[string]string{"ExtraView instance URL": "https://ev.example.com/evj"}, secret: true},
	{name: "email-this-issue", product: 1, method: -1, typed: map[string]string{"Callback URL from Email This Issue": "https://jira.example.com/plugins/servlet/oauth2/callback"}, secret: true},
	{name: "genesys", product: 2, method: -1},
	{name: "genesys-mfa-user", product: 2, method: -1, mailbox: "mfa.user@contoso.com", failing: true},
	{name: "agiloft", product: 3, method: -1, secret: true},
	{name: "monitor-erp-user-password", product: 4, method: 0},
	{name: "monitor-erp-client-secret", product: 4, method: 1, secret: true},
	{name: "generic-auth-code", product: 5, method: 0, typed: map[string]string{"Redirect URI of your client": "https://app.example.com/oauth2/callback"}, secret: true},
	{name: "generic-ropc", product: 5, method: 1},
	{name: "generic-client-credentials", product: 5, method: 2, secret: true},
	{name: "generic-device-code", product: 5, method: 3},
}

var screenSizes = [][2]int{{80, 24}, {120, 40}}

// onlyCase, when set (MAILOAUTH_E2E_CASE), runs one case: for debugging.
var onlyCase = os.Getenv("MAILOAUTH_E2E_CASE")

func TestEveryProductOnScreen(t *testing.T) {
	t.Parallel()
	bin := binary(t)
	opener := fakeBrowser(t)
	// The sessions mostly wait for the wizard; several run at once.
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, c := range screenCases {
		if onlyCase != "" && c.name != onlyCase {
			continue
		}
		for _, size := range screenSizes {
			name := fmt.Sprintf("%s/%dx%d", c.name, size[0], size[1])
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				t.Run(name, func(t *testing.T) { walkDemo(t, bin, opener, c, size[0], size[1]) })
			}()
		}
	}
	wg.Wait()
}

// fakeBrowser is a folder with an xdg-open that opens nothing and says so
// on stdout and stderr, as xdg-open does on a server without a browser.
func fakeBrowser(t *testing.T) string {
	dir := t.TempDir()
	script := "#!/bin/sh\necho \"FAKE-XDG-OPEN: no browser here for $1\"\necho \"FAKE-XDG-OPEN: stderr too\" >&2\nexit 0\n"
	if err := os.WriteFile(filepath.Join(dir, "xdg-open"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// walkDemo runs `mailoauth demo` for one case at one size and checks
// every screen.
func walkDemo(t *testing.T, bin, opener string, c screenCase, w, h int) {
	dir := t.TempDir()
	env := []string{"PATH=" + opener + ":" + os.Getenv("PATH"), "MAILOAUTH_NO_BROWSER="}
	term := newSizedTerminal(t, dir, env, w, h, bin, "demo", "--no-delay")
	rec := &recorder{width: w}
	driveWizard(t, term, rec, c, func(screen string) bool { return strings.Contains(screen, "Press Enter to finish.") })
	time.Sleep(300 * time.Millisecond) // let the frame settle
	firstDone := mainColumn(term.screen())
	if !rec.contains("The browser opener said: FAKE-XDG-OPEN") {
		t.Error("the browser opener's output was never shown inside the screen")
	}

	// The end: result and secret on the first screenful, then scroll.
	all := append([]string(nil), firstDone...)
	headline := regexp.MustCompile(`Login test: (\d+) of (\d+) logins worked`).FindStringSubmatch(strings.Join(firstDone, "\n"))
	if headline == nil {
		t.Errorf("the login test's result is not on the first screenful:\n%s", strings.Join(firstDone, "\n"))
		headline = []string{"", "0", "0"}
	}
	okN, total := atoi(headline[1]), atoi(headline[2])
	secret := ""
	for i, line := range firstDone {
		if strings.Contains(line, "Client secret value (shown only this once") && i+1 < len(firstDone) {
			secret = strings.TrimSpace(firstDone[i+1])
		}
	}
	if c.secret && secret == "" {
		t.Errorf("the client secret is not on the first screenful:\n%s", strings.Join(firstDone, "\n"))
	}
	all = append(all, rec.scrollDown(term)...)
	text := strings.Join(all, "\n")
	rows := map[string]bool{}
	failedRows := 0
	rowRE := regexp.MustCompile(`^(IMAP|POP3|SMTP|EWS|Graph mail \((?:read|send)\))\s+(?:· )?(\S+@\S+)\s+(?:· )?(ok|failed)\b`)
	for _, line := range all {
		if m := rowRE.FindStringSubmatch(line); m != nil && !rows[m[1]+m[2]] {
			rows[m[1]+m[2]] = true
			if m[3] == "failed" {
				failedRows++
			}
		}
	}
	if len(rows) != total || total == 0 {
		t.Errorf("test table: %d rows reachable, the headline says %d:\n%s", len(rows), total, text)
	}
	causes := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^(\S.*) · (\S+@\S+) failed: \S`).FindAllStringSubmatch(text, -1) {
		causes[m[1]+m[2]] = true
	}
	if len(causes) != failedRows || failedRows != total-okN {
		t.Errorf("%d failed rows, %d causes reachable, headline %d of %d:\n%s", failedRows, len(causes), okN, total, text)
	}
	if failedRows > 0 && !strings.Contains(text, "Fix: ") {
		t.Errorf("failures without a fix:\n%s", text)
	}
	if c.failing != (failedRows > 0) {
		t.Errorf("failing = %v, failed rows = %d:\n%s", c.failing, failedRows, text)
	}
	if secret != "" && strings.Contains(text, "(the client secret: see") {
		t.Errorf("the end screen shows the secret's value and its placeholder:\n%s", text)
	}
	for _, word := range []string{"--mailboxes /", " / mailboxes:", "Vendor document fix"} {
		if rec.contains(word) {
			t.Errorf("a screen shows %q", word)
		}
	}
	// Developers' caveats stay off the screen. One is still there, in the
	// product's EWS caution (output/product words it); any other fails.
	for _, line := range rec.linesWith("UNVERIFIED") {
		if !strings.Contains(line, "against the blog itself") {
			t.Errorf("a screen shows a developer's caveat: %q", line)
		}
	}

	term.send("Enter")
	end := term.waitFor(`\[exit \d+\]`, 20*time.Second)
	want := "[exit 0]"
	if c.failing {
		want = "[exit 3]"
	}
	if !strings.Contains(end, want) {
		t.Errorf("exit: want %s:\n%s", want, end)
	}
	if secret != "" && strings.Contains(term.scrollback(), secret) {
		t.Error("the client secret is left on the terminal after the exit")
	}

	// The files, and the values no screen may cut.
	files, _ := filepath.Glob(filepath.Join(dir, "mailoauth-demo", "*", "*", "settings.json"))
	if len(files) != 1 {
		t.Fatalf("settings.json files: %v", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" && !strings.Contains(string(data), `"`+secret+`"`) {
		t.Errorf("the secret on screen %q is not the one in settings.json", secret)
	}
	for _, p := range rec.problems(jsonValues(data)) {
		t.Error(p)
	}
	if c.name == "genesys" {
		out := filepath.Dir(files[0])
		for _, f := range []string{"settings.md", "settings.html", "genesys-javamail.properties", "genesys-options.ini", "state.json"} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
		if props, _ := os.ReadFile(filepath.Join(out, "genesys-javamail.properties")); !strings.Contains(string(props), "mail.imap.auth.mechanisms=XOAUTH2") {
			t.Errorf("JavaMail properties:\n%s", props)
		}
	}
}

// driveWizard answers the wizard's questions as case c says, accepting
// every other default, until stop(screen); it returns that screen. On the
// demo's device-code screen it first opens the browser (Enter: the fake
// one, which prints), then approves in the terminal.
func driveWizard(t *testing.T, term *terminal, rec *recorder, c screenCase, stop func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	var (
		acted         string // the question last answered
		productChosen bool
		methodChosen  = c.method < 0
		askedBrowser  bool
		approveWait   int
	)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("not done within 2 minutes; last screen:\n%s", rec.last())
		}
		screen := rec.look(term)
		main := mainColumn(screen)
		switch {
		case stop(screen):
			return screen
		case strings.Contains(screen, "[exit "):
			t.Fatalf("the program ended early:\n%s", screen)
		}
		if strings.Contains(screen, "a: approve here") {
			switch {
			case !askedBrowser:
				term.send("Enter")
				askedBrowser = true
			case approveWait >= 0 && (strings.Contains(screen, "The browser opener said") || approveWait > 30):
				term.send("a")
				approveWait = -1
			case approveWait >= 0:
				approveWait++
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		q := question(main, screen)
		if q == "" || q == acted {
			time.Sleep(80 * time.Millisecond)
			continue
		}
		title := strings.SplitN(q, "|", 2)[1]
		switch {
		case !productChosen && strings.Contains(title, "Which product will read or send the mail?"):
			term.sendN("Down", c.product)
			productChosen = true
		case productChosen && !methodChosen && strings.Contains(headerOf(main), "Product"):
			term.sendN("Down", c.method)
			methodChosen = true
		case c.typed[title] != "":
			term.typeText(c.typed[title])
		case c.mailbox != "" && containsLine(main, "┃ > helpdesk@contoso.com"):
			term.sendN("BSpace", 40)
			term.typeText(c.mailbox)
		case title == "Make these changes now?" || title == "Test the login now?":
			term.send("y")
			acted = q
			continue
		}
		term.send("Enter")
		acted = q
	}
}

// scrollDown pages down the body while the screen says there is more
// below, and returns the main column's lines of each page.
func (r *recorder) scrollDown(term *terminal) []string {
	var all []string
	for i := 0; i < 30 && strings.Contains(term.screen(), "more below"); i++ {
		before := term.screen()
		term.send("PageDown")
		for j := 0; j < 20 && term.screen() == before; j++ {
			time.Sleep(50 * time.Millisecond)
		}
		all = append(all, mainColumn(r.look(term))...)
	}
	return all
}

// recorder keeps every distinct screen and checks each frame.
type recorder struct {
	mu      sync.Mutex
	width   int
	screens []string
	seen    map[string]bool
	frame   []string // problems with a frame, at most one per kind
}

func (r *recorder) add(screen string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen[screen] {
		return
	}
	r.seen[screen] = true
	r.screens = append(r.screens, screen)
}

// look captures the screen, records it and checks its frame. A frame that
// looks wrong is looked at again: tmux may capture while a frame is
// being drawn; a problem that stays is real.
func (r *recorder) look(term *terminal) string {
	screen := term.screen()
	r.add(screen)
	if p := frameProblem(screen); p != "" {
		time.Sleep(150 * time.Millisecond)
		if frameProblem(term.screen()) != "" {
			r.mu.Lock()
			if len(r.frame) < 5 {
				r.frame = append(r.frame, p)
			}
			r.mu.Unlock()
		}
	}
	return screen
}

func (r *recorder) last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.screens) == 0 {
		return ""
	}
	return r.screens[len(r.screens)-1]
}

// linesWith are the screen lines that contain s.
func (r *recorder) linesWith(s string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, sc := range r.screens {
		for _, l := range strings.Split(sc, "\n") {
			if strings.Contains(l, s) {
				out = append(out, l)
			}
		}
	}
	return out
}

func (r *recorder) contains(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sc := range r.screens {
		if strings.Contains(sc, s) {
			return true
		}
	}
	return false
}

// uiFooter is the last line of every frame: the keys of the moment.
var uiFooter = regexp.MustCompile(`^(esc back|enter continue|enter quit|ctrl\+c stop|Press Enter to finish\.)`)

// drawnByWizard: the screen is a frame of the full-screen wizard, not
// the terminal before its first frame (where `mailoauth demo` prints its
// opening lines) or after its exit.
func drawnByWizard(screen string) bool {
	return strings.TrimSpace(screen) != "" && !strings.Contains(screen, "[exit ") && !strings.Contains(screen, "Demo: a simulated Microsoft 365 tenant")
}

// frameProblem checks one frame drawn by the wizard: header on top,
// keys at the bottom, nothing written over it.
func frameProblem(screen string) string {
	if !drawnByWizard(screen) {
		return ""
	}
	for _, line := range strings.Split(screen, "\n") {
		if strings.Contains(line, "FAKE-XDG-OPEN") && !strings.Contains(line, "The browser opener said:") {
			return "written over the screen: " + line + "\n" + screen
		}
	}
	main := mainColumn(screen)
	if h := headerOf(main); !strings.HasPrefix(h, "Step ") && !strings.HasPrefix(h, "Done") {
		return "the step header is not on top:\n" + screen
	}
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	if last := strings.TrimSpace(lines[len(lines)-1]); !uiFooter.MatchString(last) {
		return "the keys are not at the bottom (last line " + strconv.Quote(last) + "):\n" + screen
	}
	return ""
}

var (
	guidRE     = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	partGUIDRE = regexp.MustCompile(`(?:^|[\s(])([0-9a-f]{8}-[0-9a-f-]{0,26})$`)
	tokenRE    = regexp.MustCompile(`https?://[^\s"')]+|[\w.+-]+@[\w-]+\.[\w.-]+|--[a-z][a-z-]+`)
)

// unbreakable are names that must stay on one line wherever they appear.
var unbreakable = []string{
	"IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send", "EWS.AccessAsUser.All",
	"IMAP.AccessAsApp", "POP.AccessAsApp", "SMTP.SendAsApp", "full_access_as_app",
	"Mail.Read", "Mail.ReadWrite", "Mail.Send", "User.Read", "offline_access",
	"--resume", "--state", "--cloud", "--authority", "--graph-url", "--ews-url", "--ca-file",
	"exchange-setup.ps1", "settings.md", "Set-CASMailbox", "New-ServicePrincipal", "Add-MailboxPermission",
}

// problems finds values cut across two lines on any screen: the known
// ones, every GUID, URL, address and flag seen whole somewhere, and any
// line ending in the start of a GUID.
func (r *recorder) problems(known []string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]string(nil), r.frame...)
	values := map[string]bool{}
	for _, v := range append(append([]string(nil), known...), unbreakable...) {
		values[v] = true
	}
	for _, s := range r.screens {
		for _, line := range mainColumn(s) {
			for _, v := range guidRE.FindAllString(line, -1) {
				values[v] = true
			}
			for _, v := range tokenRE.FindAllString(line, -1) {
				values[strings.TrimRight(v, ".,;:")] = true
			}
		}
	}
	var vs []string
	for v := range values {
		if len(v) >= 4 && len(v) <= r.width-4 { // wider than the screen: it cannot be whole
			vs = append(vs, v)
		}
	}
	sort.Strings(vs)
	reported := map[string]bool{}
	for _, s := range r.screens {
		if !drawnByWizard(s) {
			continue
		}
		main := mainColumn(s)
		for i := 0; i+1 < len(main); i++ {
			a := strings.TrimRight(strings.TrimPrefix(main[i], "┃ "), " ")
			b := strings.TrimLeft(strings.TrimPrefix(main[i+1], "┃ "), " ")
			if m := partGUIDRE.FindStringSubmatch(a); m != nil && !guidRE.MatchString(m[1]) && !reported[a] {
				reported[a] = true
				out = append(out, fmt.Sprintf("a GUID is cut at the end of %q (next: %q)", a, b))
			}
			for _, v := range vs {
				for k := 2; k < len(v)-1; k++ {
					if !strings.HasSuffix(a, v[:k]) || !strings.HasPrefix(b, v[k:]) {
						continue
					}
					if before := len(a) - k - 1; before >= 0 && !strings.ContainsRune(" \"'(:", rune(a[before])) {
						continue
					}
					if key := v + "|" + a; !reported[key] {
						reported[key] = true
						out = append(out, fmt.Sprintf("%q is cut across two lines:\n  %s\n  %s\non this screen:\n%s", v, main[i], main[i+1], s))
					}
				}
			}
		}
	}
	return out
}

// jsonValues are the single-word string values of settings.json: IDs,
// endpoints, addresses.
func jsonValues(data []byte) []string {
	var doc any
	if json.Unmarshal(data, &doc) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		case string:
			if !strings.ContainsAny(v, " \n") {
				out = append(out, v)
			}
		}
	}
	walk(doc)
	return out
}

// mainColumn is the screen's right-hand column (the current step) when
// the step list is drawn, else the whole screen, without trailing spaces.
func mainColumn(screen string) []string {
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	side := false
	for _, l := range lines {
		if r := []rune(l); len(r) > 37 && r[36] == '│' {
			side = true
			break
		}
	}
	var out []string
	for _, l := range lines {
		r := []rune(l)
		if side {
			if len(r) > 37 && r[36] == '│' {
				l = string(r[38:])
			} else if len(r) > 36 && strings.TrimSpace(string(r[:36])) == "" {
				l = string(r[36:])
			}
		}
		out = append(out, strings.TrimRight(l, " "))
	}
	return out
}

// headerOf is the first non-empty line of the main column.
func headerOf(main []string) string {
	for _, l := range main {
		if strings.TrimSpace(l) != "" {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// question names what the screen asks now: the step and the field's
// title, or the step's note; "" while an action runs.
func question(main []string, screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	footer := strings.TrimSpace(lines[len(lines)-1])
	h := headerOf(main)
	for _, l := range main {
		if strings.HasPrefix(l, "┃ ") && strings.TrimSpace(l) != "┃" {
			return h + "|" + strings.TrimSpace(strings.TrimPrefix(l, "┃ "))
		}
	}
	if strings.HasPrefix(footer, "enter continue") {
		return h + "|note"
	}
	return ""
}

func containsLine(lines []string, s string) bool {
	for _, l := range lines {
		if strings.TrimSpace(l) == s {
			return true
		}
	}
	return false
}

func (term *terminal) sendN(key string, n int) {
	for i := 0; i < n; i++ {
		term.send(key)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
