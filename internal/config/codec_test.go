package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/imagefleet/imagefleet/internal/codec"
)

func TestCodecKeysFromFileOrEnv(t *testing.T) {
	line, err := codec.NewKeyLine()
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(file, []byte(line+"\n"), 0o600))

	t.Setenv(EnvCodecKeysFile, "")
	t.Setenv(EnvCodecKeys, "")
	kr, err := CodecKeys()
	require.NoError(t, err)
	require.Zero(t, kr.Len(), "no keys: nothing is encrypted")

	t.Setenv(EnvCodecKeysFile, file)
	kr, err = CodecKeys()
	require.NoError(t, err)
	require.Equal(t, 1, kr.Len())

	t.Setenv(EnvCodecKeys, line)
	_, err = CodecKeys()
	require.ErrorContains(t, err, "not both")

	t.Setenv(EnvCodecKeysFile, "")
	t.Setenv(EnvCodecKeys, "broken")
	_, err = CodecKeys()
	require.ErrorContains(t, err, EnvCodecKeys)

	t.Setenv(EnvCodecKeysFile, filepath.Join(t.TempDir(), "missing"))
	t.Setenv(EnvCodecKeys, "")
	_, err = CodecKeys()
	require.ErrorContains(t, err, "read key file")
}

// A process without keys refuses unless plain payloads are allowed on
// purpose; the local stack's key file is found from inside the clone for a
// server on this machine, never for one elsewhere.
func TestPayloadKeysFindTheLocalStackOrRefuse(t *testing.T) {
	t.Setenv(EnvCodecKeysFile, "")
	t.Setenv(EnvCodecKeys, "")
	t.Setenv(EnvDataDir, "")
	t.Setenv(EnvPlaintextPayloads, "")
	clone := t.TempDir()
	t.Chdir(filepath.Join(clone))

	_, _, err := PayloadKeys("127.0.0.1:7233")
	require.ErrorIs(t, err, ErrNoPayloadKeys)
	require.ErrorContains(t, err, EnvPlaintextPayloads)

	t.Setenv(EnvPlaintextPayloads, "yes please")
	_, _, err = PayloadKeys("")
	require.ErrorContains(t, err, EnvPlaintextPayloads)
	t.Setenv(EnvPlaintextPayloads, "true")
	kr, source, err := PayloadKeys("")
	require.NoError(t, err)
	require.Zero(t, kr.Len())
	require.Equal(t, EnvPlaintextPayloads, source)
	t.Setenv(EnvPlaintextPayloads, "")

	// `go tool task up` made .data/codec.keys; the starter runs in a subfolder.
	file := filepath.Join(clone, ".data", "codec.keys")
	require.NoError(t, codec.EnsureKeyFile(file))
	sub := filepath.Join(clone, "docs", "deep")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	t.Chdir(sub)
	for _, hostPort := range []string{"", "localhost:7233", "127.0.0.1:7243", "[::1]:7233"} {
		kr, source, err := PayloadKeys(hostPort)
		require.NoError(t, err, hostPort)
		require.Equal(t, 1, kr.Len())
		require.Equal(t, file, source)
	}
	_, _, err = PayloadKeys("temporal.example.com:7233")
	require.ErrorIs(t, err, ErrNoPayloadKeys, "the local key is not used for a server elsewhere")

	// Configured keys win over the local stack's.
	line, err := codec.NewKeyLine()
	require.NoError(t, err)
	t.Setenv(EnvCodecKeys, line)
	kr, source, err = PayloadKeys("")
	require.NoError(t, err)
	require.Equal(t, "configured", source)
	require.Equal(t, []string{line[:len(line)-45]}, kr.IDs())
}

// The worker logs the namespace it serves: "default" when TEMPORAL_NAMESPACE
// is unset, not "".
func TestTemporalOptionsNameTheDefaultNamespace(t *testing.T) {
	t.Setenv("TEMPORAL_NAMESPACE", "")
	t.Setenv("TEMPORAL_CONFIG_FILE", filepath.Join(t.TempDir(), "none.toml"))
	t.Setenv(EnvCodecKeysFile, "")
	line, err := codec.NewKeyLine()
	require.NoError(t, err)
	t.Setenv(EnvCodecKeys, line)
	opts, err := TemporalOptions(Logger("test"))
	require.NoError(t, err)
	require.Equal(t, "default", opts.Namespace)
	t.Setenv("TEMPORAL_NAMESPACE", "prod")
	opts, err = TemporalOptions(Logger("test"))
	require.NoError(t, err)
	require.Equal(t, "prod", opts.Namespace)
}
