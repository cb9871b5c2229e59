package postgres_test

import (
	"context"
	"encoding/json"
	"hash/crc32"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
)

// Helpers of this file carry the prefix auth, so they cannot clash with
// those of the other test files of the package.

func authOpen(t *testing.T) (*postgres.DB, *pgtest.Database) {
	t.Helper()
	pdb := pgtest.New(t)
	return pdb.Open(t, postgres.Options{}), pdb
}

func authDomain(t *testing.T, db *postgres.DB) *takaro.DomainCreated {
	t.Helper()
	maxUsers := 20
	d, err := db.CreateDomain(context.Background(), takaro.DomainCreate{
		Name: "auth test domain", DomainLimits: takaro.DomainLimits{MaxUsers: &maxUsers},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func authCtx(domain string, user uuid.UUID) context.Context {
	return takaro.NewContext(context.Background(), takaro.Principal{Domain: domain, UserID: user})
}

func authRootCtx(d *takaro.DomainCreated) context.Context {
	return authCtx(d.CreatedDomain.ID, d.RootUser.ID)
}

func authWantCode(t *testing.T, err error, code takaro.Code, message string) {
	t.Helper()
	if takaro.ErrorCode(err) != code {
		t.Fatalf("error = %v (code %s), want code %s", err, takaro.ErrorCode(err), code)
	}
	if message != "" && takaro.ErrorMessage(err) != message {
		t.Fatalf("message = %q, want %q", takaro.ErrorMessage(err), message)
	}
}

func authWantRefused(t *testing.T, err error) {
	t.Helper()
	authWantCode(t, err, takaro.CodeUnauthorized, "Not authorized")
}

func authUser(t *testing.T, db *postgres.DB, d *takaro.DomainCreated, name, email, password string) *takaro.User {
	t.Helper()
	u, err := db.CreateUser(authRootCtx(d), takaro.UserCreate{Name: name, Email: email, Password: password, IsDashboardUser: true})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// authRole creates a role with the permissions of the given codes.
func authRole(t *testing.T, db *postgres.DB, d *takaro.DomainCreated, name string, codes ...string) *takaro.Role {
	t.Helper()
	ctx := authRootCtx(d)
	role, err := db.CreateRole(ctx, takaro.RoleCreate{Name: name, Permissions: authPermissionInputs(t, db, codes...)})
	if err != nil {
		t.Fatal(err)
	}
	return role
}

func authPermissionInputs(t *testing.T, db *postgres.DB, codes ...string) []takaro.PermissionInput {
	t.Helper()
	all, err := db.ListPermissions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var in []takaro.PermissionInput
	for _, p := range all {
		if slices.Contains(codes, p.Permission) {
			in = append(in, takaro.PermissionInput{PermissionID: p.ID})
		}
	}
	if len(in) != len(codes) {
		t.Fatalf("unknown permission among %v", codes)
	}
	return in
}

// authSystemRole returns the id of one of the domain's system roles.
func authSystemRole(t *testing.T, db *postgres.DB, d *takaro.DomainCreated, name string) uuid.UUID {
	t.Helper()
	page, err := db.FindRoles(authRootCtx(d), takaro.Query{Filters: map[string]takaro.Values{"name": {name}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("%d roles named %s", len(page.Items), name)
	}
	return page.Items[0].ID
}

func authSetRolePermissions(t *testing.T, db *postgres.DB, d *takaro.DomainCreated, roleID uuid.UUID, codes ...string) {
	t.Helper()
	perms := authPermissionInputs(t, db, codes...)
	if _, err := db.UpdateRole(authRootCtx(d), roleID, takaro.RoleUpdate{Permissions: &perms}); err != nil {
		t.Fatal(err)
	}
}

func authLogin(t *testing.T, db *postgres.DB, email, password, hint string) *takaro.Session {
	t.Helper()
	s, err := db.Login(context.Background(), email, password, hint)
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return s
}

func authIdentity(t *testing.T, db *postgres.DB, token string) *takaro.Identity {
	t.Helper()
	id, err := db.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return id
}

func authWantPermissions(t *testing.T, id *takaro.Identity, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	got := id.Permissions
	if got == nil {
		got = []string{}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("permissions = %v, want %v", got, want)
	}
}

// authExec runs SQL in a transaction bound to the domain and returns the
// number of rows it changed.
func authExec(t *testing.T, db *postgres.DB, domain, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	err := db.InDomainForTest(authCtx(domain, uuid.Nil), func(tx *postgres.Tx) error {
		tag, err := tx.Exec(context.Background(), sql, args...)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// authQuery reads one row in a transaction bound to the domain.
func authQuery(t *testing.T, db *postgres.DB, domain, sql string, args []any, dest ...any) {
	t.Helper()
	err := db.InDomainForTest(authCtx(domain, uuid.Nil), func(tx *postgres.Tx) error {
		return tx.QueryRow(context.Background(), sql, args...).Scan(dest...)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func authTokenID(t *testing.T, token string) uuid.UUID {
	t.Helper()
	tok, err := takaro.ParseToken(token)
	if err != nil {
		t.Fatal(err)
	}
	return tok.ID
}

// authRefusedSoon checks that core refuses token within 100 ms: at once in
// the process that made the change, and as soon as the change's
// notification arrives in any other (its identity cache).
func authRefusedSoon(t *testing.T, core *postgres.DB, token string) {
	t.Helper()
	start := time.Now()
	for {
		_, err := core.Authenticate(context.Background(), token)
		if takaro.ErrorCode(err) == takaro.CodeUnauthorized {
			return
		}
		if time.Since(start) > 100*time.Millisecond {
			t.Fatalf("still accepted 100 ms after the change: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestLoginChecksTheAddressAndPassword(t *testing.T) {
	t.Parallel()
	db, _ := authOpen(t)
	d := authDomain(t, db)
	other := authDomain(t, db)
	ctx := context.Background()

	before := time.Now()
	s := authLogin(t, db, d.RootUser.Email, d.Password, "")
	if s.Domain != d.CreatedDomain.ID || s.UserID != d.RootUser.ID || !slices.Equal(s.Domains, []string{d.CreatedDomain.ID}) {
		t.Fatalf("session = %+v, want the root user of %s", s, d.CreatedDomain.ID)
	}
	if !strings.HasPrefix(s.Token, takaro.SessionTokenPrefix) {
		t.Fatalf("token %q lacks the session prefix", s.Token)
	}
	tok, err := takaro.ParseToken(s.Token)
	if err != nil || tok.Domain != d.CreatedDomain.ID || tok.Kind != takaro.CredentialSession {
		t.Fatalf("token parses to %+v, %v", tok, err)
	}
	if s.ExpiresAt.Before(before.Add(postgres.SessionLifetime-time.Minute)) || s.ExpiresAt.After(time.Now().Add(postgres.SessionLifetime+time.Minute)) {
		t.Fatalf("expires at %v, want about %v from now", s.ExpiresAt, postgres.SessionLifetime)
	}
	// The address is case-insensitive.
	authLogin(t, db, strings.ToUpper(d.RootUser.Email), d.Password, "")

	_, wrong := db.Login(ctx, d.RootUser.Email, "wrong-password", "")
	authWantRefused(t, wrong)
	_, unknown := db.Login(ctx, "nobody@example.com", d.Password, "")
	authWantRefused(t, unknown)
	if wrong.Error() != unknown.Error() {
		t.Fatalf("a wrong password (%v) and an unknown address (%v) must look the same", wrong, unknown)
	}
	for name, try := range map[string][3]string{
		"invalid address":         {"not an address", d.Password, ""},
		"password over 72 bytes":  {d.RootUser.Email, d.Password + strings.Repeat("x", 73), ""},
		"empty password":          {d.RootUser.Email, "", ""},
		"NUL in password":         {d.RootUser.Email, d.Password + "\x00", ""},
		"hint of another domain":  {d.RootUser.Email, d.Password, other.CreatedDomain.ID},
		"hint of no domain":       {d.RootUser.Email, d.Password, "no-such-domain"},
		"hint that is no domain":  {d.RootUser.Email, d.Password, "' OR true --"},
		"other domain's password": {d.RootUser.Email, other.Password, ""},
	} {
		_, err := db.Login(ctx, try[0], try[1], try[2])
		if takaro.ErrorCode(err) != takaro.CodeUnauthorized || takaro.ErrorMessage(err) != "Not authorized" {
			t.Errorf("%s: error = %v, want Not authorized", name, err)
		}
	}
}

func TestLoginWithTheSameAddressInTwoDomains(t *testing.T) {
	t.Parallel()
	db, _ := authOpen(t)
	a, b := authDomain(t, db), authDomain(t, db)
	aID, bID := a.CreatedDomain.ID, b.CreatedDomain.ID

	// Different passwords: each opens only its own domain.
	ua := authUser(t, db, a, "player one", "player@example.com", "password-of-a-111")
	ub := authUser(t, db, b, "player one", "player@example.com", "password-of-b-222")
	sa := authLogin(t, db, "player@example.com", "password-of-a-111", "")
	if sa.Domain != aID || sa.UserID != ua.ID || !slices.Equal(sa.Domains, []string{aID}) {
		t.Fatalf("session = %+v, want only %s", sa, aID)
	}
	sb := authLogin(t, db, "player@example.com", "password-of-b-222", "")
	if sb.Domain != bID || sb.UserID != ub.ID || !slices.Equal(sb.Domains, []string{bID}) {
		t.Fatalf("session = %+v, want only %s", sb, bID)
	}
	_, err := db.Login(context.Background(), "player@example.com", "password-of-a-111", bID)
	authWantRefused(t, err)

	// The same password: both domains are listed, the first by id is
	// chosen, and the hint picks the other.
	authUser(t, db, a, "both", "both@example.com", "shared-password-333")
	authUser(t, db, b, "both", "both@example.com", "shared-password-333")
	ids := []string{aID, bID}
	slices.Sort(ids)
	s := authLogin(t, db, "both@example.com", "shared-password-333", "")
	if s.Domain != ids[0] || !slices.Equal(s.Domains, ids) {
		t.Fatalf("session in %s listing %v, want %s listing %v", s.Domain, s.Domains, ids[0], ids)
	}
	if id := authIdentity(t, db, s.Token); id.Domain != ids[0] || !slices.Equal(id.Domains, ids) {
		t.Fatalf("identity in %s listing %v, want %s listing %v", id.Domain, id.Domains, ids[0], ids)
	}
	hinted := authLogin(t, db, "both@example.com", "shared-password-333", ids[1])
	if hinted.Domain != ids[1] || !slices.Equal(hinted.Domains, []string{ids[1]}) {
		t.Fatalf("hinted session in %s listing %v, want only %s", hinted.Domain, hinted.Domains, ids[1])
	}
	if id := authIdentity(t, db, hinted.Token); id.Domain != ids[1] {
		t.Fatalf("hinted identity in %s, want %s", id.Domain, ids[1])
	}
}

func TestLoginRespectsTheDomainState(t *testing.T) {
	t.Parallel()
	db, _ := authOpen(t)
	a, b := authDomain(t, db), authDomain(t, db)
	authUser(t, db, a, "someone", "someone@example.com", "the-password-1")
	authUser(t, db, b, "someone", "someone@example.com", "the-password-1")
	setState := func(d *takaro.DomainCreated, state takaro.DomainState) {
		t.Helper()
		if _, err := db.UpdateDomain(context.Background(), d.CreatedDomain.ID, takaro.DomainUpdate{State: &state}); err != nil {
			t.Fatal(err)
		}
	}
	login := func(hint string) (*takaro.Session, error) {
		return db.Login(context.Background(), "someone@example.com", "the-password-1", hint)
	}
	const (
		maintenance = "Domain is in maintenance mode. Please try again later."
		disabled    = "Domain is disabled. Please contact support."
	)

	setState(a, takaro.DomainMaintenance)
	s, err := login("")
	if err != nil || s.Domain != b.CreatedDomain.ID || len(s.Domains) != 2 {
		t.Fatalf("with %s in maintenance: %+v, %v; want a session in %s", a.CreatedDomain.ID, s, err, b.CreatedDomain.ID)
	}
	_, err = login(a.CreatedDomain.ID)
	authWantCode(t, err, takaro.CodeBadRequest, maintenance)

	setState(b, takaro.DomainDisabled)
	_, err = login("")
	authWantCode(t, err, takaro.CodeBadRequest, maintenance)
	_, err = login(b.CreatedDomain.ID)
	authWantCode(t, err, takaro.CodeBadRequest, disabled)

	setState(a, takaro.DomainDisabled)
	_, err = login("")
	authWantCode(t, err, takaro.CodeBadRequest, disabled)
	// A wrong password says nothing about the state.
	_, err = db.Login(context.Background(), "someone@example.com", "not-the-password", "")
	authWantRefused(t, err)

	// An existing session reports the state; the HTTP layer decides.
	setState(a, takaro.DomainActive)
	s, err = login(a.CreatedDomain.ID)
	if err != nil {
		t.Fatal(err)
	}
	setState(a, takaro.DomainMaintenance)
	if id := authIdentity(t, db, s.Token); id.DomainState != takaro.DomainMaintenance {
		t.Fatalf("domain state = %s, want MAINTENANCE", id.DomainState)
	}
}

func TestAuthenticateComputesPermissions(t *testing.T) {
	t.Parallel()
	db, _ := authOpen(t)
	d := authDomain(t, db)
	domain := d.CreatedDomain.ID
	ctx := authRootCtx(d)

	root := authLogin(t, db, d.RootUser.Email, d.Password, "")
	id := authIdentity(t, db, root.Token)
	if id.Domain != domain || id.UserID != d.RootUser.ID || id.DomainState != takaro.DomainActive ||
		!slices.Equal(id.Domains, []string{domain}) {
		t.Fatalf("root identity = %+v", id)
	}
	if id.Credential == nil || *id.Credential != (takaro.Credential{Kind: takaro.CredentialSession, ID: authTokenID(t, root.Token)}) {
		t.Fatalf("credential = %+v, want the session", id.Credential)
	}
	authWantPermissions(t, id, takaro.PermRoot)

	u := authUser(t, db, d, "reader", "reader@example.com", "reader-password")
	readers := authRole(t, db, d, "Readers", takaro.PermReadRoles)
	if err := db.AssignUserRole(ctx, u.ID, readers.ID, nil); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	expired := authRole(t, db, d, "Expired", takaro.PermReadUsers)
	if err := db.AssignUserRole(ctx, u.ID, expired.ID, &past); err != nil {
		t.Fatal(err)
	}
	s := authLogin(t, db, "reader@example.com", "reader-password", "")
	id = authIdentity(t, db, s.Token)
	if id.UserID != u.ID || !id.IsDashboardUser {
		t.Fatalf("identity = %+v, want the dashboard user %s", id, u.ID)
	}
	authWantPermissions(t, id, takaro.PermReadRoles)

	// The implicit User role applies to every user, at once.
	authSetRolePermissions(t, db, d, authSystemRole(t, db, d, takaro.RoleUser), takaro.PermReadEvents)
	authWantPermissions(t, authIdentity(t, db, s.Token), takaro.PermReadEvents, takaro.PermReadRoles)

	// A linked player's roles (on any game server) and the implicit Player
	// role count; the Player role needs a linked player.
	authSetRolePermissions(t, db, d, authSystemRole(t, db, d, takaro.RolePlayer), takaro.PermReadVariables)
	authWantPermissions(t, authIdentity(t, db, s.Token), takaro.PermReadEvents, takaro.PermReadRoles)
	steam := "76561198000000001"
	player, err := db.UpsertPlayer(ctx, takaro.PlayerUpsert{SteamID: &steam})
	if err != nil {
		t.Fatal(err)
	}
	playerRole := authRole(t, db, d, "Veterans", takaro.PermReadPlayers)
	if err := db.AssignPlayerRole(ctx, player.ID, playerRole.ID, nil, nil); err != nil {
		t.Fatal(err)
	}
	expiredPlayerRole := authRole(t, db, d, "Former", takaro.PermManagePlayers)
	if err := db.AssignPlayerRole(ctx, player.ID, expiredPlayerRole.ID, nil, &past); err != nil {
		t.Fatal(err)
	}
	authExec(t, db, domain, "UPDATE users SET player_id = $2 WHERE domain = $1 AND id = $3", domain, player.ID, u.ID)
	authWantPermissions(t, authIdentity(t, db, s.Token),
		takaro.PermReadEvents, takaro.PermReadPlayers, takaro.PermReadRoles, takaro.PermReadVariables)

	// Taking a role away applies to the next request.
	if err := db.RemoveUserRole(ctx, u.ID, readers.ID); err != nil {
		t.Fatal(err)
	}
	authWantPermissions(t, authIdentity(t, db, s.Token), takaro.PermReadEvents, takaro.PermReadPlayers, takaro.PermReadVariables)
}

func TestAuthenticateRefusesMalformedAndForgedTokens(t *testing.T) {
	t.Parallel()
	db, _ := authOpen(t)
	a, b := authDomain(t, db), authDomain(t, db)
	s := authLogin(t, db, a.RootUser.Email, a.Password, "")
	authIdentity(t, db, s.Token)

	// The token's body with B's id in place of A's.
	prefix, rest := s.Token[:len(takaro.SessionTokenPrefix)], s.Token[len(takaro.SessionTokenPrefix):]
	body, sum := rest[:len(rest)-6], rest[len(rest)-6:]
	n, ok := new(big.Int).SetString(body, 62)
	if !ok {
		t.Fatal("token body is not base62")
	}
	payload := n.Bytes()
	if !strings.HasSuffix(string(payload), a.CreatedDomain.ID) {
		t.Fatal("the token body does not end with the domain")
	}
	forged := append(payload[:len(payload)-len(a.CreatedDomain.ID):len(payload)-len(a.CreatedDomain.ID)], b.CreatedDomain.ID...)
	forgedBody := new(big.Int).SetBytes(forged).Text(62)
	checksum := func(s string) string {
		c := big.NewInt(int64(crc32.ChecksumIEEE([]byte(s)))).Text(62)
		return strings.Repeat("0", 6-len(c)) + c
	}

	for name, token := range map[string]string{
		"empty":                      "",
		"prefix only":                takaro.SessionTokenPrefix,
		"no prefix":                  rest,
		"bearer scheme":              "Bearer " + s.Token,
		"mistyped":                   s.Token[:len(s.Token)-1] + string(s.Token[len(s.Token)-1]^1),
		"forged domain, old sum":     prefix + forgedBody + sum,
		"forged domain, fresh sum":   prefix + forgedBody + checksum(prefix+forgedBody),
		"session presented as a key": takaro.APIKeyTokenPrefix + body + checksum(takaro.APIKeyTokenPrefix+body),
		"other secret, same session": func() string {
			_, text := takaro.NewToken(takaro.CredentialSession, a.CreatedDomain.ID, authTokenID(t, s.Token))
			return text
		}(),
	} {
		_, err := db.Authenticate(context.Background(), token)
		if takaro.ErrorCode(err) != takaro.CodeUnauthorized || takaro.ErrorMessage(err) != "Not authorized" {
			t.Errorf("%s: error = %v, want Not authorized", name, err)
		}
	}
	if _, err := takaro.ParseToken(prefix + forgedBody + sum); err == nil {
		t.Fatal("a token with a forged domain passed its checksum")
	}
	// The genuine token still works: none of the above touched it.
	authIdentity(t, db, s.Token)
}

func TestAuthenticateRefusesAReplacedSecretHash(t *testing.T) {
	t.Parallel()
	db, pdb := authOpen(t)
	d := authDomain(t, db)
	domain := d.CreatedDomain.ID
	s := authLogin(t, db, d.RootUser.Email, d.Password, "")
	second := pdb.Open(t, postgres.Options{}) // a second process: its cache is empty
	authIdentity(t, db, s.Token)
	authIdentity(t, second, s.Token)

	n := authExec(t, db, domain, "UPDATE sessions SET secret_hash = crypt('some other secret', gen_salt('bf', 4)) WHERE domain = $1 AND id = $2",
		domain, authTokenID(t, s.Token))
	if n != 1 {
		t.Fatalf("replaced %d hashes", n)
	}
	third := pdb.Open(t, postgres.Options{})
	for _, core := range []*postgres.DB{db, third} {
		_, err := core.Authenticate(context.Background(), s.Token)
		authWantRefused(t, err)
	}
	authRefusedSoon(t, second, s.Token)
}

func TestAuthenticateCachesTheVerification(t *testing.T) {
	t.Parallel()
	db, pdb := authOpen(t)
	d := authDomain(t, db)
	s := authLogin(t, db, d.RootUser.Email, d.Password, "")

	// Login put the new token into its process's cache.
	authIdentity(t, db, s.Token)
	if st := db.CredentialStats(); st.Verifications != 0 || st.CacheHits != 1 {
		t.Fatalf("after one request in the login's process: %+v, want no verification and one hit", st)
	}

	other := pdb.Open(t, postgres.Options{})
	authIdentity(t, other, s.Token)
	if st := other.CredentialStats(); st.Verifications != 1 || st.CacheHits != 0 || st.Cached != 1 {
		t.Fatalf("after the first request in another process: %+v, want one verification", st)
	}
	authIdentity(t, other, s.Token)
	authIdentity(t, other, s.Token)
	if st := other.CredentialStats(); st.Verifications != 1 || st.CacheHits != 2 {
		t.Fatalf("after three requests: %+v, want still one verification and two hits", st)
	}

	// Concurrent requests with a token that is not cached yet share one
	// verification.
	third := pdb.Open(t, postgres.Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			if _, err := third.Authenticate(context.Background(), s.Token); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if st := third.CredentialStats(); st.Verifications != 1 || st.CacheHits != 19 {
		t.Fatalf("after 20 concurrent requests: %+v, want one verification and 19 hits", st)
	}

	// A wrong secret is verified (and refused) every time, never cached.
	_, wrong := takaro.NewToken(takaro.CredentialSession, d.CreatedDomain.ID, authTokenID(t, s.Token))
	for range 2 {
		_, err := other.Authenticate(context.Background(), wrong)
		authWantRefused(t, err)
	}
	if st := other.CredentialStats(); st.Verifications != 3 || st.Cached != 1 {
		t.Fatalf("after two wrong secrets: %+v, want three verifications and one cached token", st)
	}
}

func TestCredentialCacheIsBoundedAndExpires(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	c := postgres.NewCredentialCacheForTest(3, 5*time.Minute, func() time.Time { return now })
	for _, tok := range []string{"t1", "t2", "t3", "t4"} {
		c.Put(tok, "hash of "+tok)
	}
	if c.Len() != 3 {
		t.Fatalf("len = %d, want the bound 3", c.Len())
	}
	if c.Get("t4") != "hash of t4" {
		t.Fatal("the newest entry is missing")
	}
	// Use extends an entry's life; idle entries expire.
	now = now.Add(4 * time.Minute)
	if c.Get("t4") != "hash of t4" {
		t.Fatal("t4 expired early")
	}
	now = now.Add(4 * time.Minute)
	if c.Get("t4") != "hash of t4" {
		t.Fatal("using t4 did not extend its life")
	}
	for _, tok := range []string{"t1", "t2", "t3"} {
		if h := c.Get(tok); h != "" {
			t.Fatalf("%s survived 8 idle minutes", tok)
		}
	}
	// A full cache makes room by dropping expired entries first.
	c.Put("a", "1")
	c.Put("b", "2")
	now = now.Add(6 * time.Minute) // t4, a and b expire
	c.Put("c", "3")
	c.Put("d", "4")
	if c.Len() != 2 || c.Get("c") != "3" || c.Get("d") != "4" {
		t.Fatalf("len = %d after expiry, want c and d only", c.Len())
	}
	c.Remove("c")
	if c.Get("c") != "" || c.Len() != 1 {
		t.Fatal("remove kept the entry")
	}
}

func TestCredentialCacheSharesAVerification(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := postgres.NewCredentialCacheForTest(10, time.Minute, nil)
	verifyAll := func(hash string, check func() (bool, error)) (oks, errs int) {
		t.Helper()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				ok, err := c.Verify(ctx, "token", hash, check)
				mu.Lock()
				defer mu.Unlock()
				if ok {
					oks++
				}
				if err != nil {
					errs++
				}
			})
		}
		wg.Wait()
		return oks, errs
	}

	var calls atomic.Int32
	release := make(chan struct{})
	go func() { time.Sleep(20 * time.Millisecond); close(release) }()
	oks, errs := verifyAll("hash 1", func() (bool, error) { calls.Add(1); <-release; return true, nil })
	if oks != 10 || errs != 0 || calls.Load() != 1 || c.Get("token") != "hash 1" {
		t.Fatalf("%d ok, %d errors, %d checks; want 10 ok from one check, cached", oks, errs, calls.Load())
	}

	// Another stored hash is checked again; a mismatch drops the entry.
	calls.Store(0)
	oks, errs = verifyAll("hash 2", func() (bool, error) { calls.Add(1); return false, nil })
	if oks != 0 || errs != 0 || calls.Load() == 0 || c.Get("token") != "" {
		t.Fatalf("%d ok, %d errors, %d checks; want refusals and no entry", oks, errs, calls.Load())
	}

	// A failed check (say, a cancelled request) is not shared: the others
	// check for themselves.
	calls.Store(0)
	release = make(chan struct{})
	go func() { time.Sleep(20 * time.Millisecond); close(release) }()
	oks, errs = verifyAll("hash 3", func() (bool, error) {
		if calls.Add(1) == 1 {
			<-release
			return false, context.Canceled
		}
		return true, nil
	})
	if oks != 9 || errs != 1 {
		t.Fatalf("%d ok, %d errors; want the failure only for the caller that had it", oks, errs)
	}
}

func TestLogoutRevokesAtOnce(t *testing.T) {
	t.Parallel()
	db, pdb := authOpen(t)
	d := authDomain(t, db)
	other := authDomain(t, db)
	s := authLogin(t, db, d.RootUser.Email, d.Password, "")
	second := pdb.Open(t, postgres.Options{})
	for range 2 { // cached in both processes
		authIdentity(t, db, s.Token)
		authIdentity(t, second, s.Token)
	}
	sessionID := authTokenID(t, s.Token)

	// Only the session's own user, in its own domain, can end it.
	u := authUser(t, db, d, "someone else", "else@example.com", "else-password")
	authWantCode(t, db.Logout(authCtx(d.CreatedDomain.ID, u.ID), sessionID), takaro.CodeNotFound, "")
	authWantCode(t, db.Logout(authRootCtx(other), sessionID), takaro.CodeNotFound, "")
	authIdentity(t, db, s.Token)

	if err := db.Logout(authRootCtx(d), sessionID); err != nil {
		t.Fatal(err)
	}
	_, err := db.Authenticate(context.Background(), s.Token)
	authWantRefused(t, err)
	authRefusedSoon(t, second, s.Token)
	authWantCode(t, db.Logout(authRootCtx(d), sessionID), takaro.CodeNotFound, "")
	authWantCode(t, db.Logout(authRootCtx(d), uuid.New()), takaro.CodeNotFound, "")
	// Other sessions of the user live on.
	authIdentity(t, db, authLogin(t, db, d.RootUser.Email, d.Password, "").Token)
}

func TestExpiredCredentialsAreRefused(t *testing.T) {
	t.Parallel()
	db, _ := authOpen(t)
	d := authDomain(t, db)
	domain := d.CreatedDomain.ID
	s := authLogin(t, db, d.RootUser.Email, d.Password, "")
	creator := authIdentity(t, db, s.Token)
	soon := time.Now().Add(time.Hour)
	key, err := db.CreateAPIKey(authRootCtx(d), creator, takaro.APIKeyCreate{Name: "expiring", ExpiresAt: &soon})
	if err != nil {
		t.Fatal(err)
	}
	if key.APIKey.ExpiresAt == nil || key.APIKey.ExpiresAt.Sub(soon).Abs() > time.Millisecond {
		t.Fatalf("expiresAt = %v, want %v", key.APIKey.ExpiresAt, soon)
	}
	authIdentity(t, db, key.Secret)

	authExec(t, db, domain, "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE domain = $1", domain)
	authExec(t, db, domain, "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE domain = $1", domain)
	for _, token := range []string{s.Token, key.Secret} {
		_, err := db.Authenticate(context.Background(), token)
		authWantRefused(t, err)
	}

	past := time.Now().Add(-time.Minute)
	_, err = db.CreateAPIKey(authRootCtx(d), creator, takaro.APIKeyCreate{Name: "already expired", ExpiresAt: &past})
	authWantCode(t, err, takaro.CodeValidation, "")
}

func TestAPIKeyPermissionsAreCapped(t *testing.T) {
	t.Parallel()
	db, _ := authOpen(t)
	d := authDomain(t, db)
	other := authDomain(t, db)
	domain := d.CreatedDomain.ID
	rootCtx := authRootCtx(d)

	u := authUser(t, db, d, "key maker", "keys@example.com", "keys-password")
	role := authRole(t, db, d, "Key makers", takaro.PermReadRoles, takaro.PermReadUsers)
	if err := db.AssignUserRole(rootCtx, u.ID, role.ID, nil); err != nil {
		t.Fatal(err)
	}
	creator := authIdentity(t, db, authLogin(t, db, "keys@example.com", "keys-password", "").Token)
	ctx := authCtx(domain, u.ID)

	// Not more than the creator holds.
	_, err := db.CreateAPIKey(ctx, creator, takaro.APIKeyCreate{Name: "too much", Permissions: []string{takaro.PermReadRoles, takaro.PermManageRoles}})
	authWantCode(t, err, takaro.CodeForbidden, "")
	if !strings.Contains(takaro.ErrorMessage(err), takaro.PermManageRoles) {
		t.Fatalf("message %q does not name %s", takaro.ErrorMessage(err), takaro.PermManageRoles)
	}
	_, err = db.CreateAPIKey(ctx, creator, takaro.APIKeyCreate{Name: "unknown", Permissions: []string{"NOT_A_PERMISSION"}})
	authWantCode(t, err, takaro.CodeValidation, "")
	_, err = db.CreateAPIKey(authRootCtx(other), creator, takaro.APIKeyCreate{Name: "elsewhere"})
	authWantRefused(t, err)

	created, err := db.CreateAPIKey(ctx, creator, takaro.APIKeyCreate{Name: "reader", Permissions: []string{takaro.PermReadRoles, takaro.PermReadRoles}})
	if err != nil {
		t.Fatal(err)
	}
	k := created.APIKey
	if k.Name != "reader" || k.UserID != u.ID || !slices.Equal(k.Permissions, []string{takaro.PermReadRoles}) ||
		k.ExpiresAt != nil || k.RevokedAt != nil || k.CreatedAt.IsZero() {
		t.Fatalf("api key = %+v", k)
	}
	if !strings.HasPrefix(created.Secret, takaro.APIKeyTokenPrefix) {
		t.Fatalf("secret %q lacks the API key prefix", created.Secret)
	}
	id := authIdentity(t, db, created.Secret)
	if id.UserID != u.ID || id.Domain != domain || !slices.Equal(id.Domains, []string{domain}) ||
		id.Credential == nil || *id.Credential != (takaro.Credential{Kind: takaro.CredentialAPIKey, ID: k.ID}) {
		t.Fatalf("identity = %+v", id)
	}
	// Only what the key was granted, not everything the user holds.
	authWantPermissions(t, id, takaro.PermReadRoles)

	// The key loses what its user loses.
	if err := db.RemoveUserRole(rootCtx, u.ID, role.ID); err != nil {
		t.Fatal(err)
	}
	authWantPermissions(t, authIdentity(t, db, created.Secret))
	if err := db.AssignUserRole(rootCtx, u.ID, role.ID, nil); err != nil {
		t.Fatal(err)
	}
	authWantPermissions(t, authIdentity(t, db, created.Secret), takaro.PermReadRoles)

	// ROOT may grant anything; the key gets exactly that, not ROOT.
	root := authIdentity(t, db, authLogin(t, db, d.RootUser.Email, d.Password, "").Token)
	rootKey, err := db.CreateAPIKey(rootCtx, root, takaro.APIKeyCreate{Name: "manager", Permissions: []string{takaro.PermManageRoles}})
	if err != nil {
		t.Fatal(err)
	}
	authWantPermissions(t, authIdentity(t, db, rootKey.Secret), takaro.PermManageRoles)
	// A key granted ROOT has ROOT only while its user does.
	rootRootKey, err := db.CreateAPIKey(rootCtx, root, takaro.APIKeyCreate{Name: "everything", Permissions: []string{takaro.PermRoot}})
	if err != nil {
		t.Fatal(err)
	}
	authWantPermissions(t, authIdentity(t, db, rootRootKey.Secret), takaro.PermRoot)
	if err := db.RemoveUserRole(rootCtx, d.RootUser.ID, d.RootRole.ID); err != nil {
		t.Fatal(err)
	}
	authWantPermissions(t, authIdentity(t, db, rootRootKey.Secret))
	authWantPermissions(t, authIdentity(t, db, rootKey.Secret))

	var events int
	authQuery(t, db, domain, "SELECT count(*) FROM events WHERE domain = $1 AND event_name = 'api-key-created'", []any{domain}, &events)
	if events != 3 {
		t.Fatalf("%d api-key-created events, want 3", events)
	}
}

func TestCredentialSecretsAreNeverStoredOrListed(t *testing.T) {
	t.Parallel()
	db, _ := authOpen(t)
	d := authDomain(t, db)
	domain := d.CreatedDomain.ID
	s := authLogin(t, db, d.RootUser.Email, d.Password, "")
	root := authIdentity(t, db, s.Token)
	key, err := db.CreateAPIKey(authRootCtx(d), root, takaro.APIKeyCreate{Name: "reporting", Permissions: []string{takaro.PermReadUsers}})
	if err != nil {
		t.Fatal(err)
	}
	authIdentity(t, db, key.Secret)
	var needles []string
	for _, token := range []string{s.Token, key.Secret} {
		tok, err := takaro.ParseToken(token)
		if err != nil {
			t.Fatal(err)
		}
		needles = append(needles, token, tok.Secret, strings.ToUpper(tok.Secret))
	}

	for _, table := range []string{"sessions", "api_keys", "api_key_permissions", "events", "users"} {
		var dump string
		authQuery(t, db, domain, "SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM "+table+" t", nil, &dump)
		for _, needle := range needles {
			if strings.Contains(dump, needle) {
				t.Errorf("table %s holds a token or its secret", table)
			}
		}
	}
	bcrypt4 := regexp.MustCompile(`^\$2a\$04\$[./A-Za-z0-9]{53}$`)
	var hashes []string
	authQuery(t, db, domain, `SELECT array_agg(secret_hash) FROM (SELECT secret_hash FROM sessions UNION ALL SELECT secret_hash FROM api_keys) h`, nil, &hashes)
	if len(hashes) != 2 {
		t.Fatalf("%d stored hashes, want 2", len(hashes))
	}
	for _, h := range hashes {
		if !bcrypt4.MatchString(h) {
			t.Errorf("stored hash %q is not bcrypt at the configured cost 4", h)
		}
	}

	keys, err := db.ListAPIKeys(authRootCtx(d))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].ID != key.APIKey.ID || !slices.Equal(keys[0].Permissions, []string{takaro.PermReadUsers}) ||
		keys[0].LastUsedAt == nil {
		t.Fatalf("keys = %+v", keys)
	}
	listed, err := json.Marshal(keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, needle := range append(needles, hashes...) {
		if strings.Contains(string(listed), needle) {
			t.Fatalf("the list %s shows a secret or hash", listed)
		}
	}
	if strings.Contains(string(listed), "$2") || strings.Contains(strings.ToLower(string(listed)), "secret") {
		t.Fatalf("the list %s mentions a secret", listed)
	}
}

func TestRevokeAPIKey(t *testing.T) {
	t.Parallel()
	db, pdb := authOpen(t)
	d := authDomain(t, db)
	other := authDomain(t, db)
	ctx := authRootCtx(d)
	root := authIdentity(t, db, authLogin(t, db, d.RootUser.Email, d.Password, "").Token)
	key, err := db.CreateAPIKey(ctx, root, takaro.APIKeyCreate{Name: "short lived"})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := db.CreateAPIKey(ctx, root, takaro.APIKeyCreate{Name: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	second := pdb.Open(t, postgres.Options{})
	for range 2 {
		authIdentity(t, db, key.Secret)
		authIdentity(t, second, key.Secret)
	}

	authWantCode(t, db.RevokeAPIKey(authRootCtx(other), key.APIKey.ID), takaro.CodeNotFound, "")
	if err := db.RevokeAPIKey(ctx, key.APIKey.ID); err != nil {
		t.Fatal(err)
	}
	_, err = db.Authenticate(context.Background(), key.Secret)
	authWantRefused(t, err)
	authRefusedSoon(t, second, key.Secret)
	authIdentity(t, db, keep.Secret)
	authWantCode(t, db.RevokeAPIKey(ctx, key.APIKey.ID), takaro.CodeNotFound, "")
	authWantCode(t, db.RevokeAPIKey(ctx, uuid.New()), takaro.CodeNotFound, "")

	keys, err := db.ListAPIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != key.APIKey.ID || keys[0].RevokedAt == nil || keys[1].RevokedAt != nil {
		t.Fatalf("keys = %+v, want the revoked key then the kept one", keys)
	}
	if others, err := db.ListAPIKeys(authRootCtx(other)); err != nil || len(others) != 0 {
		t.Fatalf("another domain lists %v, %v", others, err)
	}
	var events int
	authQuery(t, db, d.CreatedDomain.ID, "SELECT count(*) FROM events WHERE domain = $1 AND event_name = 'api-key-revoked' AND meta->>'apiKeyId' = $2",
		[]any{d.CreatedDomain.ID, key.APIKey.ID.String()}, &events)
	if events != 1 {
		t.Fatalf("%d api-key-revoked events, want 1", events)
	}
}

func TestLastSeenIsRecordedAtMostOncePerMinute(t *testing.T) {
	t.Parallel()
	// Each process remembers when it last recorded "last seen", so its
	// clock moves on with the ageing of the rows below.
	var skew atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	pdb := pgtest.New(t)
	db := pdb.Open(t, postgres.Options{Now: clock})
	d := authDomain(t, db)
	domain := d.CreatedDomain.ID
	s := authLogin(t, db, d.RootUser.Email, d.Password, "")
	sessionID := authTokenID(t, s.Token)
	root := authIdentity(t, db, s.Token)
	key, err := db.CreateAPIKey(authRootCtx(d), root, takaro.APIKeyCreate{Name: "seen"})
	if err != nil {
		t.Fatal(err)
	}
	keyID := key.APIKey.ID

	// xmin changes exactly when a row is written.
	versions := func() (user, session, apiKey string) {
		t.Helper()
		authQuery(t, db, domain, `SELECT (SELECT xmin::text FROM users WHERE domain = $1 AND id = $2),
			(SELECT xmin::text FROM sessions WHERE domain = $1 AND id = $3),
			(SELECT xmin::text FROM api_keys WHERE domain = $1 AND id = $4)`,
			[]any{domain, d.RootUser.ID, sessionID, keyID}, &user, &session, &apiKey)
		return
	}
	age := func() {
		t.Helper()
		authExec(t, db, domain, "UPDATE users SET last_seen = now() - interval '2 minutes' WHERE domain = $1", domain)
		authExec(t, db, domain, "UPDATE sessions SET last_seen_at = now() - interval '2 minutes' WHERE domain = $1", domain)
		authExec(t, db, domain, "UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE domain = $1", domain)
	}
	recent := func(what, sql string, id uuid.UUID) {
		t.Helper()
		var fresh bool
		authQuery(t, db, domain, "SELECT "+what+" > now() - interval '10 seconds' FROM "+sql+" WHERE domain = $1 AND id = $2", []any{domain, id}, &fresh)
		if !fresh {
			t.Fatalf("%s was not recorded", what)
		}
	}

	for _, core := range []*postgres.DB{db, pdb.Open(t, postgres.Options{Now: clock})} { // cached, then verified
		age()
		skew.Add(int64(2 * time.Minute))
		u0, s0, k0 := versions()
		authIdentity(t, core, s.Token)
		u1, s1, k1 := versions()
		if u1 == u0 || s1 == s0 || k1 != k0 {
			t.Fatalf("first session request: user written %v, session written %v, key written %v; want user and session", u1 != u0, s1 != s0, k1 != k0)
		}
		recent("last_seen", "users", d.RootUser.ID)
		recent("last_seen_at", "sessions", sessionID)
		authIdentity(t, core, s.Token)
		authIdentity(t, core, key.Secret)
		u2, s2, k2 := versions()
		if u2 != u1 || s2 != s1 || k2 == k1 {
			t.Fatalf("next requests: user written %v, session written %v, key written %v; want only the key", u2 != u1, s2 != s1, k2 != k1)
		}
		recent("last_used_at", "api_keys", keyID)
		authIdentity(t, core, key.Secret)
		if u3, s3, k3 := versions(); u3 != u2 || s3 != s2 || k3 != k2 {
			t.Fatal("a second key request within the minute wrote")
		}
	}

	// A token with the right id and a wrong secret records nothing.
	age()
	u0, s0, _ := versions()
	_, wrong := takaro.NewToken(takaro.CredentialSession, domain, sessionID)
	_, err = db.Authenticate(context.Background(), wrong)
	authWantRefused(t, err)
	if u1, s1, _ := versions(); u1 != u0 || s1 != s0 {
		t.Fatal("a wrong secret recorded the user or session as seen")
	}
}

func TestAuthenticateUser(t *testing.T) {
	t.Parallel()
	db, _ := authOpen(t)
	d, other := authDomain(t, db), authDomain(t, db)
	domain := d.CreatedDomain.ID
	id, err := db.AuthenticateUser(context.Background(), domain, d.RootUser.ID)
	if err != nil {
		t.Fatal(err)
	}
	if id.Domain != domain || id.UserID != d.RootUser.ID || id.Credential != nil || id.DomainState != takaro.DomainActive ||
		!slices.Equal(id.Domains, []string{domain}) {
		t.Fatalf("identity = %+v", id)
	}
	authWantPermissions(t, id, takaro.PermRoot)

	for name, try := range map[string]struct {
		domain string
		user   uuid.UUID
	}{
		"unknown user":           {domain, uuid.New()},
		"another domain's user":  {domain, other.RootUser.ID},
		"unknown domain":         {"no-such-domain", d.RootUser.ID},
		"invalid domain":         {"", d.RootUser.ID},
		"domain id that is junk": {"' OR true --", d.RootUser.ID},
	} {
		_, err := db.AuthenticateUser(context.Background(), try.domain, try.user)
		if takaro.ErrorCode(err) != takaro.CodeUnauthorized {
			t.Errorf("%s: error = %v, want Not authorized", name, err)
		}
	}
}

func TestRootUserIDIsTheRootRoleHolder(t *testing.T) {
	t.Parallel()
	db, _ := authOpen(t)
	d := authDomain(t, db)
	ctx := authRootCtx(d)
	domain := d.CreatedDomain.ID
	rootID := func() uuid.UUID {
		t.Helper()
		id, err := db.RootUserID(context.Background(), domain)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	if got := rootID(); got != d.RootUser.ID {
		t.Fatalf("root user = %s, want %s", got, d.RootUser.ID)
	}

	// Names are not unique and mean nothing: an older user named root
	// without the role does not count.
	impostor := authUser(t, db, d, "root", "impostor@example.com", "impostor-password")
	authExec(t, db, domain, "UPDATE users SET created_at = now() - interval '1 day' WHERE domain = $1 AND id = $2", domain, impostor.ID)
	successor := authUser(t, db, d, "successor", "successor@example.com", "successor-password")
	if err := db.AssignUserRole(ctx, successor.ID, d.RootRole.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := rootID(); got != d.RootUser.ID {
		t.Fatalf("root user = %s, want the earliest holder %s", got, d.RootUser.ID)
	}
	if err := db.RemoveUserRole(ctx, d.RootUser.ID, d.RootRole.ID); err != nil {
		t.Fatal(err)
	}
	if got := rootID(); got != successor.ID {
		t.Fatalf("root user = %s, want the remaining holder %s", got, successor.ID)
	}

	// A non-system role named root is not the root role.
	if err := db.RemoveUserRole(ctx, successor.ID, d.RootRole.ID); err != nil {
		t.Fatal(err)
	}
	authExec(t, db, domain, "UPDATE roles SET name = 'old root' WHERE domain = $1 AND id = $2", domain, d.RootRole.ID)
	fake := authRole(t, db, d, takaro.RoleRoot, takaro.PermRoot)
	if err := db.AssignUserRole(ctx, impostor.ID, fake.ID, nil); err != nil {
		t.Fatal(err)
	}
	for _, dom := range []string{domain, "no-such-domain", "Not A Domain"} {
		_, err := db.RootUserID(context.Background(), dom)
		authWantCode(t, err, takaro.CodeNotFound, "")
	}
}
