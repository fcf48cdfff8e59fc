package e2e

import (
	"os/exec"
	"testing"
)

// BenchmarkStartup measures how long the built binary takes to start and
// answer `mailoauth version`: what an admin waits for before the first
// screen, and what a script pays per call. Figures: BENCHMARKS.md.
func BenchmarkStartup(b *testing.B) {
	bin := binary(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out, err := exec.Command(bin, "version").CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}
