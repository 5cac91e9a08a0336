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
