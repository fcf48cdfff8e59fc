package export

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// icsProp is one content line of an iCalendar file, unfolded and parsed.
type icsProp struct {
	Name   string
	Params map[string]string
	Value  string
}

// icsComponent is BEGIN:NAME … END:NAME with its properties and children.
type icsComponent struct {
	Name     string
	Props    []icsProp
	Children []*icsComponent
}

func (c *icsComponent) all(name string) []icsProp {
	var out []icsProp
	for _, p := range c.Props {
		if p.Name == name {
			out = append(out, p)
		}
	}
	return out
}

var (
	icsName     = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	icsDate     = regexp.MustCompile(`^\d{8}$`)
	icsUTC      = regexp.MustCompile(`^\d{8}T\d{6}Z$`)
	icsDuration = regexp.MustCompile(`^[+-]?P(\d+W|(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?)$`)
)

// parseICS is a strict reader of RFC 5545: CRLF line ends, lines of at most
// 75 octets, folding by CRLF + one space or tab, name *(;param) : value,
// properly nested components, no control characters but HTAB, and the
// properties each component must have exactly once (§3.4, §3.6.1, §3.6.6).
func parseICS(t *testing.T, data []byte) *icsComponent {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Fatal("ics: does not end with CRLF")
	}
	if !utf8.Valid(data) {
		t.Fatal("ics: not UTF-8")
	}
	raw := strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n")
	var lines []string
	for i, l := range raw {
		if strings.ContainsAny(l, "\r\n") {
			t.Fatalf("ics line %d: bare CR or LF", i+1)
		}
		if len(l) > 75 {
			t.Fatalf("ics line %d: %d octets, more than 75: %q", i+1, len(l), l)
		}
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			if len(lines) == 0 {
				t.Fatal("ics: continuation line first")
			}
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	var stack []*icsComponent
	var root *icsComponent
	for _, l := range lines {
		p := parseProp(t, l)
		switch p.Name {
		case "BEGIN":
			c := &icsComponent{Name: p.Value}
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.Children = append(top.Children, c)
			} else if root != nil {
				t.Fatal("ics: two top-level components")
			} else {
				root = c
			}
			stack = append(stack, c)
		case "END":
			if len(stack) == 0 || stack[len(stack)-1].Name != p.Value {
				t.Fatalf("ics: END:%s does not close the open component", p.Value)
			}
			stack = stack[:len(stack)-1]
		default:
			if len(stack) == 0 {
				t.Fatalf("ics: property %s outside a component", p.Name)
			}
			top := stack[len(stack)-1]
			top.Props = append(top.Props, p)
		}
	}
	if len(stack) != 0 || root == nil || root.Name != "VCALENDAR" {
		t.Fatal("ics: not one complete VCALENDAR")
	}
	once := func(c *icsComponent, names ...string) {
		for _, n := range names {
			if got := len(c.all(n)); got != 1 {
				t.Fatalf("ics: %s has %s %d times, want once", c.Name, n, got)
			}
		}
	}
	once(root, "VERSION", "PRODID")
	if root.all("VERSION")[0].Value != "2.0" {
		t.Fatal("ics: VERSION is not 2.0")
	}
	uids := map[string]bool{}
	for _, ev := range root.Children {
		if ev.Name != "VEVENT" {
			t.Fatalf("ics: unexpected component %s", ev.Name)
		}
		once(ev, "UID", "DTSTAMP", "DTSTART", "SUMMARY")
		if uid := ev.all("UID")[0].Value; uids[uid] {
			t.Fatalf("ics: UID %s twice", uid)
		} else {
			uids[uid] = true
		}
		if !icsUTC.MatchString(ev.all("DTSTAMP")[0].Value) {
			t.Fatalf("ics: DTSTAMP %q is not a UTC date-time", ev.all("DTSTAMP")[0].Value)
		}
		start := ev.all("DTSTART")[0]
		if start.Params["VALUE"] != "DATE" || !icsDate.MatchString(start.Value) {
			t.Fatalf("ics: DTSTART %+v is not a DATE", start)
		}
		s, err := time.Parse("20060102", start.Value)
		if err != nil {
			t.Fatalf("ics: DTSTART %q: %v", start.Value, err)
		}
		if ends := ev.all("DTEND"); len(ends) == 1 {
			e, err := time.Parse("20060102", ends[0].Value)
			if err != nil || ends[0].Params["VALUE"] != "DATE" || !e.After(s) {
				t.Fatalf("ics: DTEND %+v is not a DATE after DTSTART", ends[0])
			}
		}
		for _, name := range []string{"SUMMARY", "DESCRIPTION"} {
			for _, p := range ev.all(name) {
				checkText(t, p.Value)
			}
		}
		for _, al := range ev.Children {
			if al.Name != "VALARM" {
				t.Fatalf("ics: %s inside VEVENT", al.Name)
			}
			once(al, "ACTION", "TRIGGER")
			if al.all("ACTION")[0].Value == "DISPLAY" {
				once(al, "DESCRIPTION")
			}
			if !icsDuration.MatchString(al.all("TRIGGER")[0].Value) {
				t.Fatalf("ics: TRIGGER %q is not a duration", al.all("TRIGGER")[0].Value)
			}
		}
	}
	return root
}

