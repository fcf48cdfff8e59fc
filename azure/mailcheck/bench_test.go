package mailcheck

import (
	"context"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/catalog"
	"github.com/mailoauth/mailoauth/azure/token"
	"github.com/mailoauth/mailoauth/sim"
)

// BenchmarkSecretToFirstIMAPLogin measures the time from addPassword to the
// first verified IMAP login (AUTHENTICATE + SELECT INBOX) through Run, with
// the product's default retry pacing, against a simulated replication delay.
// Run: go test -run '^$' -bench SecretToFirstIMAPLogin -benchtime 3x ./azure/mailcheck
func BenchmarkSecretToFirstIMAPLogin(b *testing.B) {
	for _, bc := range []struct {
		name   string
		delays sim.Delays
	}{
		{"no-delay", sim.Delays{}},
		{"secret-3s", sim.Delays{SecretToToken: 3 * time.Second}},
		{"secret-3s+consent-5s", sim.Delays{SecretToToken: 3 * time.Second, Consent: 5 * time.Second}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := startSim(b, sim.Options{AutoApprove: adminUPN, Delays: bc.delays})
			a := signInAdmin(b, s)
			c := simCloud(b, s)
			var total time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ap := a.register(appOptions{flow: catalog.ClientCredentials, protocols: []catalog.Protocol{catalog.IMAP}, exchange: true})
				cfg := config(s, c, ap, catalog.ClientCredentials, catalog.IMAP)
				cfg.ChangedAt = ap.secretAt
				cfg.Retry = token.Retry{Budget: time.Minute}
				b.StartTimer()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				rep := Run(ctx, cfg)
				cancel()
				took := time.Since(ap.secretAt)
				if !rep.OK() {
					b.Fatalf("login failed: %+v", rep.Checks[0].Explanation)
				}
				total += took
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s-secret-to-login/op")
		})
	}
}
