package model

import (
	"strings"

	"github.com/google/uuid"
)

// tokenNamespace scopes imagefleet's client tokens.
var tokenNamespace = uuid.MustParse("6f1c1b0e-2d4a-4c8e-9a57-3b1f0c9e7d21")

// ClientToken returns the idempotency token of one cloud side effect, derived
// from a business key (e.g. workflow ID, first run ID, region and copy
// number). The same parts give the same token, so a retried or replayed call
// never creates a second resource; the result is a UUID, short enough for
// any provider's token limit.
func ClientToken(parts ...string) string {
	return uuid.NewSHA1(tokenNamespace, []byte(strings.Join(parts, "\x00"))).String()
}
