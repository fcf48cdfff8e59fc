package wizard

import (
	"strings"
	"testing"
)

func TestWrapNeverCutsAWordThatFits(t *testing.T) {
	url := "https://ev.example.com/evj/OAuth2?p_action=getTokenReturn&p_option=admin.EmailTokenUtility"
	guid := "4b1f0c36-9a7e-4d52-8e1b-6c3a2f9d7e50"
	in := "Redirect URI: " + url + " for app " + guid + " with IMAP.AccessAsUser.All and --ca-file /tmp/ca.pem"
	for width := 30; width <= 120; width++ {
		lines := wrapLines(in, width)
		joined := strings.Join(lines, "\n")
		for _, v := range []string{guid, "IMAP.AccessAsUser.All", "--ca-file", url} {
			if len(v) <= width && !strings.Contains(joined, v) {
				t.Errorf("width %d: %q cut:\n%s", width, v, joined)
			}
		}
		for _, l := range lines {
			if len([]rune(l)) > width {
				t.Errorf("width %d: line wider: %q", width, l)
			}
		}
	}
	if got := wrapLines("create  app registration", 80); got[0] != "create  app registration" {
		t.Errorf("column spacing lost: %q", got[0])
	}
	if got := hangLines("grant   admin consent for Office 365 Exchange Online: IMAP.AccessAsUser.All SMTP.Send", 8, 60); len(got) != 2 || !strings.HasPrefix(got[1], "        ") {
		t.Errorf("hanging indent: %q", got)
	}
}
