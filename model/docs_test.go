package model

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"unicode/utf8"
)

// item 19: the examples in the docs use descriptions the rules accept.
func TestDocsExampleDescriptionsAreValid(t *testing.T) {
	files, err := filepath.Glob("../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatal("no docs", err)
	}
	files = append(files, "../README.md")
	re := regexp.MustCompile(`--description "([^"]*)"`)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			if n := utf8.RuneCountInString(m[1]); n < MinDescriptionLen || n > MaxImageDescriptionLen {
				t.Errorf("%s: description %q has %d characters, the rules want %d–%d", f, m[1], n, MinDescriptionLen, MaxImageDescriptionLen)
			}
		}
	}
}
