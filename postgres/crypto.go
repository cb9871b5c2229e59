package postgres

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/gotakaro/takaro"
)

// Column encryption happens inside PostgreSQL with pgcrypto's OpenPGP
// symmetric functions, in the same statement that writes or reads the row:
// the key and the plaintext are bind parameters of that statement (never
// SQL text), and ciphertext never leaves this package.
//
// pgpOptions are the options of every pgp_sym_encrypt call, chosen with the
// costs we measured on the 2-vCPU development VM (figures below):
//
//   - cipher-algo=aes256: the strongest cipher pgcrypto offers; next to the
//     key derivation its cost is noise.
//   - s2k-count=1024, the minimum: S2K stretches a password into a key, and
//     POSTGRES_ENCRYPTION_KEY must be a random key of at least
//     MinKeyLength characters, which stretching cannot strengthen.
//     pgcrypto's default (a random 65,536–253,952 iterations) costs
//     0.17–0.30 ms of database CPU per value, 75–85 % of a decrypted
//     single-row read and varying 4x between rows; at 1024 a decrypt costs
//     about 0.05 ms, barely more than not decrypting. The salted S2K mode
//     (the default, 3) is kept, so every value gets its own salt.
//   - compression stays off (the default): compressing a secret before
//     encrypting it leaks its content through the length.
//   - the modification detection code stays on (the default), so tampered
//     ciphertext fails to decrypt instead of decrypting to garbage.
const pgpOptions = "cipher-algo=aes256, s2k-count=1024"

// MinKeyLength is the shortest encryption key accepted, in characters, for
// example `openssl rand -base64 32` (44 characters).
const MinKeyLength = 32

// keyIDContext separates key identifiers from any other use of the key.
const keyIDContext = "takaro/encryption-key-id/v1"

// Key is one encryption key. Its identifier is stored next to every value
// it encrypts; the secret only ever travels as a bind parameter.
type Key struct {
	id     string
	secret string
}

// NewKey checks secret and derives its identifier: the first 64 bits of
// HMAC-SHA256(secret, keyIDContext). The identifier cannot be turned back
// into the key, and it lets a read pick the right key directly.
func NewKey(secret string) (Key, error) {
	if len(secret) < MinKeyLength {
		return Key{}, fmt.Errorf("the encryption key is %d characters long; at least %d random characters are required "+
			"(generate one with: openssl rand -base64 32)", len(secret), MinKeyLength)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(keyIDContext))
	return Key{id: hex.EncodeToString(mac.Sum(nil)[:8]), secret: secret}, nil
}

// ID returns the key's identifier.
func (k Key) ID() string { return k.id }

// String never shows the secret.
func (k Key) String() string { return "key " + k.id }

// LogValue never logs the secret.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Format prints what String does for every verb: fmt would otherwise show
// the secret field for %#v, %d and any struct that holds a Key.
func (k Key) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, k.String()) }

// Keyring is the current encryption key, which encrypts every new value,
// and the previous keys, which only decrypt values not yet re-encrypted.
type Keyring struct {
	keys []Key // the current key first
}

// NewKeyring builds a keyring from the current key and any previous ones.
func NewKeyring(current string, previous ...string) (*Keyring, error) {
	r := &Keyring{}
	for i, secret := range append([]string{current}, previous...) {
		k, err := NewKey(secret)
		if err != nil {
			if i > 0 {
				return nil, fmt.Errorf("previous key %d: %w", i, err)
			}
			return nil, err
		}
		if _, dup := r.Lookup(k.id); !dup {
			r.keys = append(r.keys, k)
		}
	}
	return r, nil
}

// Current returns the key that encrypts new values.
func (r *Keyring) Current() Key { return r.keys[0] }

// Lookup returns the key with the given identifier.
func (r *Keyring) Lookup(id string) (Key, bool) {
	for _, k := range r.keys {
		if k.id == id {
			return k, true
		}
	}
	return Key{}, false
}

// IDs returns the identifiers of every configured key, the current first.
func (r *Keyring) IDs() []string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.id
	}
	return ids
}

