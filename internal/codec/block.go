package codec

import (
	"context"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
)

// BlockUndecodable wraps a worker's data converter so that a payload the
// codec cannot decrypt (a KeyError: no keys, not the key the history was
// written with, another key of that name) never fails a run.
//
// Without it the SDK turns such an error into the run's failure: the
// workflow function's input is decoded before the function runs
// (internal.workflowExecutor.Execute, "unable to decode the workflow
// function input payload"), and a run whose input does not decode fails
// with WorkflowExecutionFailed, for good, with nothing compensated. A
// missing key is the worker's misconfiguration, not the run's fault: here
// decoding panics instead, inside workflow code or the SDK's event
// handling, which the SDK turns into a failed workflow task under its
// panic policy (the default, worker.BlockWorkflow). The server retries the
// task; once a worker with the key takes it, the run goes on where it was.
//
// Where a payload is decoded on behalf of an activity or a client call
// (bound to a Go context through converter.ContextAware.WithContext), the
// error is returned as it is: the activity fails its attempt and is retried
// under its retry policy; nothing there can fail the run by itself.
//
// report is called for every payload that did not decrypt, before the
// panic: log it at error level and count it, so that the blocked run is
// loud. It must be safe for concurrent use.
func BlockUndecodable(dc converter.DataConverter, report func(*KeyError)) converter.DataConverter {
	return &blocking{DataConverter: dc, report: report}
}

// Blocked is the value BlockUndecodable panics with: the workflow task
// fails with it (the SDK's "Workflow panic" log line and the failure's
// message show it) and is retried.
type Blocked struct{ Err error }

func (b Blocked) Error() string {
	return fmt.Sprintf("workflow task blocked until a worker has the payload's key: %v", b.Err)
}

func (b Blocked) Unwrap() error { return b.Err }

type blocking struct {
	converter.DataConverter
	report func(*KeyError)
	// goContext: bound to an activity's or a client call's context, where
	// the error is returned rather than panicked.
	goContext bool
}

var (
	_ converter.ContextAware                          = (*blocking)(nil)
	_ converter.DataConverterWithSerializationContext = (*blocking)(nil)
)

func (b *blocking) FromPayload(p *commonpb.Payload, valuePtr any) error {
	return b.check(b.DataConverter.FromPayload(p, valuePtr))
}

func (b *blocking) FromPayloads(ps *commonpb.Payloads, valuePtrs ...any) error {
	return b.check(b.DataConverter.FromPayloads(ps, valuePtrs...))
}

func (b *blocking) check(err error) error {
	var ke *KeyError
	if err == nil || !errors.As(err, &ke) {
		return err
	}
	ke.InWorkflow = !b.goContext
	if b.report != nil {
		b.report(ke)
	}
	if b.goContext {
		return err
	}
	panic(Blocked{Err: err})
}

func (b *blocking) with(dc converter.DataConverter, goContext bool) *blocking {
	return &blocking{DataConverter: dc, report: b.report, goContext: goContext}
}

// WithWorkflowContext keeps blocking inside workflow code.
func (b *blocking) WithWorkflowContext(ctx converter.WorkflowContext) converter.DataConverter {
	dc := b.DataConverter
	if ca, ok := dc.(converter.ContextAware); ok {
		dc = ca.WithWorkflowContext(ctx)
	}
	return b.with(dc, false)
}

// WithContext returns errors: an activity or a client call.
func (b *blocking) WithContext(ctx context.Context) converter.DataConverter {
	dc := b.DataConverter
	if ca, ok := dc.(converter.ContextAware); ok {
		dc = ca.WithContext(ctx)
	}
	return b.with(dc, true)
}

func (b *blocking) WithSerializationContext(sc converter.SerializationContext) converter.DataConverter {
	return b.with(converter.WithDataConverterSerializationContext(b.DataConverter, sc), b.goContext)
}
