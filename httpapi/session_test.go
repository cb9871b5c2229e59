package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/httpapi"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// meOf returns the GET /me of a credential.
type meBody struct {
	User    takaro.User     `json:"user"`
	Domains []takaro.Domain `json:"domains"`
	Domain  string          `json:"domain"`
}

func (s *testServer) me(t testing.TB, h header) meBody {
	t.Helper()
	var me meBody
	s.do(http.MethodGet, "/me", nil, h).expect(t, http.StatusOK).decode(t, &me)
	return me
}

// TestLoginLogout checks login's refusals, that a session works until it
// is logged out and not a moment after, and that only sessions log out.
func TestLoginLogout(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	k := newKit(t, s, nil)
	u := k.userWith(false)

	for name, body := range map[string]map[string]any{
		"wrong password":      {"username": u.Email, "password": u.Password + "x"},
		"unknown address":     {"username": "nobody@example.com", "password": u.Password},
		"address in capitals": {"username": strings.ToUpper(u.Email), "password": u.Password + "x"},
		"not an address":      {"username": "nobody", "password": u.Password},
		"empty password":      {"username": u.Email, "password": ""},
		"password too long":   {"username": u.Email, "password": u.Password + strings.Repeat("x", 80)},
	} {
		r := s.do(http.MethodPost, "/login", body)
		if r.Status != http.StatusUnauthorized || r.errorMessage() != "Not authorized" || string(r.Data) != "{}" {
			t.Errorf("login with %s: status %d, want 401 \"Not authorized\": %s", name, r.Status, r.Raw)
		}
	}
	s.do(http.MethodPost, "/login", map[string]any{"username": u.Email}).expect(t, http.StatusBadRequest, "ValidationError")

	token := s.login(u.Email, u.Password, "")
	if !strings.HasPrefix(token, takaro.SessionTokenPrefix) {
		t.Fatalf("session token %q lacks the prefix %s", token, takaro.SessionTokenPrefix)
	}
	other := s.login(u.Email, u.Password, "")
	if me := s.me(t, bearer(token)); me.User.ID.String() != u.ID || me.Domain != k.tn.ID {
		t.Fatalf("/me is %s in %s, want %s in %s", me.User.ID, me.Domain, u.ID, k.tn.ID)
	}
	s.do(http.MethodPost, "/logout", nil, bearer(token)).expect(t, http.StatusOK)
	s.do(http.MethodGet, "/me", nil, bearer(token)).expect(t, http.StatusUnauthorized, "UnauthorizedError")
	s.do(http.MethodPost, "/logout", nil, bearer(token)).expect(t, http.StatusUnauthorized, "UnauthorizedError")
	// Another session of the same user is not affected.
	s.me(t, bearer(other))

	// A token with a typo is refused.
	typo := []byte(other)
	typo[len(typo)/2] ^= 1
	s.do(http.MethodGet, "/me", nil, bearer(string(typo))).expect(t, http.StatusUnauthorized, "UnauthorizedError")

	// Only a session can log out.
	var key takaro.APIKeyCreated
	s.do(http.MethodPost, "/apikey", map[string]any{"name": "k", "permissions": []string{}}, k.root()).expect(t, http.StatusOK).decode(t, &key)
	var jwtToken struct{ Token string }
	s.do(http.MethodPost, "/token", map[string]any{"domainId": k.tn.ID}, adminHeader()).expect(t, http.StatusOK).decode(t, &jwtToken)
	for _, h := range []header{bearer(key.Secret), {"X-Takaro-Token", jwtToken.Token}} {
		s.do(http.MethodPost, "/logout", nil, h).expectMessage(t, http.StatusBadRequest, "BadRequestError",
			"Only a session can log out; revoke API keys with DELETE /apikey/{id}")
		s.me(t, h)
	}

	// A session that has expired is refused.
	expiring := s.login(u.Email, u.Password, "")
	s.me(t, bearer(expiring))
	parsed, err := takaro.ParseToken(expiring)
	if err != nil {
		t.Fatal(err)
	}
	s.inDomain(t, k.tn.ID, func(tx pgx.Tx) error {
		_, err := tx.Exec(context.Background(), "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = $1", parsed.ID)
		return err
	})
	s.do(http.MethodGet, "/me", nil, bearer(expiring)).expectMessage(t, http.StatusUnauthorized, "UnauthorizedError", "Not authorized")

	// Deleting the user ends their sessions.
	s.do(http.MethodDelete, "/user/"+u.ID, nil, k.root()).expect(t, http.StatusOK)
	s.do(http.MethodGet, "/me", nil, bearer(other)).expect(t, http.StatusUnauthorized, "UnauthorizedError")
}

