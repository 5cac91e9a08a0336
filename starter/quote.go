package main

import (
	"strconv"
	"unicode"
)

// shownID is a workflow ID as the starter prints it: as is when every
// character is printable, quoted in Go syntax otherwise, so that a control
// character (distribute/a\x01b/v1_0) is seen and can be typed back, rather
// than acting on the terminal or disappearing from the line.
func shownID(id string) string {
	for _, r := range id {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			return strconv.Quote(id)
		}
	}
	return id
}