func parseProp(t *testing.T, l string) icsProp {
	t.Helper()
	for _, r := range l {
		if r < 0x20 && r != '\t' || r == 0x7f {
			t.Fatalf("ics: control character in %q", l)
		}
	}
	// The name and parameters end at the first ':' outside a quoted parameter value.
	inQuote, colon := false, -1
	for i, r := range l {
		if r == '"' {
			inQuote = !inQuote
		}
		if r == ':' && !inQuote {
			colon = i
			break
		}
	}
	if colon < 0 {
		t.Fatalf("ics: no ':' in %q", l)
	}
	head, value := l[:colon], l[colon+1:]
	parts := strings.Split(head, ";")
	p := icsProp{Name: strings.ToUpper(parts[0]), Params: map[string]string{}, Value: value}
	if !icsName.MatchString(p.Name) {
		t.Fatalf("ics: bad property name in %q", l)
	}
	for _, kv := range parts[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || !icsName.MatchString(k) {
			t.Fatalf("ics: bad parameter %q in %q", kv, l)
		}
		p.Params[strings.ToUpper(k)] = v
	}
	return p
}

// checkText: a TEXT value escapes \ ; , and line breaks (§3.3.11).
func checkText(t *testing.T, v string) {
	t.Helper()
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if i+1 >= len(v) || !strings.ContainsRune(`\;,nN`, rune(v[i+1])) {
				t.Fatalf("ics: bad escape in TEXT %q", v)
			}
			i++
		case ';', ',':
			t.Fatalf("ics: unescaped %q in TEXT %q", v[i], v)
		}
	}
}

func unescapeText(v string) string {
	return strings.NewReplacer(`\\`, `\`, `\;`, ";", `\,`, ",", `\n`, "\n", `\N`, "\n").Replace(v)
}

// TestReminderIsValidICS: the reminder parses with a strict RFC 5545 reader,
// falls 30 and 7 days before the expiry, and names the app, the tenant and
// the command that renews the secret; never the secret.
func TestReminderIsValidICS(t *testing.T) {
	in := goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}}.input(t)
	in.AppName = `Agiloft; mail, "EU" \ Почта`
	in.StateFile = "/srv/mail oauth/agiloft/state.json"
	arts, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	var ics []byte
	for _, a := range arts {
		if a.Name == Reminder {
			ics = a.Content
			if a.HoldsSecret || bytes.Contains(a.Content, []byte(in.Secret)) || a.Mode != 0o644 {
				t.Errorf("reminder: HoldsSecret %v, mode %v", a.HoldsSecret, a.Mode)
			}
		}
	}
	if ics == nil {
		t.Fatal("no " + Reminder)
	}
	cal := parseICS(t, ics)
	if len(cal.Children) != 2 {
		t.Fatalf("%d events, want 2", len(cal.Children))
	}
	for i, days := range []int{30, 7} {
		ev := cal.Children[i]
		want := in.SecretExpires.AddDate(0, 0, -days).Format("20060102")
		if got := ev.all("DTSTART")[0].Value; got != want {
			t.Errorf("event %d on %s, want %s (%d days before)", i, got, want, days)
		}
		desc := unescapeText(ev.all("DESCRIPTION")[0].Value)
		for _, s := range []string{in.AppName, in.ClientID, in.TenantID, "contoso.com", "mailoauth rotate --state '/srv/mail oauth/agiloft/state.json'", fmt.Sprintf("in %d days", days)} {
			if !strings.Contains(desc, s) {
				t.Errorf("event %d description lacks %q:\n%s", i, s, desc)
			}
		}
		if !strings.Contains(unescapeText(ev.all("SUMMARY")[0].Value), in.AppName) {
			t.Errorf("summary lacks the app name")
		}
	}
	// Deterministic for the same input.
	again, _ := Render(in)
	for _, a := range again {
		if a.Name == Reminder && !bytes.Equal(a.Content, ics) {
			t.Error("the reminder differs between two renders of the same input")
		}
	}
}

// A secret that expires within 7 days gets one reminder on the day; no
// secret, no reminder.
func TestReminderDates(t *testing.T) {
	in := goldenCase{product: "agiloft", method: "client-credentials", protocols: []catalog.Protocol{catalog.EWS}}.input(t)
	in.SecretExpires = in.GeneratedAt.AddDate(0, 0, 3)
	arts, _ := Render(in)
	found := false
	for _, a := range arts {
		if a.Name == Reminder {
			found = true
			if cal := parseICS(t, a.Content); len(cal.Children) != 1 || cal.Children[0].all("DTSTART")[0].Value != in.SecretExpires.Format("20060102") {
				t.Errorf("short expiry: %s", a.Content)
			}
		}
	}
	if !found {
		t.Error("short expiry: no reminder")
	}
	g := goldenCase{product: "genesys", method: "ropc", protocols: []catalog.Protocol{catalog.IMAP}}.input(t)
	arts, _ = Render(g)
	for _, a := range arts {
		if a.Name == Reminder {
			t.Error("a public client without a secret got a reminder")
		}
	}
}

func TestICSFolding(t *testing.T) {
	var b bytes.Buffer
	long := "DESCRIPTION:" + strings.Repeat("Почта ", 40)
	icsLine(&b, long)
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\r\n"), "\r\n") {
		if len(l) > 75 || !utf8.ValidString(l) {
			t.Fatalf("folded line %q: %d octets", l, len(l))
		}
	}
	if got := strings.ReplaceAll(b.String(), "\r\n ", ""); got != long+"\r\n" {
		t.Errorf("unfolds to %q", got)
	}
}
