package export

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// The secret-expiry reminder: an iCalendar file (RFC 5545) with one all-day
// event some days before the client secret expires, each with an alarm, so a
// calendar reminds whoever keeps the product running. It names the app, the
// tenant and the command that renews the secret. It never holds the secret.

// reminderDays are how many days before the expiry the reminders fall.
var reminderDays = []int{30, 7}

// stateFileName is the state file's name in a setup's folder (engine.StateFileName).
const stateFileName = "state.json"

// reminderDates are the reminder days (days before expiry, date) still on or
// after the day of the export; when all have passed, the expiry day itself.
func (v *view) reminderDates() (days []int, dates []time.Time) {
	if !v.m.NeedsSecret || v.in.SecretExpires.IsZero() {
		return nil, nil
	}
	exp := dateOf(v.in.SecretExpires)
	today := dateOf(v.generated())
	for _, d := range reminderDays {
		if at := exp.AddDate(0, 0, -d); !at.Before(today) {
			days, dates = append(days, d), append(dates, at)
		}
	}
	if len(dates) == 0 && !exp.Before(today) {
		days, dates = []int{0}, []time.Time{exp}
	}
	return days, dates
}

func dateOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (v *view) hasReminder() bool {
	_, dates := v.reminderDates()
	return len(dates) > 0
}

// reminderLeadTimes is "30 and 7 days" for the sheet.
func (v *view) reminderLeadTimes() string {
	days, _ := v.reminderDates()
	var s []string
	for _, d := range days {
		s = append(s, fmt.Sprint(d))
	}
	switch len(s) {
	case 0:
		return ""
	case 1:
		if days[0] == 0 {
			return "on the day"
		}
		return s[0] + " days"
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1] + " days"
}

func (v *view) stateFile() string {
	if v.in.StateFile != "" {
		return v.in.StateFile
	}
	return filepath.Join(DefaultOutDir(v.in.AppName), stateFileName)
}

// rotateCommand is the command that renews the secret.
func (v *view) rotateCommand() string { return "mailoauth rotate --state " + shellWord(v.stateFile()) }

// shellWord quotes a path for a POSIX shell when it needs it.
func shellWord(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./:@+,%\\", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

func (v *view) reminder() []byte {
	in := v.in
	days, dates := v.reminderDates()
	var b bytes.Buffer
	prop := func(name, value string) { icsLine(&b, name+":"+value) }
	prop("BEGIN", "VCALENDAR")
	prop("VERSION", "2.0")
	prop("PRODID", "-//mailoauth//client secret reminder//EN")
	prop("CALSCALE", "GREGORIAN")
	prop("METHOD", "PUBLISH")
	tenant := in.TenantID
	if d := in.TenantDomain; d != "" {
		tenant = d + " (" + in.TenantID + ")"
	}
	key := in.SecretKeyID
	if key == "" {
		key = "secret"
	}
	for i, at := range dates {
		when := fmt.Sprintf("in %d days", days[i])
		if days[i] == 0 {
			when = "today"
		}
		summary := fmt.Sprintf("Renew the client secret of \"%s\" (expires %s)", in.AppName, v.expiry())
		desc := fmt.Sprintf("The client secret of the app registration \"%s\" (application ID %s) in the Microsoft 365 tenant %s expires on %s, %s. "+
			"%s stops signing in to the mailboxes when it expires.\n\nRenew it before then:\n  %s\n\n"+
			"or in the Entra admin centre: App registrations > %s > Certificates & secrets > New client secret. "+
			"Then put the new secret's value into %s and delete the old secret.",
			in.AppName, in.ClientID, tenant, v.expiry(), when, v.p.Name, v.rotateCommand(), in.AppName, v.p.Name)
		prop("BEGIN", "VEVENT")
		prop("UID", fmt.Sprintf("%s-%s-%dd@mailoauth", in.ClientID, key, days[i]))
		prop("DTSTAMP", v.generated().Format("20060102T150405Z"))
		icsLine(&b, "DTSTART;VALUE=DATE:"+at.Format("20060102"))
		icsLine(&b, "DTEND;VALUE=DATE:"+at.AddDate(0, 0, 1).Format("20060102"))
		prop("SUMMARY", icsText(summary))
		prop("DESCRIPTION", icsText(desc))
		prop("TRANSP", "TRANSPARENT")
		prop("BEGIN", "VALARM")
		prop("ACTION", "DISPLAY")
		prop("DESCRIPTION", icsText(summary))
		prop("TRIGGER", "PT9H") // 09:00 on the day
		prop("END", "VALARM")
		prop("END", "VEVENT")
	}
	prop("END", "VCALENDAR")
	return b.Bytes()
}

// icsText escapes a TEXT value (RFC 5545 §3.3.11).
var icsEscaper = strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`)

func icsText(s string) string { return icsEscaper.Replace(s) }

// icsLine writes one content line, folded at 75 octets without splitting a
// UTF-8 sequence (§3.1), ended by CRLF.
func icsLine(b *bytes.Buffer, line string) {
	const max = 75
	first := true
	for len(line) > 0 {
		limit := max
		if !first {
			limit = max - 1 // the leading space counts
			b.WriteByte(' ')
		}
		n := len(line)
		if n > limit {
			n = limit
			for n > 0 && !utf8.RuneStart(line[n]) {
				n--
			}
		}
		b.WriteString(line[:n])
		b.WriteString("\r\n")
		line = line[n:]
		first = false
	}
}
