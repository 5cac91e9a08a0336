package config

import (
	"fmt"
	"os"

	"github.com/rs/zerolog"
	"go.temporal.io/sdk/client"

	"github.com/imagefleet/imagefleet/internal/codec"
)

// Payload encryption keys (see internal/codec): a key file, or the keys
// themselves ("<id>=<base64>,…", oldest first; the last one encrypts).
// Never commit either: the local stack makes its own file in .data/.
const (
	EnvCodecKeysFile = "IMAGEFLEET_CODEC_KEYS_FILE"
	EnvCodecKeys     = "IMAGEFLEET_CODEC_KEYS"
	// EnvCodecEndpoint is the codec server's URL (for the links and the
	// temporal CLI commands the starter prints).
	EnvCodecEndpoint = "IMAGEFLEET_CODEC_ENDPOINT"
	// EnvCodecToken is the bearer token the codec server asks for.
	EnvCodecToken = "IMAGEFLEET_CODEC_TOKEN"
)

// CodecKeys loads the payload keys from IMAGEFLEET_CODEC_KEYS_FILE or
// IMAGEFLEET_CODEC_KEYS (both set is an error: which one wins would be a
// guess). Neither set gives an empty keyring: nothing is encrypted.
func CodecKeys() (*codec.Keyring, error) {
	file, inline := os.Getenv(EnvCodecKeysFile), os.Getenv(EnvCodecKeys)
	switch {
	case file != "" && inline != "":
		return nil, fmt.Errorf("set %s or %s, not both", EnvCodecKeysFile, EnvCodecKeys)
	case file != "":
		return codec.LoadKeyFile(file)
	case inline != "":
		kr, err := codec.ParseKeys(inline)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvCodecKeys, err)
		}
		return kr, nil
	}
	return codec.NewKeyring()
}

// withPayloadCodec makes the client options encrypt payloads with the
// configured keys, around whatever data converter opts already carries. A
// process without keys sends plain payloads (and says so), and fails
// clearly on an encrypted one.
func withPayloadCodec(opts *client.Options, l zerolog.Logger) error {
	keys, err := CodecKeys()
	if err != nil {
		return err
	}
	c := codec.New(keys)
	codec.Apply(opts, c)
	if ids := c.KeyIDs(); len(ids) > 0 {
		l.Info().Str("encryptKey", ids[len(ids)-1]).Int("keys", len(ids)).Msg("payloads are encrypted (AES-256-GCM)")
	} else {
		l.Warn().Msgf("payloads are NOT encrypted: set %s or %s", EnvCodecKeysFile, EnvCodecKeys)
	}
	return nil
}
