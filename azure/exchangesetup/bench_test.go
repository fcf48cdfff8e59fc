package exchangesetup

import (
	"testing"

	"github.com/mailoauth/mailoauth/azure/catalog"
)

// BenchmarkInspectAgiloft measures the reads before the review for an
// app-only IMAP + SMTP + EWS setup on two mailboxes, against the simulated
// tenant over real sockets (no latency knob: this is the tool's own cost
// plus loopback TLS); reads/op is the number of cmdlets sent.
func BenchmarkInspectAgiloft(b *testing.B) {
	e := newEnv(b, admin)
	a := e.newApp(b, "Agiloft", "IMAP.AccessAsApp", "SMTP.SendAsApp", "full_access_as_app")
	w := appOnlyWant(a, []catalog.Protocol{catalog.IMAP, catalog.SMTP, catalog.EWS}, helpdesk, mfaUser)
	ctx := ctxT(b)
	reads := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		snap, err := Inspect(ctx, e.cl, w)
		if err != nil {
			b.Fatal(err)
		}
		reads = snap.Reads
	}
	b.ReportMetric(float64(reads), "reads/op")
}

// BenchmarkPlanChanges is the planning alone (no I/O), from one snapshot.
func BenchmarkPlanChanges(b *testing.B) {
	e := newEnv(b, admin)
	a := e.newApp(b, "Agiloft", "IMAP.AccessAsApp")
	w := appOnlyWant(a, []catalog.Protocol{catalog.IMAP, catalog.SMTP, catalog.EWS}, helpdesk, mfaUser)
	snap, err := Inspect(ctxT(b), e.cl, w)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = PlanChanges(w, snap, nil)
	}
}
