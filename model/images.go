package model

import (
	"fmt"
	"unicode/utf8"
)

// ECS image rules: every image imagefleet creates (copies of a distribution,
// a build's image) must pass them, so specs are checked against them before
// anything is created, and the simulated cloud enforces the same ones.
const (
	MinImageNameLen        = 2
	MaxImageNameLen        = 128
	MaxImageDescriptionLen = 256
	MaxImageTags           = 20
	MaxImageShareAccounts  = 50
)

// CheckImageAttributes returns the problems of a new image's name,
// description and tags; field prefixes the names in the messages (e.g.
// "Destination" gives "DestinationImageName"). An empty name is allowed:
// the cloud picks one.
func CheckImageAttributes(field, name, description string, tags map[string]string) []string {
	var problems []string
	if n := utf8.RuneCountInString(name); name != "" && (n < MinImageNameLen || n > MaxImageNameLen) {
		problems = append(problems, fmt.Sprintf("%sImageName must be %d–%d characters, got %d", field, MinImageNameLen, MaxImageNameLen, n))
	}
	if n := utf8.RuneCountInString(description); n > MaxImageDescriptionLen {
		problems = append(problems, fmt.Sprintf("%sDescription must be at most %d characters, got %d", field, MaxImageDescriptionLen, n))
	}
	if len(tags) > MaxImageTags {
		problems = append(problems, fmt.Sprintf("at most %d tags, got %d", MaxImageTags, len(tags)))
	}
	return problems
}
