package export

// Setting is one value of the settings sheet, under the product's label.
type Setting struct {
	Section string `json:"section"`
	Name    string `json:"name"`
	Value   string `json:"value"`
	// Secret marks the client secret's field: its Value is only a pointer to
	// the files that hold the secret. A screen that shows the secret's value
	// separately leaves this row out (or puts the value here) instead of
	// showing both.
	Secret bool `json:"secret,omitempty"`
}

// SummarySection is one screen or dialog of the product with its heading,
// so that sections with the same field names (Genesys' smtp-client and
// pop-client) stay apart.
type SummarySection struct {
	Title    string    `json:"title"`
	Settings []Setting `json:"settings"`
}

// Summary is what the wizard's last screen and `--json` show of the export:
// the product's fields in fill-in order and what is left to do by hand. It
// comes from the same sheet as the files, so screen and files agree. The
// secret's value never appears: its field reads "(the client secret: see
// settings.md, .env or settings.json)" and is marked Secret.
type Summary struct {
	// Settings are every section's fields in order (each names its Section).
	Settings []Setting `json:"settings"`
	// Sections are the same fields grouped under their headings.
	Sections []SummarySection `json:"sections"`
	Manual   []string         `json:"manual,omitempty"`
	Warnings []string         `json:"warnings,omitempty"`
}

// SecretPointer is the summary's value for the client secret's field.
const SecretPointer = "(the client secret: see " + SettingsMD + ", " + DotEnv + " or " + SettingsJSON + ")"

// Summarize renders the summary of an export.
func Summarize(in Input) (Summary, error) {
	v, err := newView(in)
	if err != nil {
		return Summary{}, err
	}
	sh := v.sheet()
	out := Summary{Manual: sh.Manual, Warnings: sh.Warnings}
	for _, sec := range sh.Sections {
		ss := SummarySection{Title: sec.Title}
		for _, f := range sec.Fields {
			st := Setting{Section: sec.Title, Name: f.Name, Value: f.Value}
			if f.Secret {
				st.Value, st.Secret = SecretPointer, true
			}
			ss.Settings = append(ss.Settings, st)
			out.Settings = append(out.Settings, st)
		}
		out.Sections = append(out.Sections, ss)
	}
	return out, nil
}
