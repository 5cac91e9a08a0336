package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
)

// upsertSpy records the names of the search attributes a run sets.
type upsertSpy struct {
	interceptor.WorkerInterceptorBase
	names []string
}

func (s *upsertSpy) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &upsertSpyInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, spy: s}
}

type upsertSpyInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	spy *upsertSpy
}

func (in *upsertSpyInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return in.Next.Init(&upsertSpyOutbound{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}, spy: in.spy})
}

type upsertSpyOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	spy *upsertSpy
}

func (out *upsertSpyOutbound) UpsertTypedSearchAttributes(ctx workflow.Context, updates ...temporal.SearchAttributeUpdate) error {
	sa := temporal.NewSearchAttributes(updates...)
	for _, key := range []temporal.SearchAttributeKeyKeyword{model.SAOperation, model.SAState, model.SAPackage, model.SAVersion} {
		if sa.ContainsKey(key) {
			out.spy.names = append(out.spy.names, key.GetName())
		}
	}
	return out.Next.UpsertTypedSearchAttributes(ctx, updates...)
}

// TestRunLeavesOutUnregisteredSearchAttributes: a run on a namespace that
// lacks some of imagefleet's search attributes (as the worker found) sets
// only the others, and completes: setting one the namespace lacks would
// have the server fail every workflow task of the run.
func TestRunLeavesOutUnregisteredSearchAttributes(t *testing.T) {
	SetUnregisteredSearchAttributes(func() []string { return []string{model.SAPackage.GetName(), model.SAState.GetName()} })
	defer SetUnregisteredSearchAttributes(func() []string { return nil })
	env := newDistributionEnv(t)
	spy := &upsertSpy{}
	env.SetWorkerOptions(worker.Options{Interceptors: append(Interceptors(), spy)})
	env.execute(validSpec())
	require.NoError(t, env.GetWorkflowError())
	require.Contains(t, spy.names, model.SAOperation.GetName())
	require.Contains(t, spy.names, model.SAVersion.GetName())
	require.NotContains(t, spy.names, model.SAPackage.GetName())
	require.NotContains(t, spy.names, model.SAState.GetName())

	// With every attribute registered, every one is set.
	SetUnregisteredSearchAttributes(func() []string { return nil })
	env = newDistributionEnv(t)
	spy = &upsertSpy{}
	env.SetWorkerOptions(worker.Options{Interceptors: append(Interceptors(), spy)})
	env.execute(validSpec())
	require.NoError(t, env.GetWorkflowError())
	require.Subset(t, spy.names, []string{model.SAOperation.GetName(), model.SAVersion.GetName(), model.SAPackage.GetName(), model.SAState.GetName()})
}
