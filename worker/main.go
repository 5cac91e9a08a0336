// Command worker runs imagefleet's workflows and activities on the imagefleet
// task queue. Temporal connection settings come from the environment
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, temporal.toml
// profiles); the cloud from IMAGEFLEET_CLOUD_ENDPOINT and IMAGEFLEET_ACCOUNT.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/imagefleet/imagefleet/activities"
	"github.com/imagefleet/imagefleet/internal/config"
	"github.com/imagefleet/imagefleet/model"
	"github.com/imagefleet/imagefleet/workflows"
)

func main() {
	pollInterval := flag.Duration("poll-interval", 500*time.Millisecond, "how often long cloud operations are polled")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: worker [flags]\n\nRuns imagefleet's workflows and activities on task queue %q.\n"+
			"Temporal settings: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE.\n"+
			"Cloud settings: %s (default %s), %s.\n\nFlags:\n", model.TaskQueue, config.EnvCloudEndpoint, config.DefaultCloudEndpoint, config.EnvAccount)
		flag.PrintDefaults()
	}
	flag.Parse()
	logger := config.Logger("worker")
	if err := run(*pollInterval); err != nil {
		logger.Error().Err(err).Msg("worker stopped")
		os.Exit(1)
	}
}

func run(pollInterval time.Duration) error {
	logger := config.Logger("worker")
	opts, err := config.TemporalOptions(logger)
	if err != nil {
		return fmt.Errorf("load Temporal client options: %w", err)
	}
	c, err := client.Dial(opts)
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
	}
	defer c.Close()

	cloudClient := config.Cloud()
	// More pollers than the default two: when many paused tasks are resumed
	// at once (or many chunks end together), their tasks are picked up in
	// parallel rather than two per poll round trip.
	pollers := worker.NewPollerBehaviorSimpleMaximum(worker.PollerBehaviorSimpleMaximumOptions{MaximumNumberOfPollers: 8})
	w := worker.New(c, model.TaskQueue, worker.Options{WorkflowTaskPollerBehavior: pollers, ActivityTaskPollerBehavior: pollers})
	workflows.Register(w)
	activities.Register(w, cloudClient, activities.Options{PollInterval: pollInterval})
	logger.Info().Str("taskQueue", model.TaskQueue).Str("cloud", cloudClient.Endpoint()).Str("namespace", opts.Namespace).Msg("worker starting")
	// Run returns on SIGINT/SIGTERM after in-flight tasks finish.
	return w.Run(worker.InterruptCh())
}
