package export

import (
	"strings"
	"testing"
)

func TestSummaryNeverShowsTheSecret(t *testing.T) {
	for _, c := range goldenCases() {
		in := c.input(t)
		sum, err := Summarize(in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(sum.Settings) == 0 {
			t.Errorf("%s: no settings", c.name)
		}
		for _, s := range sum.Settings {
			if in.Secret != "" && strings.Contains(s.Value, in.Secret) {
				t.Errorf("%s: %s shows the secret", c.name, s.Name)
			}
		}
	}
}
