package steps_test

import (
	"context"
	"io"
	"testing"

	. "github.com/mailoauth/mailoauth/steps"
	"github.com/mailoauth/mailoauth/steps/stepstest"
)

func BenchmarkParseAnswers(b *testing.B) {
	data := []byte(productAnswers["generic/cc"] + "app_name: Helpdesk\nsecret_months: 6\ntest: true\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAnswers(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunUnattended measures the steps' own cost for a whole run
// (the engine double answers at once): what mailoauth adds around the
// Graph round trips.
func BenchmarkRunUnattended(b *testing.B) {
	a, err := ParseAnswers([]byte(productAnswers["extraview"]))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RunUnattended(context.Background(), a, stepstest.NewSignedIn(), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
