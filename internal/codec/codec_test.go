package codec_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/imagefleet/imagefleet/internal/codec"
)

func keyring(t *testing.T, lines ...string) *codec.Keyring {
	t.Helper()
	kr, err := codec.ParseKeys(strings.Join(lines, "\n"))
	require.NoError(t, err)
	return kr
}

func newLine(t *testing.T) string {
	t.Helper()
	line, err := codec.NewKeyLine()
	require.NoError(t, err)
	return line
}

func TestEncryptsAndDecryptsWithKeyIDInMetadata(t *testing.T) {
	k1 := newLine(t)
	c := codec.New(keyring(t, k1))
	dc := codec.DataConverter(nil, c)

	p, err := dc.ToPayload(map[string]string{"script": "echo SECRET-MARKER"})
	require.NoError(t, err)
	require.Equal(t, codec.EncodingEncrypted, string(p.Metadata[codec.MetadataEncoding]))
	require.Equal(t, strings.Split(k1, "=")[0], string(p.Metadata[codec.MetadataKeyID]))
	require.NotContains(t, string(p.Data), "SECRET-MARKER")
	require.NotContains(t, string(p.Data), "json/plain", "the original encoding is encrypted too")

	var back map[string]string
	require.NoError(t, dc.FromPayload(p, &back))
	require.Equal(t, "echo SECRET-MARKER", back["script"])

	again, err := dc.ToPayload(map[string]string{"script": "echo SECRET-MARKER"})
	require.NoError(t, err)
	require.NotEqual(t, p.Data, again.Data, "a fresh nonce per payload")
}

func TestRotatedOutKeyStillDecrypts(t *testing.T) {
	oldKey, newKey := newLine(t), newLine(t)
	before := codec.New(keyring(t, oldKey))
	encrypted, err := before.Encode([]*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`"old"`)}})
	require.NoError(t, err)

	// Rotation: the new key is appended; it encrypts, the old one still decrypts.
	after := codec.New(keyring(t, oldKey, newKey))
	decoded, err := after.Decode(encrypted)
	require.NoError(t, err)
	require.Equal(t, `"old"`, string(decoded[0].Data))

	fresh, err := after.Encode([]*commonpb.Payload{{Data: []byte(`"new"`)}})
	require.NoError(t, err)
	require.Equal(t, strings.Split(newKey, "=")[0], string(fresh[0].Metadata[codec.MetadataKeyID]))

	// A keyring without the old key names it in its error.
	_, err = codec.New(keyring(t, newKey)).Decode(encrypted)
	require.ErrorContains(t, err, strings.Split(oldKey, "=")[0])
	require.ErrorContains(t, err, "not among the configured keys")
}

func TestPlainPayloadsPassThroughDecode(t *testing.T) {
	c := codec.New(keyring(t, newLine(t)))
	plain := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`{"a":1}`)}
	out, err := c.Decode([]*commonpb.Payload{plain})
	require.NoError(t, err)
	require.Same(t, plain, out[0])

	// So a workflow started with `temporal workflow start --input` decodes.
	var v map[string]int
	require.NoError(t, codec.DataConverter(nil, c).FromPayload(plain, &v))
	require.Equal(t, 1, v["a"])
}

func TestEncodeLeavesEncryptedPayloadsAlone(t *testing.T) {
	c := codec.New(keyring(t, newLine(t)))
	once, err := c.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)
	twice, err := c.Encode(once)
	require.NoError(t, err)
	require.Equal(t, once[0].Data, twice[0].Data)
}

func TestTamperedOrRelabelledPayloadIsRefused(t *testing.T) {
	a, b := newLine(t), newLine(t)
	c := codec.New(keyring(t, a, b))
	enc, err := c.Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)

	flipped := &commonpb.Payload{Metadata: enc[0].Metadata, Data: bytes.Clone(enc[0].Data)}
	flipped.Data[len(flipped.Data)-1] ^= 1
	_, err = c.Decode([]*commonpb.Payload{flipped})
	require.ErrorContains(t, err, "does not decrypt")

	// The key ID is authenticated: naming the other key does not work.
	relabelled := &commonpb.Payload{Metadata: map[string][]byte{}, Data: enc[0].Data}
	for k, v := range enc[0].Metadata {
		relabelled.Metadata[k] = v
	}
	relabelled.Metadata[codec.MetadataKeyID] = []byte(strings.Split(a, "=")[0])
	_, err = c.Decode([]*commonpb.Payload{relabelled})
	require.ErrorContains(t, err, "does not decrypt")
}

func TestWithoutKeysNothingIsEncryptedAndEncryptedPayloadsFailClearly(t *testing.T) {
	enc, err := codec.New(keyring(t, newLine(t))).Encode([]*commonpb.Payload{{Data: []byte("x")}})
	require.NoError(t, err)

	none := codec.New(keyring(t))
	require.False(t, none.Encrypts())
	plain := []*commonpb.Payload{{Data: []byte("x")}}
	out, err := none.Encode(plain)
	require.NoError(t, err)
	require.Equal(t, plain, out)
	_, err = none.Decode(enc)
	require.ErrorContains(t, err, "no keys are configured")
}

func TestParseKeysRejectsBadKeys(t *testing.T) {
	for text, want := range map[string]string{
		"k1":                                "want <id>=<base64 key>",
		"k1=not base64!":                    "not standard base64",
		"k1=c2hvcnQ=":                       "needs 32 bytes",
		"bad id=" + strings.Repeat("A", 44): "key ID",
	} {
		_, err := codec.ParseKeys(text)
		require.ErrorContains(t, err, want, text)
	}
	line := newLine(t)
	_, err := codec.ParseKeys(line + "\n" + line)
	require.ErrorContains(t, err, "appears twice")

	// Comma-separated (an environment variable) and commented lines work.
	kr, err := codec.ParseKeys("# comment, with a comma\n" + newLine(t) + "," + newLine(t))
	require.NoError(t, err)
	require.Equal(t, 2, kr.Len())
}

func TestEnsureKeyFileMakesOneKeyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "codec.keys")
	require.NoError(t, codec.EnsureKeyFile(path))
	first, err := os.ReadFile(path)
	require.NoError(t, err)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	require.NoError(t, codec.EnsureKeyFile(path))
	second, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, first, second, "an existing key is kept")

	kr, err := codec.LoadKeyFile(path)
	require.NoError(t, err)
	require.Equal(t, 1, kr.Len())
}

func TestApplyEncryptsFailureMessages(t *testing.T) {
	var opts client.Options
	codec.Apply(&opts, codec.New(keyring(t, newLine(t))))

	f := opts.FailureConverter.ErrorToFailure(temporal.NewApplicationError("script SECRET-MARKER failed", "ScriptFailed"))
	raw, err := protojson.Marshal(f)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "SECRET-MARKER")
	require.True(t, codec.IsEncrypted(f.GetEncodedAttributes()))
	require.Equal(t, "ScriptFailed", f.GetApplicationFailureInfo().GetType(), "the type stays readable for retry policies")

	var appErr *temporal.ApplicationError
	require.ErrorAs(t, opts.FailureConverter.FailureToError(f), &appErr)
	require.Equal(t, "script SECRET-MARKER failed", appErr.Message())
}
