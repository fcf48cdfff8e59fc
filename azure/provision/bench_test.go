package provision

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkProvision provisions each product-shaped plan against the
// simulator with 100 ms added to every HTTP request, the way a distant
// Graph feels. It reports the sequential write round trips (at most 3 by
// design), all sequential rounds including pre-flight reads, and the Graph
// requests per apply; ns/op is the wall time of one apply after sign-in.
func BenchmarkProvision(b *testing.B) {
	for _, pr := range products() {
		b.Run(pr.name, func(b *testing.B) {
			e := newEnv(b, envOpts{needs: allNeeds(), latency: 100 * time.Millisecond})
			g := e.client(time.Minute, nil)
			var rt, rounds, reqs float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p := pr.plan(b, fmt.Sprintf("bench %s %d", pr.name, i))
				before := e.graphRequests()
				reg, err := Apply(context.Background(), g, p, Options{})
				if err != nil {
					b.Fatal(err)
				}
				rt += float64(reg.RoundTrips)
				rounds += float64(reg.RoundTrips + reg.ReadRounds)
				reqs += float64(e.graphRequests() - before)
			}
			b.ReportMetric(rt/float64(b.N), "roundtrips/op")
			b.ReportMetric(rounds/float64(b.N), "seqrounds/op")
			b.ReportMetric(reqs/float64(b.N), "graphreqs/op")
		})
	}
}

// BenchmarkProvisionRerun is the second run of an applied plan: reads only.
func BenchmarkProvisionRerun(b *testing.B) {
	pr := products()[0]
	e := newEnv(b, envOpts{needs: allNeeds(), latency: 100 * time.Millisecond})
	g := e.client(time.Minute, nil)
	p := pr.plan(b, "bench rerun")
	statePath := e.dir + "/rerun.json"
	if _, err := Apply(context.Background(), g, p, Options{StatePath: statePath}); err != nil {
		b.Fatal(err)
	}
	var rounds float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		reg, err := Apply(context.Background(), g, p, Options{StatePath: statePath})
		if err != nil {
			b.Fatal(err)
		}
		if reg.RoundTrips != 0 {
			b.Fatalf("rerun wrote in %d rounds", reg.RoundTrips)
		}
		rounds += float64(reg.ReadRounds)
	}
	b.ReportMetric(0, "roundtrips/op")
	b.ReportMetric(rounds/float64(b.N), "seqrounds/op")
}
