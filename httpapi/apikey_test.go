package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

// createKey creates an API key as h with the permissions.
func (k *kit) createKey(h header, perms ...string) takaro.APIKeyCreated {
	k.t.Helper()
	var key takaro.APIKeyCreated
	k.s.do(http.MethodPost, "/apikey", map[string]any{"name": unique("key"), "permissions": append([]string{}, perms...)}, h).
		expect(k.t, http.StatusOK).decode(k.t, &key)
	return key
}

// TestAPIKeys checks an API key from creation to revocation: its secret
// is shown once in a recognisable format, it authenticates as its user
// with exactly the permissions it was given (never more than the creator
// has), lists never show secrets, and revocation takes effect at once.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	managers := k.role(takaro.PermManageUsers, takaro.PermReadUsers)
	readers := k.role(takaro.PermReadRoles)
	u := k.user(true, managers, readers)
	session := k.login(u)

	// The creator cannot give what they do not hold.
	k.s.do(http.MethodPost, "/apikey", map[string]any{"name": "too much", "permissions": []string{takaro.PermReadRoles, takaro.PermManageRoles}}, session).
		expectMessage(t, http.StatusForbidden, "ForbiddenError", "Cannot grant MANAGE_ROLES: you do not have this permission")
	k.s.do(http.MethodPost, "/apikey", map[string]any{"name": "root", "permissions": []string{takaro.PermRoot}}, session).
		expect(t, http.StatusForbidden, "ForbiddenError")

	key := k.createKey(session, takaro.PermReadRoles, takaro.PermReadRoles)
	if !strings.HasPrefix(key.Secret, takaro.APIKeyTokenPrefix) {
		t.Fatalf("secret %q lacks the prefix %s", key.Secret, takaro.APIKeyTokenPrefix)
	}
	if _, err := takaro.ParseToken(key.Secret); err != nil {
		t.Fatalf("the secret does not parse: %v", err)
	}
	if key.APIKey.UserID.String() != u.ID || !slices.Equal(key.APIKey.Permissions, []string{takaro.PermReadRoles}) || key.APIKey.ExpiresAt != nil {
		t.Fatalf("key: %+v", key.APIKey)
	}
	apiKey := bearer(key.Secret)

	// Exactly the key's permissions, as its user.
	if me := s.me(t, apiKey); me.User.ID.String() != u.ID || me.Domain != k.tn.ID {
		t.Fatalf("the key acts as %s in %s", me.User.ID, me.Domain)
	}
	s.do(http.MethodPost, "/role/search", map[string]any{}, apiKey).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/user/search", map[string]any{}, apiKey).expect(t, http.StatusForbidden, "ForbiddenError")
	s.do(http.MethodGet, "/apikey", nil, apiKey).expect(t, http.StatusForbidden, "ForbiddenError")
	// A key cannot create a key with more than it has, even what its user holds.
	manage := k.createKey(session, takaro.PermManageUsers)
	s.do(http.MethodPost, "/apikey", map[string]any{"name": "more", "permissions": []string{takaro.PermReadUsers}}, bearer(manage.Secret)).
		expect(t, http.StatusForbidden, "ForbiddenError")
	narrower := k.createKey(bearer(manage.Secret), takaro.PermManageUsers)
	s.do(http.MethodGet, "/apikey", nil, bearer(narrower.Secret)).expect(t, http.StatusOK)

	// Listing shows every key of the domain, never a secret or a hash.
	r := s.do(http.MethodGet, "/apikey", nil, session).expect(t, http.StatusOK)
	var keys []map[string]any
	r.decode(t, &keys)
	if len(keys) != 3 {
		t.Errorf("the list has %d keys, want 3: %s", len(keys), r.Raw)
	}
	for _, secret := range []string{key.Secret, manage.Secret, narrower.Secret} {
		if strings.Contains(string(r.Raw), secret) {
			t.Errorf("the list shows a secret: %s", r.Raw)
		}
	}
	for _, bad := range []string{takaro.APIKeyTokenPrefix, "secret", "hash", "$2a$"} {
		if strings.Contains(strings.ToLower(string(r.Raw)), strings.ToLower(bad)) {
			t.Errorf("the list contains %q: %s", bad, r.Raw)
		}
	}

	// The key follows its user: a role taken away takes its permissions.
	s.do(http.MethodDelete, "/user/"+u.ID+"/role/"+readers, nil, k.root()).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/role/search", map[string]any{}, apiKey).expect(t, http.StatusForbidden, "ForbiddenError")
	s.do(http.MethodPost, "/user/"+u.ID+"/role/"+readers, map[string]any{}, k.root()).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/role/search", map[string]any{}, apiKey).expect(t, http.StatusOK)

	// Revocation: 401 at once; the list says when.
	s.do(http.MethodDelete, "/apikey/"+key.APIKey.ID.String(), nil, session).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/role/search", map[string]any{}, apiKey).expectMessage(t, http.StatusUnauthorized, "UnauthorizedError", "Not authorized")
	s.do(http.MethodDelete, "/apikey/"+key.APIKey.ID.String(), nil, session).expect(t, http.StatusNotFound, "NotFoundError")
	var listed []takaro.APIKey
	s.do(http.MethodGet, "/apikey", nil, session).expect(t, http.StatusOK).decode(t, &listed)
	for _, l := range listed {
		if (l.ID == key.APIKey.ID) != (l.RevokedAt != nil) {
			t.Errorf("key %s (%s): revokedAt %v", l.ID, l.Name, l.RevokedAt)
		}
	}

	// Deleting the user ends their keys.
	s.do(http.MethodDelete, "/user/"+u.ID, nil, k.root()).expect(t, http.StatusOK)
	s.do(http.MethodGet, "/me", nil, bearer(manage.Secret)).expect(t, http.StatusUnauthorized, "UnauthorizedError")
}

