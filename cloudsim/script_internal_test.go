package cloudsim

import "testing"

// item 18: ";" separates statements, as in a shell.
func TestScriptStatementSeparators(t *testing.T) {
	for script, want := range map[string]struct {
		exit   int
		output string
	}{
		"echo a; exit 3":               {3, "a\n"},
		"echo a;exit 3":                {3, "a\n"},
		"echo a && exit 4":             {4, "a\n"},
		"echo a & exit /b 5":           {5, "a\n"},
		`echo "a; b"` + "\nexit 2":     {2, "a; b\n"},
		"echo x; echo y\necho z; exit": {0, "x\ny\nz\n"},
	} {
		exit, output, _ := interpretScript(script)
		if exit != want.exit || output != want.output {
			t.Errorf("%q: exit %d output %q, want %d %q", script, exit, output, want.exit, want.output)
		}
	}
}
