package model

import (
	"fmt"
	"maps"
	"slices"
	"strings"
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
// the cloud picks one. Names and tags hold no control characters, the
// description none but line breaks and tabs (CheckName, CheckText).
func CheckImageAttributes(field, name, description string, tags map[string]string) []string {
	var problems []string
	if n := utf8.RuneCountInString(name); name != "" && (n < MinImageNameLen || n > MaxImageNameLen) {
		problems = append(problems, fmt.Sprintf("%sImageName must be %d–%d characters, got %d", field, MinImageNameLen, MaxImageNameLen, n))
	}
	if n := utf8.RuneCountInString(description); n > MaxImageDescriptionLen {
		problems = append(problems, fmt.Sprintf("%sDescription must be at most %d characters, got %d", field, MaxImageDescriptionLen, n))
	}
	for _, err := range checkNames(field+"ImageName", name, field+"Description", description) {
		problems = append(problems, err.Error())
	}
	for _, err := range checkTagText(tags) {
		problems = append(problems, err.Error())
	}
	return append(problems, CheckTags(tags, MaxImageTags)...)
}

// Tag rules shared by images and packages.
const (
	MaxTagKeyLen   = 128
	MaxTagValueLen = 128
)

// CheckTags returns the problems of a set of tags: at most limit tags, each
// key 1–128 characters (an empty key, as "--tag =v" gives, is refused), each
// value at most 128.
func CheckTags(tags map[string]string, limit int) []string {
	var problems []string
	if len(tags) > limit {
		problems = append(problems, fmt.Sprintf("at most %d tags, got %d", limit, len(tags)))
	}
	for _, k := range sortedKeys(tags) {
		switch n := utf8.RuneCountInString(k); {
		case n == 0:
			problems = append(problems, fmt.Sprintf("a tag key must not be empty (tag %s)", Quote("="+tags[k])))
		case n > MaxTagKeyLen:
			problems = append(problems, fmt.Sprintf("tag key %.20q… must be at most %d characters, got %d", k, MaxTagKeyLen, n))
		}
		if n := utf8.RuneCountInString(tags[k]); n > MaxTagValueLen {
			problems = append(problems, fmt.Sprintf("the value of tag %s must be at most %d characters, got %d", Quote(k), MaxTagValueLen, n))
		}
	}
	return problems
}

// CheckHelmChart refuses what is not a packaged Helm chart: a .tgz (or
// .tar.gz) file with gzip content, as `helm package` writes it.
func CheckHelmChart(name string, content []byte) error {
	lower := strings.ToLower(name)
	if !strings.HasSuffix(lower, ".tgz") && !strings.HasSuffix(lower, ".tar.gz") {
		return fmt.Errorf("chart %s is not a packaged chart: it must be a .tgz file (helm package)", name)
	}
	if len(content) < 2 || content[0] != 0x1f || content[1] != 0x8b {
		return fmt.Errorf("chart %s is not gzip-compressed: package it with helm package", name)
	}
	return nil
}

// sortedKeys returns m's keys in order: deterministic, so fine in workflow
// code (validation runs there), which workflowcheck cannot tell.
//
//workflowcheck:ignore
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
