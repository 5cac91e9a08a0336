package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

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

// EnvPlaintextPayloads set to true says, on purpose, that this deployment's
// payloads are not encrypted: a worker or starter without keys then runs and
// sends plain payloads. Unset, a process without keys refuses to start
// (ErrNoPayloadKeys): a worker that lacks them would block every encrypted
// run, a client would store its input in plain where everything else is
// encrypted.
const EnvPlaintextPayloads = "IMAGEFLEET_PLAINTEXT_PAYLOADS"

// ErrNoPayloadKeys: no keys were configured or found, and plain payloads
// were not allowed.
var ErrNoPayloadKeys = errors.New("no payload encryption keys")

// PlaintextAllowed reports whether IMAGEFLEET_PLAINTEXT_PAYLOADS allows a
// process without keys; a value that is not a boolean is an error.
func PlaintextAllowed() (bool, error) {
	v := strings.TrimSpace(os.Getenv(EnvPlaintextPayloads))
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", EnvPlaintextPayloads, v)
	}
	return b, nil
}

// LocalStackKeyFile is the local stack's key file (.data/codec.keys, made
// by `go tool task up`, devstack and the demo) for a process that talks to
// a Temporal server on this machine (hostPort on loopback, or unset), or ""
// when there is none. It looks in IMAGEFLEET_DATA_DIR, then in .data of the
// working directory and each of its parents, then in .data next to the
// folder of the running binary (bin/starter → .data): so bin/starter finds
// the stack's key from anywhere in the clone, with nothing to export. A
// server elsewhere never gets the local key.
func LocalStackKeyFile(hostPort string) string {
	if !loopback(hostPort) {
		return ""
	}
	var dirs []string
	if d := os.Getenv(EnvDataDir); d != "" {
		dirs = append(dirs, d)
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, filepath.Join(d, ".data"))
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		dirs = append(dirs, filepath.Join(filepath.Dir(filepath.Dir(exe)), ".data"))
	}
	for _, d := range dirs {
		f := filepath.Join(d, "codec.keys")
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			if abs, err := filepath.Abs(f); err == nil {
				return abs
			}
			return f
		}
	}
	return ""
}

// EnvDataDir is the local stack's state directory (devstack --data-dir).
const EnvDataDir = "IMAGEFLEET_DATA_DIR"

// loopback reports whether hostPort names this machine (or is unset: the
// SDK's default localhost:7233).
func loopback(hostPort string) bool {
	if hostPort == "" {
		return true
	}
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		host = hostPort
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// PayloadKeys are the keys a worker or starter encrypts with: the
// configured ones (CodecKeys), else the local stack's (LocalStackKeyFile)
// for a server on this machine. source says where they came from. With
// none, it is ErrNoPayloadKeys unless IMAGEFLEET_PLAINTEXT_PAYLOADS allows
// plain payloads (then an empty keyring).
func PayloadKeys(hostPort string) (keys *codec.Keyring, source string, err error) {
	plain, err := PlaintextAllowed()
	if err != nil {
		return nil, "", err
	}
	keys, err = CodecKeys()
	if err != nil || keys.Len() > 0 {
		return keys, "configured", err
	}
	if file := LocalStackKeyFile(hostPort); file != "" {
		keys, err = codec.LoadKeyFile(file)
		if err != nil {
			return nil, "", fmt.Errorf("the local stack's key file: %w", err)
		}
		return keys, file, nil
	}
	if plain {
		return keys, EnvPlaintextPayloads, nil
	}
	return nil, "", fmt.Errorf("%w: set %s (a key file) or %s; the local stack's is .data/codec.keys, found on its own "+
		"from inside the clone; if this deployment's payloads are not encrypted, say so with %s=true",
		ErrNoPayloadKeys, EnvCodecKeysFile, EnvCodecKeys, EnvPlaintextPayloads)
}

// withPayloadCodec makes the client options encrypt payloads with the
// process's keys (PayloadKeys), around whatever data converter opts already
// carries. Without keys it refuses, unless plain payloads are allowed on
// purpose. A worker's converter (report non-nil) blocks the workflow task
// of a payload it cannot decrypt rather than failing its run.
func withPayloadCodec(opts *client.Options, l zerolog.Logger, report func(*codec.KeyError)) error {
	keys, source, err := PayloadKeys(opts.HostPort)
	if err != nil {
		return err
	}
	c := codec.New(keys)
	if report != nil {
		codec.ApplyWorker(opts, c, report)
	} else {
		codec.Apply(opts, c)
	}
	if ids := c.KeyIDs(); len(ids) > 0 {
		l.Info().Str("encryptKey", ids[len(ids)-1]).Int("keys", len(ids)).Str("keysFrom", source).Msg("payloads are encrypted (AES-256-GCM)")
	} else {
		l.Warn().Msgf("payloads are NOT encrypted (%s=true): an encrypted payload met blocks its workflow task", EnvPlaintextPayloads)
	}
	return nil
}
