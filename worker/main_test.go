package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/internal/config"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil)
	require.NoError(t, err)
	require.Equal(t, config.DefaultMetricsAddr, o.metricsAddr)
	require.Equal(t, defaultStopTimeout, o.stopTimeout)
	require.True(t, o.metricsDefault)
	o, err = parseFlags([]string{"--metrics-addr", config.DefaultMetricsAddr})
	require.NoError(t, err)
	require.False(t, o.metricsDefault, "an address chosen must be served")

	t.Setenv(config.EnvMetricsAddr, "off")
	t.Setenv(envStopTimeout, "2m")
	o, err = parseFlags(nil)
	require.NoError(t, err)
	require.Empty(t, o.metricsAddr, "off serves no metrics")
	require.Equal(t, 2*time.Minute, o.stopTimeout)

	o, err = parseFlags([]string{"--metrics-addr", "0.0.0.0:9500", "--stop-timeout", "5s"})
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:9500", o.metricsAddr, "flags win over the environment")
	require.Equal(t, 5*time.Second, o.stopTimeout)

	t.Setenv(envStopTimeout, "soon")
	_, err = parseFlags(nil)
	require.ErrorContains(t, err, "IMAGEFLEET_WORKER_STOP_TIMEOUT")
	t.Setenv(envStopTimeout, "")
	_, err = parseFlags([]string{"--stop-timeout", "-1s"})
	require.Error(t, err)
}

func TestRegisterSearchAttributesSetting(t *testing.T) {
	o, err := parseFlags(nil)
	require.NoError(t, err)
	require.True(t, o.registerSA, "registers missing search attributes by default")
	o, err = parseFlags([]string{"--register-search-attributes=false"})
	require.NoError(t, err)
	require.False(t, o.registerSA)
	t.Setenv(envRegisterSA, "false")
	o, err = parseFlags(nil)
	require.NoError(t, err)
	require.False(t, o.registerSA)
	t.Setenv(envRegisterSA, "sometimes")
	_, err = parseFlags(nil)
	require.ErrorContains(t, err, envRegisterSA)
}

// Plain payloads only on purpose: the flag, or a boolean in the environment.
func TestPlaintextPayloadsFlag(t *testing.T) {
	t.Setenv(config.EnvPlaintextPayloads, "")
	o, err := parseFlags(nil)
	require.NoError(t, err)
	require.False(t, o.plaintext)
	o, err = parseFlags([]string{"--plaintext-payloads"})
	require.NoError(t, err)
	require.True(t, o.plaintext)
	allowed, err := config.PlaintextAllowed()
	require.NoError(t, err)
	require.True(t, allowed, "the flag allows it for the worker's client options")

	t.Setenv(config.EnvPlaintextPayloads, "maybe")
	_, err = parseFlags(nil)
	require.ErrorContains(t, err, config.EnvPlaintextPayloads, "a value that is not a boolean is refused before anything starts")
}
