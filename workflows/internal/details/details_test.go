package details

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDoc(t *testing.T) {
	var d Doc
	d.Para("**%s** — %s", "webapp v1", "Replicating")
	tbl := d.Table("region", "state", "attempts")
	tbl.Row("eu-west-1", "Failed: a|b", 2)
	require.Equal(t, "**webapp v1** — Replicating\n\n| region | state | attempts |\n|---|---|---|\n| eu-west-1 | Failed: a\\|b | 2 |\n", d.String())
}