// TestLoginDomains checks logging in with an address and password that
// several domains accept: /me lists them, X-Takaro-Domain picks one, and
// each session stays in its own domain.
func TestLoginDomains(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	a, b, c := newKit(t, s, nil), newKit(t, s, nil), newKit(t, s, nil)
	email := unique("shared") + "@example.com"
	ids := map[string]string{}
	for _, k := range []*kit{a, b} {
		var u takaro.User
		s.do(http.MethodPost, "/user", map[string]any{"name": "shared", "email": email, "password": testPassword}, k.root()).
			expect(t, http.StatusOK).decode(t, &u)
		ids[k.tn.ID] = u.ID.String()
	}
	// The same address with another password in a third domain.
	s.do(http.MethodPost, "/user", map[string]any{"name": "shared", "email": email, "password": testPassword + "!"}, c.root()).expect(t, http.StatusOK)

	both := []string{a.tn.ID, b.tn.ID}
	slices.Sort(both)
	me := s.me(t, bearer(s.login(email, testPassword, "")))
	if me.Domain != both[0] {
		t.Errorf("without X-Takaro-Domain the session is in %s, want the first of %v", me.Domain, both)
	}
	var listed []string
	for _, d := range me.Domains {
		listed = append(listed, d.ID)
	}
	slices.Sort(listed)
	if !slices.Equal(listed, both) {
		t.Errorf("/me lists the domains %v, want %v (not the one with another password)", listed, both)
	}

	for _, k := range []*kit{a, b} {
		session := bearer(s.login(email, testPassword, k.tn.ID))
		me := s.me(t, session)
		if me.Domain != k.tn.ID || me.User.ID.String() != ids[k.tn.ID] {
			t.Errorf("with X-Takaro-Domain %s: /me is user %s in %s", k.tn.ID, me.User.ID, me.Domain)
		}
		// A hint on later requests changes nothing: the session's domain is fixed.
		for _, other := range []*kit{a, b, c} {
			var hinted meBody
			s.do(http.MethodGet, "/me", nil, session, header{"X-Takaro-Domain", other.tn.ID}).expect(t, http.StatusOK).decode(t, &hinted)
			if hinted.Domain != k.tn.ID {
				t.Errorf("a session of %s with X-Takaro-Domain %s acts in %s", k.tn.ID, other.tn.ID, hinted.Domain)
			}
		}
	}
	// In c the address has another password; an unknown domain knows nobody.
	for _, hint := range []string{c.tn.ID, "no-such-domain", "NOT A DOMAIN"} {
		s.do(http.MethodPost, "/login", map[string]any{"username": email, "password": testPassword}, header{"X-Takaro-Domain", hint}).
			expect(t, http.StatusUnauthorized, "UnauthorizedError")
	}
	// A disabled domain is skipped when another accepts the login.
	s.do(http.MethodPut, "/domain/"+both[0], map[string]any{"state": takaro.DomainDisabled}, adminHeader()).expect(t, http.StatusOK)
	if me := s.me(t, bearer(s.login(email, testPassword, ""))); me.Domain != both[1] {
		t.Errorf("with %s disabled the session is in %s, want %s", both[0], me.Domain, both[1])
	}
}

