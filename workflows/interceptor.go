package workflows

import (
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"

	"github.com/imagefleet/imagefleet/model"
)

// Interceptors are the worker interceptors imagefleet's workflows need.
func Interceptors() []interceptor.WorkerInterceptor {
	return []interceptor.WorkerInterceptor{&progressFromTheStart{}}
}

// progressFromTheStart makes every run answer `progress` from its first
// workflow task, even one whose input the data converter refused (an
// unknown field, a value of the wrong type): the SDK fails such a run
// before the workflow function starts, so the function's own handler,
// which replaces this one, never exists.
type progressFromTheStart struct {
	interceptor.WorkerInterceptorBase
}

func (*progressFromTheStart) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &progressInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, ctx: ctx}
}

type progressInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	ctx     workflow.Context
	started bool // the workflow function got its input
}

// InputRefused is what `progress` answers for a run whose input could not
// be decoded.
type InputRefused struct {
	Phase string `json:"phase"`
	Error string `json:"error"`
}

func (i *progressInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	if err := i.Next.Init(outbound); err != nil {
		return err
	}
	return outbound.SetQueryHandler(i.ctx, model.QueryProgress, func() (InputRefused, error) {
		if i.started {
			return InputRefused{Phase: "Starting"}, nil
		}
		return InputRefused{Phase: model.PhaseFailed,
			Error: "the input was refused before the run started (an unknown field or a value of the wrong type): the run's failure names it"}, nil
	})
}

func (i *progressInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	i.started = true
	return i.Next.ExecuteWorkflow(ctx, in)
}
