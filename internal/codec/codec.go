package codec

import (
	"crypto/rand"
	"fmt"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload. The encoding value is the one Temporal's
// samples use, so tools that know it recognise an encrypted payload.
const (
	MetadataEncoding  = converter.MetadataEncoding // "encoding"
	EncodingEncrypted = "binary/encrypted"
	MetadataKeyID     = "encryption-key-id"
	MetadataCipher    = "encryption-cipher"
	CipherAES256GCM   = "AES-256-GCM"
)

// Codec is a converter.PayloadCodec that encrypts every payload with the
// keyring's newest key and decrypts payloads made with any of its keys.
//
// The whole original payload (metadata and data) is encrypted, so the
// server sees neither the value nor its encoding. The key ID is bound to the
// ciphertext as additional authenticated data: a payload whose key ID was
// changed does not decrypt.
type Codec struct {
	keys *Keyring
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec for keys. With an empty keyring it encrypts nothing
// and refuses, with a clear error, to decode encrypted payloads.
func New(keys *Keyring) *Codec { return &Codec{keys: keys} }

// Encrypts reports whether the codec encrypts (it has a key).
func (c *Codec) Encrypts() bool { return c.keys.Len() > 0 }

// KeyIDs lists the configured key IDs, oldest first.
func (c *Codec) KeyIDs() []string { return c.keys.IDs() }

// Encode encrypts each payload. Payloads already encrypted are left as they
// are, so encoding twice (a client codec behind a codec server) is harmless.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	key, ok := c.keys.newest()
	if !ok {
		return payloads, nil
	}
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if IsEncrypted(p) {
			out[i] = p
			continue
		}
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode payload %d: %w", i, err)
		}
		nonce := make([]byte, key.aead.NonceSize(), key.aead.NonceSize()+len(plain)+key.aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("encode payload %d: nonce: %w", i, err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:    []byte(key.ID),
				MetadataCipher:   []byte(CipherAES256GCM),
			},
			Data: key.aead.Seal(nonce, nonce, plain, []byte(key.ID)),
		}
	}
	return out, nil
}

// Decode decrypts each encrypted payload; payloads without the encryption
// metadata (plain JSON from `temporal workflow start --input`, say) pass
// through unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !IsEncrypted(p) {
			out[i] = p
			continue
		}
		plain, err := c.open(p)
		if err != nil {
			return nil, fmt.Errorf("decode payload %d: %w", i, err)
		}
		var decoded commonpb.Payload
		if err := proto.Unmarshal(plain, &decoded); err != nil {
			return nil, fmt.Errorf("decode payload %d: decrypted bytes are not a payload: %w", i, err)
		}
		out[i] = &decoded
	}
	return out, nil
}

func (c *Codec) open(p *commonpb.Payload) ([]byte, error) {
	id := string(p.GetMetadata()[MetadataKeyID])
	if cipherName := string(p.GetMetadata()[MetadataCipher]); cipherName != "" && cipherName != CipherAES256GCM {
		return nil, fmt.Errorf("unknown cipher %q", cipherName)
	}
	key, ok := c.keys.lookup(id)
	if !ok {
		if c.keys.Len() == 0 {
			return nil, fmt.Errorf("payload is encrypted with key %q but no keys are configured (set IMAGEFLEET_CODEC_KEYS_FILE or IMAGEFLEET_CODEC_KEYS)", id)
		}
		return nil, fmt.Errorf("payload is encrypted with key %q, which is not among the configured keys (%s)", id, strings.Join(c.keys.IDs(), ", "))
	}
	n := key.aead.NonceSize()
	if len(p.GetData()) < n+key.aead.Overhead() {
		return nil, fmt.Errorf("encrypted payload of %d bytes is too short", len(p.GetData()))
	}
	plain, err := key.aead.Open(nil, p.Data[:n], p.Data[n:], []byte(id))
	if err != nil {
		return nil, fmt.Errorf("payload does not decrypt with key %q (altered, or another key of that name): %w", id, err)
	}
	return plain, nil
}

// IsEncrypted reports whether p carries this codec's encryption metadata.
func IsEncrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[MetadataEncoding]) == EncodingEncrypted
}

// DataConverter wraps base (the SDK's default when nil) so that every
// payload it makes is encrypted by c.
func DataConverter(base converter.DataConverter, c *Codec) converter.DataConverter {
	if base == nil {
		base = converter.GetDefaultDataConverter()
	}
	return converter.NewCodecDataConverter(base, c)
}

// Apply makes a client encrypt with c: its data converter (whatever opts
// carries, or the SDK default) is wrapped by c, and failures carry their
// message and stack trace encrypted too (the failure's type stays readable,
// so retry policies still work). Worker, starter and tests all use it, so
// they share one converter.
func Apply(opts *client.Options, c *Codec) {
	opts.DataConverter = DataConverter(opts.DataConverter, c)
	opts.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          opts.DataConverter,
		EncodeCommonAttributes: c.Encrypts(),
	})
}