// signDomainToken signs claims as the server's domain tokens are signed,
// with the test's JWT secret unless another key is given.
func signDomainToken(t testing.TB, claims jwt.MapClaims, method jwt.SigningMethod, key any) string {
	t.Helper()
	text, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// TestDomainTokens checks the admin-issued X-Takaro-Token: it acts as the
// domain's root user until it expires, and only a token signed by this
// server, unexpired, for an existing user of the named domain is accepted.
func TestDomainTokens(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	a, b := newKit(t, s, nil), newKit(t, s, nil)
	var issued struct{ Token string }
	s.do(http.MethodPost, "/token", map[string]any{"domainId": a.tn.ID}, adminHeader()).expect(t, http.StatusOK).decode(t, &issued)
	me := s.me(t, header{"X-Takaro-Token", issued.Token})
	if me.Domain != a.tn.ID || me.User.ID.String() != a.tn.RootUserID {
		t.Fatalf("the domain token acts as %s in %s, want the root user %s of %s", me.User.ID, me.Domain, a.tn.RootUserID, a.tn.ID)
	}
	// It has the root user's powers.
	s.do(http.MethodPost, "/role", map[string]any{"name": unique("role"), "permissions": []any{}}, header{"X-Takaro-Token", issued.Token}).expect(t, http.StatusOK)

	// The server's own tokens last about an hour.
	parsed, _, err := jwt.NewParser().ParseUnverified(issued.Token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	exp, err := parsed.Claims.GetExpirationTime()
	if err != nil || exp == nil || time.Until(exp.Time) > time.Hour+time.Minute || time.Until(exp.Time) < 50*time.Minute {
		t.Errorf("the domain token expires at %v, want in about an hour", exp)
	}

	now := time.Now()
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"domainId": a.tn.ID, "sub": a.tn.RootUserID, "iss": "takaro", "aud": []string{"takaro"},
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	secret := []byte(testJWTSecret)
	if got := s.me(t, header{"X-Takaro-Token", signDomainToken(t, valid(), jwt.SigningMethodHS256, secret)}); got.User.ID.String() != a.tn.RootUserID {
		t.Fatalf("a token signed by the test is not accepted as the server's own: %+v", got)
	}
	with := func(change func(jwt.MapClaims)) jwt.MapClaims { c := valid(); change(c); return c }
	refused := map[string]string{
		"expired":              signDomainToken(t, with(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }), jwt.SigningMethodHS256, secret),
		"without expiry":       signDomainToken(t, with(func(c jwt.MapClaims) { delete(c, "exp") }), jwt.SigningMethodHS256, secret),
		"not yet valid":        signDomainToken(t, with(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), jwt.SigningMethodHS256, secret),
		"issued in the future": signDomainToken(t, with(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }), jwt.SigningMethodHS256, secret),
		"another secret":       signDomainToken(t, valid(), jwt.SigningMethodHS256, []byte("another-secret-0123456789abcdef")),
		"another algorithm":    signDomainToken(t, valid(), jwt.SigningMethodHS512, secret),
		"no signature":         signDomainToken(t, valid(), jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType),
		"another issuer":       signDomainToken(t, with(func(c jwt.MapClaims) { c["iss"] = "someone" }), jwt.SigningMethodHS256, secret),
		"another audience":     signDomainToken(t, with(func(c jwt.MapClaims) { c["aud"] = []string{"someone"} }), jwt.SigningMethodHS256, secret),
		"an unknown user":      signDomainToken(t, with(func(c jwt.MapClaims) { c["sub"] = uuid.NewString() }), jwt.SigningMethodHS256, secret),
		"a user of another":    signDomainToken(t, with(func(c jwt.MapClaims) { c["sub"] = b.tn.RootUserID }), jwt.SigningMethodHS256, secret),
		"an unknown domain":    signDomainToken(t, with(func(c jwt.MapClaims) { c["domainId"] = "no-such-domain" }), jwt.SigningMethodHS256, secret),
		"a malformed domain":   signDomainToken(t, with(func(c jwt.MapClaims) { c["domainId"] = "' OR 1=1 --" }), jwt.SigningMethodHS256, secret),
		"a malformed subject":  signDomainToken(t, with(func(c jwt.MapClaims) { c["sub"] = "root" }), jwt.SigningMethodHS256, secret),
		"a tampered signature": issued.Token[:len(issued.Token)-2] + "xx",
		"not a JWT":            "not-a-jwt",
	}
	for name, token := range refused {
		r := s.do(http.MethodGet, "/me", nil, header{"X-Takaro-Token", token})
		if r.Status != http.StatusUnauthorized || r.errorMessage() != "Not authorized" {
			t.Errorf("a domain token %s: status %d, want 401 \"Not authorized\": %s", name, r.Status, r.Raw)
		}
	}

	// Tokens expire on the server's clock.
	later := newTestServer(t, func(c *httpapi.Config) {
		c.DomainTokenTTL = time.Minute
		c.Now = func() time.Time { return time.Now().Add(-2 * time.Minute) }
	})
	lk := newKit(t, later, nil)
	later.do(http.MethodPost, "/token", map[string]any{"domainId": lk.tn.ID}, adminHeader()).expect(t, http.StatusOK).decode(t, &issued)
	later.do(http.MethodGet, "/me", nil, header{"X-Takaro-Token", issued.Token}).expect(t, http.StatusUnauthorized, "UnauthorizedError")

	// Without a JWT secret there are no domain tokens.
	off := newTestServer(t, func(c *httpapi.Config) { c.JWTSecret = nil })
	ok := newKit(t, off, nil)
	off.do(http.MethodPost, "/token", map[string]any{"domainId": ok.tn.ID}, adminHeader()).
		expectMessage(t, http.StatusBadRequest, "BadRequestError", "Domain tokens are disabled (JWT_SECRET is not set)")
	token := signDomainToken(t, jwt.MapClaims{"domainId": ok.tn.ID, "sub": ok.tn.RootUserID, "iss": "takaro", "aud": "takaro",
		"exp": now.Add(time.Hour).Unix()}, jwt.SigningMethodHS256, []byte(""))
	off.do(http.MethodGet, "/me", nil, header{"X-Takaro-Token", token}).expect(t, http.StatusUnauthorized, "UnauthorizedError")
}

