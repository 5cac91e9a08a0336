package e2e

import (
	"context"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/imagefleet/imagefleet/internal/codec"
)

// newTestCodec makes the package's key file and the codec that reads it.
func newTestCodec(keysFile string) (*codec.Codec, error) {
	if err := codec.EnsureKeyFile(keysFile); err != nil {
		return nil, err
	}
	keys, err := codec.LoadKeyFile(keysFile)
	if err != nil {
		return nil, err
	}
	return codec.New(keys), nil
}

// clientOptions are a test client's options: the same data converter as
// the worker and starter, so that it reads and writes encrypted payloads.
func clientOptions(hostPort string) client.Options {
	opts := client.Options{HostPort: hostPort}
	codec.Apply(&opts, testCodec)
	return opts
}

// decodePayloads decrypts every payload of msg in place (a history before
// it is saved for the replayer, which runs without keys).
func decodePayloads(ctx context.Context, msg proto.Message) error {
	return proxy.VisitPayloads(ctx, msg, proxy.VisitPayloadsOptions{
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return testCodec.Decode(ps)
		},
	})
}
