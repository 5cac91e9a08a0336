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
			return nil, fmt.Errorf("decode payload %d: %w", i, &KeyError{KeyID: string(p.GetMetadata()[MetadataKeyID]), Reason: ReasonCorrupt,
				msg: fmt.Sprintf("decrypted bytes are not a payload: %v", err)})
		}
		out[i] = &decoded
	}
	return out, nil
}

func (c *Codec) open(p *commonpb.Payload) ([]byte, error) {
	id := string(p.GetMetadata()[MetadataKeyID])
	if cipherName := string(p.GetMetadata()[MetadataCipher]); cipherName != "" && cipherName != CipherAES256GCM {
		return nil, &KeyError{KeyID: id, Reason: ReasonUnknownCipher, msg: fmt.Sprintf("unknown cipher %q", cipherName)}
	}
	key, ok := c.keys.lookup(id)
	if !ok {
		if c.keys.Len() == 0 {
			return nil, &KeyError{KeyID: id, Reason: ReasonNoKeys,
				msg: fmt.Sprintf("payload is encrypted with key %q but no keys are configured (set IMAGEFLEET_CODEC_KEYS_FILE or IMAGEFLEET_CODEC_KEYS)", id)}
		}
		return nil, &KeyError{KeyID: id, Reason: ReasonUnknownKey,
			msg: fmt.Sprintf("payload is encrypted with key %q, which is not among the configured keys (%s)", id, strings.Join(c.keys.IDs(), ", "))}
	}
	n := key.aead.NonceSize()
	if len(p.GetData()) < n+key.aead.Overhead() {
		return nil, &KeyError{KeyID: id, Reason: ReasonCorrupt, msg: fmt.Sprintf("encrypted payload of %d bytes is too short", len(p.GetData()))}
	}
	plain, err := key.aead.Open(nil, p.Data[:n], p.Data[n:], []byte(id))
	if err != nil {
		return nil, &KeyError{KeyID: id, Reason: ReasonWrongKey,
			msg: fmt.Sprintf("payload does not decrypt with key %q (altered, or another key of that name): %v", id, err)}
	}
	return plain, nil
}

// Reasons a payload does not decrypt (KeyError.Reason, and the reason label
// of the worker's imagefleet_payload_decode_blocked_total).
const (
	ReasonNoKeys        = "no_keys"        // the process has no keys at all
	ReasonUnknownKey    = "unknown_key"    // not the key the payload names
	ReasonWrongKey      = "wrong_key"      // a key of that name that does not open it
	ReasonUnknownCipher = "unknown_cipher" // a cipher this codec does not know
	ReasonCorrupt       = "corrupt"        // too short, or not a payload once decrypted
)

// KeyError is an encrypted payload this codec cannot decrypt: it lacks the
// key (or has another key of that name), or the payload is damaged. It is
// never the payload's content being wrong, so a worker treats it as its own
// misconfiguration (see BlockUndecodable), not as a failure of the run.
type KeyError struct {
	KeyID, Reason string
	// InWorkflow: met in workflow code by BlockUndecodable, which then
	// blocks the workflow task (otherwise an activity's attempt or a
	// client call fails with it).
	InWorkflow bool
	msg        string
}

func (e *KeyError) Error() string { return e.msg }

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
	apply(opts, DataConverter(opts.DataConverter, c), c)
}

// ApplyWorker is Apply for a worker: a payload that does not decrypt blocks
// the workflow task instead of failing the run (see BlockUndecodable), and
// report hears of each one.
func ApplyWorker(opts *client.Options, c *Codec, report func(*KeyError)) {
	apply(opts, BlockUndecodable(DataConverter(opts.DataConverter, c), report), c)
}

func apply(opts *client.Options, dc converter.DataConverter, c *Codec) {
	opts.DataConverter = dc
	opts.FailureConverter = temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          dc,
		EncodeCommonAttributes: c.Encrypts(),
	})
}
