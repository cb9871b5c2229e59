package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var registrationTokenPattern = regexp.MustCompile(`^[A-Za-z0-9+/]{43}=$`)

// TestRegistrationTokens follows a domain's server-registration token:
// created with the domain, shown to the admin API and to game-server
// managers only, resolved by the admin API (not for a disabled domain),
// replaced by a regeneration that leaves other domains alone, and stored
// encrypted.
func TestRegistrationTokens(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	admin := adminHeader()
	var created takaro.DomainCreated
	s.do(http.MethodPost, "/domain", map[string]any{"name": unique("registration"), "maxUsers": 10}, admin).
		expect(t, http.StatusOK).decode(t, &created)
	domain := created.CreatedDomain.ID
	if created.CreatedDomain.ServerRegistrationToken == nil || !registrationTokenPattern.MatchString(*created.CreatedDomain.ServerRegistrationToken) {
		t.Fatalf("a new domain's registration token: %v", created.CreatedDomain.ServerRegistrationToken)
	}
	token := *created.CreatedDomain.ServerRegistrationToken
	other := s.newTenant(nil)
	k := &kit{t: t, s: s, tn: &tenant{ID: domain, Password: created.Password, RootUserID: created.RootUser.ID.String(),
		Token: s.login("root@"+domain+".com", created.Password, domain)}, kitState: &kitState{created: map[string]*kitUserOnce{}}}

	shown := func(h header) *string {
		t.Helper()
		var me struct {
			Domains []takaro.Domain `json:"domains"`
		}
		s.do(http.MethodGet, "/me", nil, h).expect(t, http.StatusOK).decode(t, &me)
		return me.Domains[0].ServerRegistrationToken
	}
	var d takaro.Domain
	s.do(http.MethodGet, "/domain/"+domain, nil, admin).expect(t, http.StatusOK).decode(t, &d)
	if d.ServerRegistrationToken == nil || *d.ServerRegistrationToken != token {
		t.Errorf("GET /domain/{id} shows %v, want the token", d.ServerRegistrationToken)
	}
	if got := shown(k.root()); got == nil || *got != token {
		t.Errorf("GET /me of the root user shows %v, want the token", got)
	}
	if got := shown(k.login(k.userWith(true, takaro.PermManageGameservers))); got == nil || *got != token {
		t.Errorf("GET /me of a game-server manager shows %v, want the token", got)
	}
	if got := shown(k.login(k.userWith(true, takaro.PermReadPlayers, takaro.PermManageSettings))); got != nil {
		t.Errorf("GET /me of a user who may not manage game servers shows the token")
	}
	var page []takaro.Domain
	s.do(http.MethodPost, "/domain/search", map[string]any{"filters": map[string]any{"id": []string{domain}}}, admin).
		expect(t, http.StatusOK).decode(t, &page)
	if len(page) != 1 || page[0].ServerRegistrationToken != nil {
		t.Errorf("a domain search shows registration tokens: %+v", page)
	}

	resolve := func(tok string, status int) {
		t.Helper()
		r := s.do(http.MethodPost, "/resolve-registration-token", map[string]any{"registrationToken": tok}, admin).expect(t, status)
		if status == http.StatusOK {
			var got takaro.Domain
			r.decode(t, &got)
			if got.ID != domain {
				t.Errorf("the token resolved to %s, want %s", got.ID, domain)
			}
		}
	}
	resolve(token, http.StatusOK)
	// Not found, with the reference's message, for anything that names no
	// domain; too long to be a token is invalid.
	for _, tok := range []string{token[:43] + "A", "", "clearly-not-a-valid-base64-token-format!!!"} {
		s.do(http.MethodPost, "/resolve-registration-token", map[string]any{"registrationToken": tok}, admin).
			expectMessage(t, http.StatusNotFound, "NotFoundError", "Not found")
	}
	resolve(strings.Repeat("a", 129), http.StatusBadRequest)
	s.do(http.MethodPost, "/resolve-registration-token", map[string]any{"registrationToken": token}, k.root()).expect(t, http.StatusUnauthorized)

	// Stored encrypted, found by its digest: the plaintext is nowhere.
	s.inDomain(t, domain, func(tx pgx.Tx) error {
		var cipher, digest []byte
		err := tx.QueryRow(context.Background(), `SELECT r.token, d.registration_token_digest FROM registration_tokens r
			JOIN domains d ON d.id = r.domain WHERE r.domain = $1`, domain).Scan(&cipher, &digest)
		if bytes.Contains(cipher, []byte(token)) || bytes.Contains(digest, []byte(token)) || len(digest) != 32 {
			t.Errorf("the token is stored in plain text")
		}
		return err
	})

	otherBefore := shown(other.auth())
	s.do(http.MethodDelete, "/gameserver/registrationToken", nil, k.root()).expect(t, http.StatusOK)
	fresh := shown(k.root())
	if fresh == nil || *fresh == token || !registrationTokenPattern.MatchString(*fresh) {
		t.Fatalf("after regenerating: %v (was %s)", fresh, token)
	}
	resolve(token, http.StatusNotFound)
	resolve(*fresh, http.StatusOK)
	if after := shown(other.auth()); after == nil || *after != *otherBefore {
		t.Errorf("regenerating one domain's token changed another's")
	}

	s.do(http.MethodPut, "/domain/"+domain, map[string]any{"state": "MAINTENANCE"}, admin).expect(t, http.StatusOK)
	resolve(*fresh, http.StatusOK)
	s.do(http.MethodPut, "/domain/"+domain, map[string]any{"state": "DISABLED"}, admin).expect(t, http.StatusOK)
	resolve(*fresh, http.StatusNotFound)
}
