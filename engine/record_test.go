package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mailoauth/mailoauth/azure/state"
	"github.com/mailoauth/mailoauth/internal/simcloud"
	"github.com/mailoauth/mailoauth/output/export"
	"github.com/mailoauth/mailoauth/sim"
	"github.com/mailoauth/mailoauth/steps"
)

// TestReExportIsTheExport: `mailoauth export` from the state file writes
// what the setup itself wrote, byte for byte apart from the timestamp
// (issue 15 item 2: the two paths had drifted on the "Created" section).
func TestReExportIsTheExport(t *testing.T) {
	for _, a := range []steps.Answers{
		{Product: "agiloft", Mailboxes: steps.List{"helpdesk@contoso.com"}},
		extraViewAnswers(),
		{Product: "genesys", Mailboxes: steps.List{"helpdesk@contoso.com"}, TestPassword: "Demo-Mail-2026!"},
	} {
		t.Run(a.Product, func(t *testing.T) {
			s, err := sim.Start(sim.Options{AutoApprove: DemoAdmin})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c := simcloud.Must(t, s)
			hc, _ := c.HTTPClient(nil)
			base := t.TempDir()
			l := New(Options{Cloud: c, Tenant: s.Info().TenantID, HTTPClient: hc, BaseDir: base})
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out, err := steps.RunUnattended(ctx, a, l, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if out.Export == nil {
				t.Fatal("no export")
			}
			dir := out.Export.Dir
			st, err := state.Load(filepath.Join(dir, StateFileName))
			if err != nil {
				t.Fatal(err)
			}
			secret, _ := SecretFromFolder(dir, st)
			// The timestamp is the one thing allowed to differ: the
			// re-export is given the original's.
			var meta struct {
				GeneratedAt time.Time `json:"generated_at"`
			}
			raw, _ := os.ReadFile(filepath.Join(dir, export.SettingsJSON))
			if err := json.Unmarshal(raw, &meta); err != nil || meta.GeneratedAt.IsZero() {
				t.Fatalf("settings.json generated_at: %v", err)
			}
			in, err := ExportInput(st, filepath.Join(dir, StateFileName), c, secret, meta.GeneratedAt)
			if err != nil {
				t.Fatal(err)
			}
			again := t.TempDir()
			if _, err := export.Write(in, export.Options{OutDir: again}); err != nil {
				t.Fatal(err)
			}
			entries, _ := os.ReadDir(dir)
			compared := 0
			for _, e := range entries {
				name := e.Name()
				if name == StateFileName || name[0] == '.' {
					continue
				}
				want, _ := os.ReadFile(filepath.Join(dir, name))
				got, err := os.ReadFile(filepath.Join(again, name))
				if err != nil {
					t.Errorf("%s: not written again: %v", name, err)
					continue
				}
				if !bytes.Equal(want, got) {
					t.Errorf("%s differs from the setup's own export:\n--- setup\n%s\n--- re-export\n%s", name, want, got)
				}
				compared++
			}
			if compared < 3 {
				t.Fatalf("only %d files compared", compared)
			}
		})
	}
}
