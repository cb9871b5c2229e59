package takaro_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	for _, kind := range []takaro.CredentialKind{takaro.CredentialSession, takaro.CredentialAPIKey} {
		id := uuid.New()
		want, text := takaro.NewToken(kind, "brave-otters-sing", id)
		got, err := takaro.ParseToken(text)
		if err != nil {
			t.Fatalf("%s: parse: %v", kind, err)
		}
		if got != want {
			t.Fatalf("%s: parsed %+v, want %+v", kind, got, want)
		}
		if len(got.Secret) != 64 || len(got.Secret) > takaro.MaxPasswordBytes {
			t.Fatalf("secret is %d characters; it must fit bcrypt's 72 bytes", len(got.Secret))
		}
		if strings.Trim(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != "" {
			t.Fatalf("token %q has characters outside [A-Za-z0-9_]", text)
		}
	}
}

func TestTokenRejectsTyposAndForgeries(t *testing.T) {
	t.Parallel()
	_, text := takaro.NewToken(takaro.CredentialAPIKey, "brave-otters-sing", uuid.New())
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	for name, bad := range map[string]string{
		"empty":           "",
		"prefix only":     takaro.APIKeyTokenPrefix,
		"unknown prefix":  "ghp_" + text[len(takaro.APIKeyTokenPrefix):],
		"body typo":       flip(text, len(takaro.APIKeyTokenPrefix)+5),
		"checksum typo":   flip(text, len(text)-1),
		"truncated":       text[:len(text)-1],
		"kind swapped":    takaro.SessionTokenPrefix + text[len(takaro.APIKeyTokenPrefix):],
		"garbage":         takaro.APIKeyTokenPrefix + "!!!!!!!!!!!!!!",
		"jwt-looking":     "eyJhbGciOiJIUzI1NiJ9.e30.sig",
		"too long":        takaro.APIKeyTokenPrefix + strings.Repeat("a", 300),
		"not a domain id": forge(t, "Not A Domain"),
	} {
		if _, err := takaro.ParseToken(bad); takaro.ErrorCode(err) != takaro.CodeUnauthorized {
			t.Errorf("%s: ParseToken(%q) = %v, want an unauthorized error", name, bad, err)
		}
	}
}

// forge builds a well-formed token around an invalid domain id.
func forge(t *testing.T, domain string) string {
	t.Helper()
	_, text := takaro.NewToken(takaro.CredentialSession, domain, uuid.New())
	return text
}
