package config

import (
	"context"

	"go.temporal.io/sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// resourceIDHeader is the routing header the SDK adds to every call that
// names a workflow or activity ("workflow:<workflow ID>", ...).
const resourceIDHeader = "temporal-resource-id"

// withPrintableHeaders lets a client work on a run whose workflow ID holds a
// character gRPC cannot carry in a header (a control character, a
// non-ASCII letter). The SDK copies the workflow ID into the
// temporal-resource-id header of each call; gRPC refuses to send such a
// header, so the call fails before it leaves the process: a worker could
// never complete, nor fail, the run's workflow task (the run stayed Running
// with timed-out tasks instead of being refused by its first task), and
// describe, query and cancel of that ID failed. The header is only a
// routing hint, which servers do without (SDKs before 1.50 never sent it):
// an unsendable one is left out, and the call goes out as an older SDK's
// would.
func withPrintableHeaders(opts *client.Options) {
	opts.ConnectionOptions.DialOptions = append(opts.ConnectionOptions.DialOptions,
		grpc.WithChainUnaryInterceptor(dropUnsendableResourceID))
}

// dropUnsendableResourceID is a unary client interceptor that runs after the
// SDK's own (which adds the header) and removes the header when its value
// cannot be sent.
func dropUnsendableResourceID(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if md, ok := metadata.FromOutgoingContext(ctx); ok {
		if values := md.Get(resourceIDHeader); len(values) > 0 && !allSendable(values) {
			md = md.Copy()
			md.Delete(resourceIDHeader)
			ctx = metadata.NewOutgoingContext(ctx, md)
		}
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// allSendable: gRPC sends a (non-binary) header value only if each of its
// bytes is printable ASCII.
func allSendable(values []string) bool {
	for _, v := range values {
		for i := 0; i < len(v); i++ {
			if v[i] < 0x20 || v[i] > 0x7e {
				return false
			}
		}
	}
	return true
}