// TestFailedLoginsAreThrottled checks the HTTP face of login throttling:
// a 429 in the envelope with Retry-After, by the peer's address (a forged
// X-Forwarded-For changes nothing), and a right password never drains it.
func TestFailedLoginsAreThrottled(t *testing.T) {
	t.Parallel()
	pdb := pgtest.New(t)
	s := newTestServerOn(t, pdb.Open(t, postgres.Options{Throttles: postgres.Throttles{
		LoginPerAddress: postgres.Rate{Burst: 2, Every: time.Hour},
	}}))
	k := newKit(t, s, nil)
	u := k.userWith(false)
	s.login(u.Email, u.Password, "")
	for i := range 2 {
		s.do(http.MethodPost, "/login", map[string]any{"username": u.Email, "password": "wrong-password"},
			header{"X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i)}).expect(t, http.StatusUnauthorized, "UnauthorizedError")
	}
	r := s.do(http.MethodPost, "/login", map[string]any{"username": u.Email, "password": u.Password}).
		expectMessage(t, http.StatusTooManyRequests, "TooManyRequestsError", "Too many failed attempts. Please try again later.")
	if after, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || after < 1 || after > 3600 {
		t.Fatalf("Retry-After %q, want seconds up to an hour", r.Header.Get("Retry-After"))
	}
}