// String shows the identifiers of the keys, never their secrets.
func (r *Keyring) String() string { return "keyring [" + strings.Join(r.IDs(), " ") + "]" }

// Format prints what String does for every verb: fmt would otherwise show
// the keys' secret fields, which it reads without calling their methods.
func (r Keyring) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, r.String()) }

// decryptParams returns the key identifiers and secrets as two parallel
// arrays, the parameters of decryptExpr.
func (r *Keyring) decryptParams() (ids, secrets []string) {
	for _, k := range r.keys {
		ids = append(ids, k.id)
		secrets = append(secrets, k.secret)
	}
	return ids, secrets
}

// ErrNoEncryptionKey is returned by every operation that encrypts or
// decrypts when no key is configured.
var ErrNoEncryptionKey = &takaro.Error{
	Code:    takaro.CodeInternal,
	Message: "POSTGRES_ENCRYPTION_KEY is not set: encrypted data can be neither written nor read",
}

func (db *DB) keyring() (*Keyring, error) {
	if db.keys == nil {
		return nil, ErrNoEncryptionKey
	}
	return db.keys, nil
}

// encryptExpr is the SQL that encrypts the text parameter plain with the
// key parameter key, for example encryptExpr("$3", "$4").
func encryptExpr(plain, key string) string {
	return "pgp_sym_encrypt(" + plain + "::text, " + key + "::text, '" + pgpOptions + "')"
}

// decryptExpr is the SQL that decrypts column col with the key whose
// identifier is in column keyIDCol. ids and secrets name the array
// parameters from Keyring.decryptParams. It yields NULL when that key is
// not configured, and raises SQLSTATE 39000 when the key does not fit.
func decryptExpr(col, keyIDCol, ids, secrets string) string {
	return "pgp_sym_decrypt(" + col + ", " + keyExpr(keyIDCol, ids, secrets) + ")"
}

// keyExpr is the SQL that yields the secret of the key whose identifier is
// in column keyIDCol, or NULL when that key is not configured; ids and
// secrets are as for decryptExpr. pgcrypto's functions are strict, so a
// NULL key makes them yield NULL.
func keyExpr(keyIDCol, ids, secrets string) string {
	return "(SELECT k.secret FROM unnest(" + ids + "::text[], " + secrets + "::text[]) AS k(id, secret) WHERE k.id = " + keyIDCol + ")"
}

// DecryptError says that an encrypted value could not be read. It names the
// row and the key identifier, never the key, the SQL or the ciphertext.
type DecryptError struct {
	Resource string // for example "game server"
	ID       string
	KeyID    string
	// Missing is true when the value's key is not configured at all;
	// otherwise the key did not fit (wrong key or corrupt data).
	Missing bool
}

func (e *DecryptError) Error() string {
	if e.Missing {
		return fmt.Sprintf("cannot decrypt the %s %s: it is encrypted with key %s, which is not configured "+
			"(add that key to POSTGRES_ENCRYPTION_KEY_PREVIOUS)", e.Resource, e.ID, e.KeyID)
	}
	return fmt.Sprintf("cannot decrypt the %s %s with key %s: wrong key or corrupt data", e.Resource, e.ID, e.KeyID)
}

// isWrongKeyError reports whether err is pgcrypto refusing to decrypt:
// the key does not fit, or the ciphertext is corrupt.
func isWrongKeyError(err error) bool {
	pgErr := asPgError(err)
	return pgErr != nil && pgErr.Code == sqlstateExternalRoutine && strings.Contains(pgErr.Message, "Wrong key or corrupt data")
}

// hashExpr is the SQL that hashes the text parameter secret with bcrypt at
// the integer parameter cost. The salt is random, so equal secrets get
// different hashes.
func hashExpr(secret, cost string) string {
	return "crypt(" + secret + "::text, gen_salt('bf', " + cost + "::int))"
}

// verifyExpr is the SQL that is true when the text parameter secret matches
// the bcrypt hash in column hashCol, and false or NULL otherwise.
func verifyExpr(secret, hashCol string) string {
	return "(" + hashCol + " = crypt(" + secret + "::text, " + hashCol + "))"
}
