// Package histstat measures a workflow run's history: its number of events
// and its largest payload, the two figures Temporal limits (a history warns
// at 10,240 events; a payload at 512 KB).
package histstat

import (
	"context"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Stats are a run's history figures.
type Stats struct {
	Events         int
	LargestPayload int // bytes, of any single payload in the history
	// Updates counts the updates the run accepted (the server limits them
	// per run).
	Updates int
	// ContinuedAs is the run this one continued as new as, if it did.
	ContinuedAs string
}

// Measure reads the history of a run (runID "" is the latest).
func Measure(ctx context.Context, c client.Client, workflowID, runID string) (Stats, error) {
	var st Stats
	iter := c.GetWorkflowHistory(ctx, workflowID, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return st, err
		}
		st.Events++
		st.LargestPayload = max(st.LargestPayload, largestPayload(ev.ProtoReflect()))
		if ev.GetWorkflowExecutionUpdateAcceptedEventAttributes() != nil {
			st.Updates++
		}
		if a := ev.GetWorkflowExecutionContinuedAsNewEventAttributes(); a != nil {
			st.ContinuedAs = a.GetNewExecutionRunId()
		}
	}
	return st, nil
}

// MeasureChain measures a run and every run it continued as new as, in order.
func MeasureChain(ctx context.Context, c client.Client, workflowID, runID string) ([]Stats, error) {
	var chain []Stats
	for {
		st, err := Measure(ctx, c, workflowID, runID)
		if err != nil {
			return chain, err
		}
		chain = append(chain, st)
		if st.ContinuedAs == "" {
			return chain, nil
		}
		runID = st.ContinuedAs
	}
}

var payloadName = (&commonpb.Payload{}).ProtoReflect().Descriptor().FullName()

// largestPayload finds the largest Payload message anywhere inside m.
func largestPayload(m protoreflect.Message) int {
	if m.Descriptor().FullName() == payloadName {
		return proto.Size(m.Interface())
	}
	largest := 0
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				largest = max(largest, largestPayload(l.Get(i).Message()))
			}
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					largest = max(largest, largestPayload(mv.Message()))
					return true
				})
			}
		default:
			largest = max(largest, largestPayload(v.Message()))
		}
		return true
	})
	return largest
}
