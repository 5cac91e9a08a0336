package config

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

func TestUnsendableResourceIDLeftOut(t *testing.T) {
	sent := func(id string) metadata.MD {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "temporal-namespace", "default", resourceIDHeader, "workflow:"+id)
		var md metadata.MD
		err := dropUnsendableResourceID(ctx, "/m", nil, nil, nil, func(ctx context.Context, _ string, _, _ any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
			md, _ = metadata.FromOutgoingContext(ctx)
			return nil
		})
		require.NoError(t, err)
		return md
	}
	md := sent("distribute/webapp/v1_0_0")
	require.Equal(t, []string{"workflow:distribute/webapp/v1_0_0"}, md.Get(resourceIDHeader), "a printable ID is sent as is")
	for _, id := range []string{"distribute/a\x01b/v1_0", "distribute/caf\u00e9/v1", "distribute/a\x7fb/v1"} {
		md := sent(id)
		require.Empty(t, md.Get(resourceIDHeader), "%q", id)
		require.Equal(t, []string{"default"}, md.Get("temporal-namespace"), "other headers are kept")
	}
}
