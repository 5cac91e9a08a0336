package main

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/imagefleet/imagefleet/internal/config"
)

// newApp returns the app with its tracing set up: every command is one
// trace, whose root span is the command and whose children are its cloud
// calls and the workflow it starts (exported over OTLP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set).
func newApp(ctx context.Context) (*app, error) {
	tel, err := config.NewTelemetry(ctx, "imagefleet-starter", false)
	if err != nil {
		return nil, err
	}
	return &app{tel: tel}, nil
}

// startSpan starts the command's root span; shutdown ends it.
func (a *app) startSpan(ctx context.Context, command string) context.Context {
	if a.tel == nil {
		return ctx
	}
	ctx, span := a.tel.Tracing.Provider().Tracer("imagefleet-starter").Start(ctx, command, trace.WithSpanKind(trace.SpanKindClient))
	a.span = span
	return ctx
}

// shutdown ends the command's span and flushes the spans not yet exported.
func (a *app) shutdown() {
	if a.span != nil {
		a.span.End()
		a.span = nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.tel.Shutdown(ctx)
}
