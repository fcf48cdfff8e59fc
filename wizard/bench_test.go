package wizard

import (
	"context"
	"strings"
	"testing"
)

// BenchmarkView measures one frame of the busiest screen (the end
// summary with every step done): the wizard redraws at most 60 times a
// second, so a frame must stay well under 16ms.
func BenchmarkView(b *testing.B) {
	e := newTestEngine()
	e.ApproveAll()
	var sink strings.Builder
	out, err := Run(context.Background(), e, Options{Accessible: true, Out: &sink, In: strings.NewReader("4\n\n\n\nhelpdesk@contoso.com\n\ny\nn\n")})
	if err != nil {
		b.Fatal(err)
	}
	m := New(context.Background(), e, Options{Out: &sink, NoColor: true})
	m.c.Width, m.c.Height = 120, 40
	m.state.Draft, m.state.Tenant, m.state.Result, m.state.Export = out.Draft, testTenant, out.Result, out.Export
	m.phase, m.step = phaseDone, len(m.all)
	for i := range m.summaries {
		m.summaries[i] = "a summary line that wraps over two lines in the side panel"
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}
