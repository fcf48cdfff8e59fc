package engine

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/sim"
	"github.com/mailoauth/mailoauth/steps"
)

// TestTenantIsReadOnce: sign-in, the namesake check, the mailbox check,
// pre-flight, review and apply of one run read each thing once.
func TestTenantIsReadOnce(t *testing.T) {
	paths := map[string]int{}
	gets, _ := readsBeforeFirstWrite(t, extraViewAnswers(), func(r sim.Request) { paths[r.Method+" "+r.Path]++ })
	for p, n := range paths {
		if n > 1 {
			t.Errorf("%s read %d times before the first write", p, n)
		}
	}
	if gets == 0 || gets > 8 {
		t.Errorf("%d GETs before the first write; want the tenant read once (7 for ExtraView)", gets)
	}
}

// readsBeforeFirstWrite runs one unattended setup through the live engine
// on the simulated tenant and counts the Graph requests sent before the
// first write (issue 15 item 6: "read the tenant once").
func readsBeforeFirstWrite(tb testing.TB, a steps.Answers, seen ...func(sim.Request)) (gets, total int) {
	tb.Helper()
	s, err := sim.Start(sim.Options{AutoApprove: DemoAdmin})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	c := simcloud.Must(tb, s)
	hc, err := c.HTTPClient(nil)
	if err != nil {
		tb.Fatal(err)
	}
	no := false
	a.Test = &no
	l := New(Options{Cloud: c, Tenant: s.Info().TenantID, HTTPClient: hc, BaseDir: tb.TempDir()})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := steps.RunUnattended(ctx, a, l, io.Discard); err != nil {
		tb.Fatal(err)
	}
	wrote := false
	for _, r := range s.Requests() {
		if r.Service != "graph" {
			continue
		}
		total++
		if r.Method != "GET" {
			wrote = true
		}
		if !wrote {
			gets++
			for _, f := range seen {
				f(r)
			}
		}
	}
	return gets, total
}

func extraViewAnswers() steps.Answers {
	return steps.Answers{Product: "extraview", ExtraViewURL: "https://ev.example.com/evj", Mailboxes: steps.List{"helpdesk@contoso.com"}}
}

// BenchmarkReadsBeforeFirstWrite reports the Graph GETs an ExtraView run
// makes before its first write, and its Graph requests in all.
func BenchmarkReadsBeforeFirstWrite(b *testing.B) {
	for i := 0; i < b.N; i++ {
		gets, total := readsBeforeFirstWrite(b, extraViewAnswers())
		b.ReportMetric(float64(gets), "gets-before-write")
		b.ReportMetric(float64(total), "graph-requests")
	}
}