// TestAPIKeyTypos checks that a key with any character changed is refused.
func TestAPIKeyTypos(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	key := k.createKey(k.root())
	s.me(t, bearer(key.Secret))
	flip := func(i int) string {
		b := []byte(key.Secret)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	n := len(key.Secret)
	for name, text := range map[string]string{
		"a typo in the checksum":       flip(n - 1),
		"a typo in the body":           flip(n / 2),
		"a typo in the prefix":         flip(2),
		"a session prefix":             takaro.SessionTokenPrefix + strings.TrimPrefix(key.Secret, takaro.APIKeyTokenPrefix),
		"the checksum left off":        key.Secret[:n-6],
		"a character too many":         key.Secret + "0",
		"the key twice":                key.Secret + key.Secret,
		"the key in quotes":            `"` + key.Secret + `"`,
		"the key with a space inside":  key.Secret[:n/2] + " " + key.Secret[n/2:],
		"a key of an unknown domain":   newToken(takaro.CredentialAPIKey, "no-such-domain"),
		"an unknown key of the domain": newToken(takaro.CredentialAPIKey, k.tn.ID),
	} {
		if r := s.do(http.MethodGet, "/me", nil, bearer(text)); r.Status != http.StatusUnauthorized || r.errorMessage() != "Not authorized" {
			t.Errorf("%s: status %d, want 401 \"Not authorized\": %s", name, r.Status, r.Raw)
		}
	}
	s.me(t, bearer(key.Secret)) // the real one still works
}

// TestAPIKeyExpiry checks that an expiry in the past is refused and that a
// key stops working when its expiry passes.
func TestAPIKeyExpiry(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	for _, at := range []string{time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339)} {
		r := s.do(http.MethodPost, "/apikey", map[string]any{"name": "old", "permissions": []string{}, "expiresAt": at}, k.root())
		r.expectMessage(t, http.StatusBadRequest, "ValidationError", "Validation error")
		if !strings.Contains(string(r.Raw), `"expiresAt must be in the future"`) {
			t.Errorf("the details do not say why: %s", r.Raw)
		}
	}

	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	var key takaro.APIKeyCreated
	s.do(http.MethodPost, "/apikey", map[string]any{"name": "soon", "permissions": []string{takaro.PermReadRoles}, "expiresAt": expires}, k.root()).
		expect(t, http.StatusOK).decode(t, &key)
	if key.APIKey.ExpiresAt == nil || !key.APIKey.ExpiresAt.Equal(expires) {
		t.Fatalf("expiresAt %v, want %v", key.APIKey.ExpiresAt, expires)
	}
	s.do(http.MethodPost, "/role/search", map[string]any{}, bearer(key.Secret)).expect(t, http.StatusOK)

	// Let the expiry pass behind the API's back.
	s.inDomain(t, k.tn.ID, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1", key.APIKey.ID)
		return err
	})
	s.do(http.MethodPost, "/role/search", map[string]any{}, bearer(key.Secret)).expectMessage(t, http.StatusUnauthorized, "UnauthorizedError", "Not authorized")
	s.do(http.MethodGet, "/me", nil, bearer(key.Secret)).expect(t, http.StatusUnauthorized, "UnauthorizedError")
}

// TestAPIKeyDashboardGate checks that the dashboard-user gate of MANAGE_
// routes looks at the key's user, not at the key: a key of a user holding
// ROOT passes it with only MANAGE_GAMESERVERS, a key of a user who is not a
// dashboard user does not.
func TestAPIKeyDashboardGate(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, map[string]any{"maxGameservers": 10})
	body := func() map[string]any {
		return map[string]any{"name": unique("gs"), "type": "MOCK", "connectionInfo": "{}"}
	}
	// The domain's root user is not a dashboard user, but holds ROOT.
	rootKey := k.createKey(k.root(), takaro.PermManageGameservers)
	s.do(http.MethodPost, "/gameserver", body(), bearer(rootKey.Secret)).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/role", map[string]any{"name": unique("r"), "permissions": []any{}}, bearer(rootKey.Secret)).
		expect(t, http.StatusForbidden, "ForbiddenError")

	// A dashboard user's key passes, until the user stops being one.
	u := k.userWith(true, takaro.PermManageGameservers, takaro.PermManageUsers, takaro.PermReadPlayers)
	key := bearer(k.createKey(k.login(u), takaro.PermManageGameservers, takaro.PermReadPlayers).Secret)
	s.do(http.MethodPost, "/gameserver", body(), key).expect(t, http.StatusOK)
	s.do(http.MethodPut, "/user/"+u.ID, map[string]any{"isDashboardUser": false}, k.root()).expect(t, http.StatusOK)
	s.do(http.MethodPost, "/gameserver", body(), key).expectMessage(t, http.StatusBadRequest, "BadRequestError", dashboardOnlyMessage)
	s.do(http.MethodPost, "/player/search", map[string]any{}, key).expect(t, http.StatusOK)
}
