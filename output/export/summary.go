package export

// Setting is one value of the settings sheet, under the product's label.
type Setting struct {
	Section string `json:"section"`
	Name    string `json:"name"`
	Value   string `json:"value"`
	Secret  bool   `json:"secret,omitempty"` // the client secret's field: Value says where it is
}

// Summary is what the wizard's last screen and `--json` show of the export:
// the product's fields in fill-in order and what is left to do by hand. It
// comes from the same sheet as the files, so screen and files agree. The
// secret's value never appears: its field reads "(in settings.md, .env,
// settings.json)".
type Summary struct {
	Settings []Setting `json:"settings"`
	Manual   []string  `json:"manual,omitempty"`
	Warnings []string  `json:"warnings,omitempty"`
}

// Summarize renders the summary of an export.
func Summarize(in Input) (Summary, error) {
	v, err := newView(in)
	if err != nil {
		return Summary{}, err
	}
	sh := v.sheet()
	out := Summary{Manual: sh.Manual, Warnings: sh.Warnings}
	for _, sec := range sh.Sections {
		for _, f := range sec.Fields {
			val := f.Value
			if f.Secret {
				val = "(the client secret: see " + SettingsMD + ", " + DotEnv + " or " + SettingsJSON + ")"
			}
			out.Settings = append(out.Settings, Setting{Section: sec.Title, Name: f.Name, Value: val, Secret: f.Secret})
		}
	}
	return out, nil
}
