package takaro

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"hash/crc32"
	"math/big"
	"strings"

	"github.com/google/uuid"
)

// Bearer tokens (sessions and API keys) have a recognisable shape, in the
// manner of GitHub's tokens: a fixed prefix that secret scanners can match,
// a base62 body (no punctuation, so a double-click selects it whole) and a
// six-character CRC-32 checksum, so a mistyped or made-up token is refused
// before any database work.
//
// The body carries the domain and the credential's id, so a token is looked
// up in its own domain only, and a 256-bit random secret, of which the
// database stores a crypt() hash. Only the secret is hashed: bcrypt reads at
// most 72 bytes, and the secret's 64 hex characters fit.
const (
	SessionTokenPrefix = "takaro_s_"
	APIKeyTokenPrefix  = "takaro_k_"
)

const (
	tokenVersion     = 1
	tokenSecretBytes = 32
	checksumLength   = 6
)

// Token is the parsed content of a bearer token.
type Token struct {
	Kind   CredentialKind
	Domain string
	ID     uuid.UUID
	// Secret is the hex form of the random secret, the value that is hashed.
	Secret string
}

// NewToken returns a fresh token of kind for the credential id in domain,
// and its text.
func NewToken(kind CredentialKind, domain string, id uuid.UUID) (Token, string) {
	secret := make([]byte, tokenSecretBytes)
	if _, err := rand.Read(secret); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	payload := []byte{tokenVersion}
	payload = append(payload, id[:]...)
	payload = append(payload, secret...)
	payload = append(payload, domain...)
	prefix := tokenPrefix(kind)
	body := new(big.Int).SetBytes(payload).Text(62)
	t := Token{Kind: kind, Domain: domain, ID: id, Secret: hex.EncodeToString(secret)}
	return t, prefix + body + checksum(prefix+body)
}

// ParseToken checks a token's prefix, checksum and layout. It does no
// database work; a nil error says nothing about whether the token is valid.
func ParseToken(text string) (Token, error) {
	invalid := Errorf(CodeUnauthorized, "Not authorized")
	var kind CredentialKind
	switch {
	case strings.HasPrefix(text, SessionTokenPrefix):
		kind = CredentialSession
	case strings.HasPrefix(text, APIKeyTokenPrefix):
		kind = CredentialAPIKey
	default:
		return Token{}, invalid
	}
	prefix := tokenPrefix(kind)
	rest := text[len(prefix):]
	if len(rest) <= checksumLength || len(rest) > 200 {
		return Token{}, invalid
	}
	body, sum := rest[:len(rest)-checksumLength], rest[len(rest)-checksumLength:]
	if checksum(prefix+body) != sum {
		return Token{}, invalid
	}
	n, ok := new(big.Int).SetString(body, 62)
	if !ok {
		return Token{}, invalid
	}
	payload := n.Bytes()
	if len(payload) < 1+16+tokenSecretBytes || payload[0] != tokenVersion {
		return Token{}, invalid
	}
	id, _ := uuid.FromBytes(payload[1:17])
	secret := payload[17 : 17+tokenSecretBytes]
	domain := string(payload[17+tokenSecretBytes:])
	if !ValidDomainID(domain) || bytes.Count(secret, []byte{0}) == tokenSecretBytes {
		return Token{}, invalid
	}
	return Token{Kind: kind, Domain: domain, ID: id, Secret: hex.EncodeToString(secret)}, nil
}

func tokenPrefix(kind CredentialKind) string {
	if kind == CredentialAPIKey {
		return APIKeyTokenPrefix
	}
	return SessionTokenPrefix
}

// checksum is the CRC-32 of s in base62, zero-padded to six characters.
func checksum(s string) string {
	c := big.NewInt(int64(crc32.ChecksumIEEE([]byte(s)))).Text(62)
	return strings.Repeat("0", checksumLength-len(c)) + c
}
