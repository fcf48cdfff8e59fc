package export

import (
	"fmt"
	"sort"
)

// A product's part of the export lives in one file of this package (for
// example extraview.go), which registers it here under the product's ID
// from output/product. Everything else in this package is shared: the
// sheet's common parts, settings.json, .env, the Exchange script, the
// manifest and the reminder. Adding a product is its profile in
// output/product plus that one file; TestEveryProductIsRegistered checks
// that no profile lacks one.
type productExport struct {
	// sections are the product's screens or dialogs, in fill-in order.
	sections func(v *view) []section
	// manual are the product's own steps still to do by hand.
	manual func(v *view) []string
	// files are the product's own files (written after the shared ones).
	files func(v *view) []productFile
}

// productFile is one product-specific file; it never holds the secret.
type productFile struct {
	name    string
	content []byte
}

var productExports = map[string]productExport{}

// registerProduct is called from each product file's init.
func registerProduct(id string, p productExport) {
	if _, dup := productExports[id]; dup {
		panic("export: product " + id + " registered twice")
	}
	if p.sections == nil {
		panic("export: product " + id + " registered without sections")
	}
	productExports[id] = p
}

func lookupProductExport(id string) (productExport, error) {
	p, ok := productExports[id]
	if !ok {
		var ids []string
		for k := range productExports {
			ids = append(ids, k)
		}
		sort.Strings(ids)
		return productExport{}, fmt.Errorf("Product: %q has a profile but no export (register it in output/export); exported products: %v", id, ids)
	}
	return p, nil
}
