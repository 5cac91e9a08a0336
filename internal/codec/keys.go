// Package codec encrypts Temporal payloads with AES-256-GCM and serves the
// codec server protocol (/encode, /decode) that lets the Web UI and the
// temporal CLI show encrypted payloads to people allowed to see them.
//
// Keys form a keyring: the newest key encrypts, every key decrypts, and each
// encrypted payload names its key in its metadata. Keys come from a file or
// an environment variable (see internal/config), never from the repository.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// KeySize is the size of an AES-256 key in bytes.
const KeySize = 32

// Key is one named AES-256 key.
type Key struct {
	ID   string
	aead cipher.AEAD
}

// Keyring holds the configured keys, oldest first: the last one encrypts.
type Keyring struct {
	keys []Key
	byID map[string]Key
}

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// NewKey makes a key from its ID and 32 raw bytes.
func NewKey(id string, secret []byte) (Key, error) {
	if !keyIDPattern.MatchString(id) {
		return Key{}, fmt.Errorf("key ID %q: use 1 to 64 letters, digits, '.', '_' or '-'", id)
	}
	if len(secret) != KeySize {
		return Key{}, fmt.Errorf("key %s: AES-256 needs %d bytes, got %d", id, KeySize, len(secret))
	}
	block, err := aes.NewCipher(secret)
	if err != nil {
		return Key{}, fmt.Errorf("key %s: %w", id, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return Key{}, fmt.Errorf("key %s: %w", id, err)
	}
	return Key{ID: id, aead: aead}, nil
}

// NewKeyring returns a keyring of keys, oldest first. IDs must be unique.
func NewKeyring(keys ...Key) (*Keyring, error) {
	kr := &Keyring{byID: make(map[string]Key, len(keys))}
	for _, k := range keys {
		if _, dup := kr.byID[k.ID]; dup {
			return nil, fmt.Errorf("key ID %s appears twice", k.ID)
		}
		kr.byID[k.ID] = k
		kr.keys = append(kr.keys, k)
	}
	return kr, nil
}

// ParseKeys reads keys written as "<id>=<base64 of 32 bytes>", one per line
// or separated by commas, oldest first. Blank lines and lines starting with
// '#' are ignored.
func ParseKeys(text string) (*Keyring, error) {
	var entries []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, entry := range strings.Split(line, ",") {
			if entry = strings.TrimSpace(entry); entry != "" {
				entries = append(entries, entry)
			}
		}
	}
	var keys []Key
	for n, entry := range entries {
		id, encoded, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("key entry %d: want <id>=<base64 key>", n+1)
		}
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
		if err != nil {
			return nil, fmt.Errorf("key %s: not standard base64: %w", strings.TrimSpace(id), err)
		}
		k, err := NewKey(strings.TrimSpace(id), secret)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return NewKeyring(keys...)
}

// LoadKeyFile reads a key file written in ParseKeys' format.
func LoadKeyFile(path string) (*Keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	kr, err := ParseKeys(string(data))
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	if kr.Len() == 0 {
		return nil, fmt.Errorf("key file %s holds no key", path)
	}
	return kr, nil
}

// Len is the number of keys.
func (kr *Keyring) Len() int {
	if kr == nil {
		return 0
	}
	return len(kr.keys)
}

// IDs lists the key IDs, oldest first.
func (kr *Keyring) IDs() []string {
	if kr == nil {
		return nil
	}
	ids := make([]string, len(kr.keys))
	for i, k := range kr.keys {
		ids[i] = k.ID
	}
	return ids
}

// newest is the key that encrypts; ok is false for an empty keyring.
func (kr *Keyring) newest() (Key, bool) {
	if kr.Len() == 0 {
		return Key{}, false
	}
	return kr.keys[len(kr.keys)-1], true
}

func (kr *Keyring) lookup(id string) (Key, bool) {
	if kr == nil {
		return Key{}, false
	}
	k, ok := kr.byID[id]
	return k, ok
}

// NewKeyLine makes a fresh random key and returns it as a key-file line
// ("<id>=<base64>"). Its ID is the creation time, so IDs sort by age.
func NewKeyLine() (string, error) {
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	id := "k" + time.Now().UTC().Format("20060102T150405.000000000")
	return id + "=" + base64.StdEncoding.EncodeToString(secret), nil
}

// keyFileHeader explains a key file to whoever opens it.
const keyFileHeader = `# imagefleet payload encryption keys (AES-256-GCM). Keep this file secret.
# One "<key-id>=<base64 of 32 bytes>" per line, oldest first: the LAST key
# encrypts new payloads, every key decrypts. To rotate, append a new key
# (codecserver genkey >> this-file) and restart the worker, starter and codec
# server; remove an old key only once no history still holds payloads it
# encrypted (after the namespace's retention period).
`

// EnsureKeyFile creates path with one fresh key unless it exists already
// (the local stack's key, made on first start). The file is readable by its
// owner only.
func EnsureKeyFile(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	line, err := NewKeyLine()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil // made meanwhile by another process of the stack
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteString(keyFileHeader + line + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
