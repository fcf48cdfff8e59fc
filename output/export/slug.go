package export

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// DefaultOutDir is ./mailoauth-out/<Slug(app name)>.
func DefaultOutDir(appName string) string {
	return filepath.Join("mailoauth-out", Slug(appName))
}

// slugMax is the longest slug, hash included.
const slugMax = 60

// Slug makes a readable folder or object name from an app name: lowercase
// ASCII letters, digits and single dashes. Letters with diacritics lose
// them (é → e), Cyrillic and Greek are transliterated (Почта → pochta),
// other scripts are dropped; spaces and punctuation become dashes.
//
// Different names never share a folder: when the slug lost information
// (any letter or digit that is not ASCII, or a name cut to length) it ends
// with the first 8 hex digits of the SHA-256 of the exact name, so
// "Почта Agiloft" is pochta-agiloft-… and "邮件 Agiloft" agiloft-…, each
// its own. Names that differ only in letter case, spacing or punctuation
// (which a person reads as the same name) share one; the engine's identity
// check (the state file's app ID) refuses a different app there.
func Slug(s string) string {
	var b strings.Builder
	lossy, dash := false, false
	sep := func() {
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	write := func(ascii string) {
		b.WriteString(ascii)
		dash = false
	}
	for _, r := range norm.NFD.String(s) {
		switch {
		case r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			write(string(unicode.ToLower(r)))
		case unicode.Is(unicode.Mn, r):
			lossy = true // a diacritic of the letter before: é → e
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			lossy = true
			if t, ok := translit[unicode.ToLower(r)]; ok {
				write(t)
			}
		default:
			sep()
		}
	}
	body := strings.Trim(b.String(), "-")
	max := slugMax
	if lossy {
		max = slugMax - 9 // "-" + 8 hex digits
	}
	if len(body) > max {
		body, lossy = strings.TrimRight(body[:max], "-"), true
		if len(body) > slugMax-9 {
			body = strings.TrimRight(body[:slugMax-9], "-")
		}
	}
	if body == "" {
		body = "mail-app"
	}
	if !lossy {
		return body
	}
	sum := sha256.Sum256([]byte(s))
	return body + "-" + hex.EncodeToString(sum[:4])
}

// translit spells letters that have no ASCII base letter (after the
// diacritics are taken off) the common way: German, Nordic and other Latin
// letters, Cyrillic (Russian and Ukrainian, BGN/PCGN-like) and Greek.
var translit = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ð': "d", 'þ': "th", 'ł': "l", 'ı': "i", 'ħ': "h", 'ŋ': "ng",
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ж': "zh", 'з': "z", 'и': "i", 'й': "y", 'к': "k",
	'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u", 'ф': "f", 'х': "kh",
	'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch", 'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu", 'я': "ya",
	'є': "ye", 'і': "i", 'ї': "yi", 'ґ': "g", 'ў': "u", 'ђ': "dj", 'ј': "j", 'љ': "lj", 'њ': "nj", 'ћ': "c", 'џ': "dz",
	'α': "a", 'β': "v", 'γ': "g", 'δ': "d", 'ε': "e", 'ζ': "z", 'η': "i", 'θ': "th", 'ι': "i", 'κ': "k", 'λ': "l",
	'μ': "m", 'ν': "n", 'ξ': "x", 'ο': "o", 'π': "p", 'ρ': "r", 'σ': "s", 'ς': "s", 'τ': "t", 'υ': "y", 'φ': "f",
	'χ': "ch", 'ψ': "ps", 'ω': "o",
}
