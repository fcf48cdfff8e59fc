package engine

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mailoauth/mailoauth/azure/provision"
	"github.com/mailoauth/mailoauth/output/safefile"
)

// SecretFileName is the custody file: a new client secret's value goes
// there (0600) the moment Graph returns it, before anything else can fail,
// so no ending of a run — finish, error, Ctrl-C, SIGTERM, a full disk at
// export — loses it. A successful export that writes the secret into the
// settings files removes it; otherwise it stays, and every ending says so.
const SecretFileName = "client-secret.txt"

// custody keeps new secrets in the setup's folder.
type custody struct {
	dir string
	// interactive: when the file cannot be written, the value may still be
	// shown once on the terminal (so the secret is kept on the app).
	interactive bool

	mu sync.Mutex
	// unsaved is a secret no file holds: the UI must show it at once.
	unsaved *provision.Secret
}

func (c *custody) path() string { return filepath.Join(c.dir, SecretFileName) }

// Keep writes the secret's value and what it belongs to.
func (c *custody) Keep(s *provision.Secret) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Client secret value: %s\n", s.Text())
	fmt.Fprintf(&b, "Secret ID (key ID): %s\n", s.KeyID)
	fmt.Fprintf(&b, "Expires: %s\n", s.EndDateTime.Format("2006-01-02"))
	b.WriteString("\nmailoauth wrote this the moment Microsoft returned the secret (it is shown only once).\n")
	b.WriteString("Paste the value into the product; mailoauth export also writes it into settings.md, settings.json and .env.\n")
	err := safefile.EnsureDir(c.dir)
	if err == nil {
		err = safefile.WriteAtomic(c.path(), b.Bytes(), 0o600)
	}
	if err == nil {
		return nil
	}
	if c.interactive {
		c.mu.Lock()
		c.unsaved = s
		c.mu.Unlock()
		return nil
	}
	return fmt.Errorf("writing %s: %w", c.path(), err)
}

// Recall reads a kept value back by key ID.
func (c *custody) Recall(keyID string) (string, bool) {
	return readCustody(c.path(), keyID)
}

// Unsaved is a secret no file could hold, for the UI to show once.
func (c *custody) Unsaved() *provision.Secret {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unsaved
}

// readCustody returns the value in a custody file if its key ID matches.
func readCustody(path, keyID string) (string, bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	var value, id string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "Client secret value: "); ok {
			value = v
		}
		if v, ok := strings.CutPrefix(line, "Secret ID (key ID): "); ok {
			id = v
		}
	}
	if value == "" || !strings.EqualFold(id, keyID) {
		return "", false
	}
	return value, true
}

// releaseCustody removes the custody file once the settings files hold the
// secret; a missing file is fine.
func releaseCustody(dir string) error {
	err := os.Remove(filepath.Join(dir, SecretFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
