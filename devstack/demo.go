package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/imagefleet/imagefleet/cloud"
	"github.com/imagefleet/imagefleet/internal/stack"
	"github.com/imagefleet/imagefleet/model"
)

// demoRegions are the regions the demo publishes to: four zones, so copy
// times differ.
var demoRegions = []string{"cn-shanghai", "cn-beijing", "ap-southeast-1", "ap-northeast-1", "eu-central-1", "us-west-1"}

// demo runs the demo scenario on the running stack, or on one it starts and
// stops itself.
func demo(ctx context.Context, s *stack.Stack, logFile, starter string) error {
	if !s.Running() {
		if err := checkPorts(s); err != nil {
			return err
		}
		// The stack's own logs would drown the demo's output: they go to a file.
		if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
			return err
		}
		f, err := os.Create(logFile)
		if err != nil {
			return err
		}
		defer f.Close()
		s.SetLog(f)
		fmt.Printf("Starting the local stack for the demo (logs: %s; `go tool task up` keeps one running)…\n", logFile)
		defer s.Stop()
		if err := s.Start(ctx); err != nil {
			return err
		}
	}
	return demoScenario(ctx, s, starter, os.Stdout)
}

// demoScenario publishes a new version of a package to six regions with the
// starter, as a user would, while the cloud throttles one region (injected
// through the cloud's admin API); it prints the region→image table and the
// Web UI link, then shows that the published version is locked.
func demoScenario(ctx context.Context, s *stack.Stack, starter string, out io.Writer) error {
	// A fresh version each run: published versions are locked.
	spec := model.DistributeSpec{
		Package:      "demo_webapp",
		Version:      "v" + time.Now().UTC().Format("20060102_150405"),
		Description:  "Demo web application image, published by go tool task demo",
		Tags:         map[string]string{"team": "platform", "app": "webapp"},
		SourceRegion: "cn-hangzhou",
		SourceImage:  "m-webapp-v1",
		Regions:      demoRegions,
	}
	// Show resilience: the cloud throttles the first two copies into Frankfurt.
	if _, err := cloudClient(s).Admin().AddFault(ctx, cloud.Fault{
		Kind: cloud.FaultThrottle, Action: "CopyImage", Region: "eu-central-1", Count: 2, RetryAfter: time.Second,
	}); err != nil {
		return fmt.Errorf("inject throttling (is the simulated cloud running?): %w", err)
	}
	fmt.Fprintf(out, "Publishing %s %s from %s/%s to %d regions (CopyImage into eu-central-1 is throttled twice)\n",
		spec.Package, spec.Version, spec.SourceRegion, spec.SourceImage, len(spec.Regions))
	run := exec.CommandContext(ctx, starter, distributeArgs(spec)...)
	run.Env = append(os.Environ(), s.Env()...)
	run.Stdout, run.Stderr = out, os.Stderr
	if err := run.Run(); err != nil {
		return fmt.Errorf("starter distribute: %w", err)
	}
	id := model.DistributeWorkflowID(spec.Package, spec.Version)
	fmt.Fprintf(out, "\nWeb UI: %s/namespaces/default/workflows/%s\n", s.WebUI(), url.PathEscape(id))

	fmt.Fprintf(out, "\nPublishing %s %s again is refused:\n", spec.Package, spec.Version)
	again := exec.CommandContext(ctx, starter, append(distributeArgs(spec), "--wait=false")...)
	again.Env = run.Env
	var stderr bytes.Buffer
	again.Stdout, again.Stderr = io.Discard, &stderr
	err := again.Run()
	msg := strings.TrimPrefix(strings.TrimSpace(stderr.String()), "error: ")
	if ee := (*exec.ExitError)(nil); !errors.As(err, &ee) || ee.ExitCode() != 2 {
		return fmt.Errorf("expected the published version to be refused (exit code 2), got %v: %s", err, msg)
	}
	fmt.Fprintf(out, "  %s\n", msg)
	return nil
}

// distributeArgs is the starter's command line for spec.
func distributeArgs(spec model.DistributeSpec) []string {
	args := []string{"distribute",
		"--package", spec.Package, "--version", spec.Version, "--description", spec.Description,
		"--source-region", spec.SourceRegion, "--source-image", spec.SourceImage,
		"--regions", strings.Join(spec.Regions, ","),
	}
	for k, v := range spec.Tags {
		args = append(args, "--tag", k+"="+v)
	}
	return args
}
