package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

func authFrom(addr string) context.Context {
	return takaro.WithClientAddress(context.Background(), addr)
}

// authWantThrottled checks that err is a 429 that says when to retry.
func authWantThrottled(t *testing.T, err error) {
	t.Helper()
	authWantCode(t, err, takaro.CodeTooManyRequests, "")
	if e, ok := errors.AsType[*takaro.Error](err); !ok || e.RetryAfter < time.Second {
		t.Fatalf("error %v says not when to retry", err)
	}
}

// A known API key id is no lever against its owner: wrong secrets for it
// are paid for by the guesser's address, so the owner's uncached token
// still works from elsewhere, and guessing stops costing crypt() calls.
func TestForgedSecretsDoNotLockOutTheOwner(t *testing.T) {
	t.Parallel()
	db, pdb := authOpen(t)
	d := authDomain(t, db)
	root := authIdentity(t, db, authLogin(t, db, d.RootUser.Email, d.Password, "").Token)
	key, err := db.CreateAPIKey(authRootCtx(d), root, takaro.APIKeyCreate{Name: "bot"})
	if err != nil {
		t.Fatal(err)
	}
	guesser := pdb.Open(t, postgres.Options{Throttles: postgres.Throttles{VerifyPerAddress: postgres.Rate{Burst: 5, Every: time.Hour}}})
	_, forged := takaro.NewToken(takaro.CredentialAPIKey, d.CreatedDomain.ID, key.APIKey.ID)
	for i := range 8 {
		_, err := guesser.Authenticate(authFrom("203.0.113.9"), forged)
		if i < 5 {
			authWantRefused(t, err)
		} else {
			authWantThrottled(t, err)
		}
	}
	if st := guesser.CredentialStats(); st.Verifications != 5 || st.Throttled != 3 {
		t.Fatalf("after 8 wrong secrets: %+v, want 5 verifications and 3 throttled", st)
	}
	// The owner, from another address, is verified on that process...
	if id, err := guesser.Authenticate(authFrom("198.51.100.7"), key.Secret); err != nil || id.UserID != root.UserID {
		t.Fatalf("the owner's key after forged guesses: %+v, %v", id, err)
	}
	// ...and, once verified, even the guesser's address cannot stop it.
	if _, err := guesser.Authenticate(authFrom("203.0.113.9"), key.Secret); err != nil {
		t.Fatalf("a verified key from a throttled address: %v", err)
	}
	if st := guesser.CredentialStats(); st.Verifications != 6 {
		t.Fatalf("%d verifications, want 6", st.Verifications)
	}
}

// Wrong secrets from many addresses together are bounded too; verified
// tokens keep working meanwhile.
func TestWrongSecretsAreThrottledGlobally(t *testing.T) {
	t.Parallel()
	db, pdb := authOpen(t)
	d := authDomain(t, db)
	s := authLogin(t, db, d.RootUser.Email, d.Password, "")
	guesser := pdb.Open(t, postgres.Options{Throttles: postgres.Throttles{VerifyGlobal: postgres.Rate{Burst: 3, Every: time.Hour}}})
	authIdentity(t, guesser, s.Token)
	_, wrong := takaro.NewToken(takaro.CredentialSession, d.CreatedDomain.ID, authTokenID(t, s.Token))
	for i := range 3 {
		_, err := guesser.Authenticate(authFrom(fmt.Sprintf("203.0.113.%d", i)), wrong)
		authWantRefused(t, err)
	}
	_, err := guesser.Authenticate(authFrom("203.0.113.200"), wrong)
	authWantThrottled(t, err)
	if _, err := guesser.Authenticate(authFrom("203.0.113.200"), s.Token); err != nil {
		t.Fatalf("a verified token while verifications are throttled: %v", err)
	}
}

// Failed logins are throttled per client address and per e-mail address;
// successful ones cost nothing.
func TestFailedLoginsAreThrottled(t *testing.T) {
	t.Parallel()
	pdb := pgtest.New(t)
	db := pdb.Open(t, postgres.Options{Throttles: postgres.Throttles{
		LoginPerAddress: postgres.Rate{Burst: 3, Every: time.Hour},
		LoginPerEmail:   postgres.Rate{Burst: 4, Every: time.Hour},
	}})
	d := authDomain(t, db)
	email := d.RootUser.Email
	for range 5 {
		if _, err := db.Login(authFrom("192.0.2.1"), email, d.Password, ""); err != nil {
			t.Fatalf("a right password: %v", err)
		}
	}
	for range 3 {
		_, err := db.Login(authFrom("192.0.2.1"), email, "wrong-password", "")
		authWantRefused(t, err)
	}
	// The address is spent: even the right password waits...
	_, err := db.Login(authFrom("192.0.2.1"), email, d.Password, "")
	authWantThrottled(t, err)
	_, err = db.Login(authFrom("192.0.2.1"), "someone-else@example.com", "wrong-password", "")
	authWantThrottled(t, err)
	// ...while the e-mail address has one failure left, from elsewhere.
	_, err = db.Login(authFrom("192.0.2.2"), email, "wrong-password", "")
	authWantRefused(t, err)
	_, err = db.Login(authFrom("192.0.2.3"), email, "wrong-password", "")
	authWantThrottled(t, err)
	if _, err := db.Login(authFrom("192.0.2.3"), "someone-else@example.com", "wrong-password", ""); takaro.ErrorCode(err) != takaro.CodeUnauthorized {
		t.Fatalf("another address from a fresh client address: %v, want 401", err)
	}
}

// cryptCalls counts the crypt() calls the test database has run, from
// PostgreSQL's function statistics: work the server did, not what the
// code says it asked for. flush is a one-connection pool of the DB under
// test whose statistics are made visible first.
func cryptCalls(t *testing.T, super *pgxpool.Pool, flush *postgres.DB) int64 {
	t.Helper()
	if _, err := flush.Pool().Exec(context.Background(), "SELECT pg_stat_force_next_flush()"); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := super.QueryRow(context.Background(),
		"SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions WHERE funcname = 'crypt'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A wrong password costs the same number of crypt() calls whether the
// address exists in no domain, one or eight, so neither its time nor its
// cost tells how many tenants an address belongs to.
func TestLoginCostsTheSameWhateverTheNumberOfDomains(t *testing.T) {
	t.Parallel()
	pdb := pgtest.New(t)
	super := superuser(t, pdb)
	if _, err := super.Exec(context.Background(), "ALTER DATABASE "+pdb.Name+" SET track_functions = 'all'"); err != nil {
		t.Fatal(err)
	}
	setup := pdb.Open(t, postgres.Options{})
	cfg := pdb.Config(t)
	cfg.MaxConns = 1
	db, err := postgres.Open(context.Background(), cfg, postgres.Options{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)

	var hint string
	for i := range 8 {
		d := authDomain(t, setup)
		authUser(t, setup, d, "eight", "eight@example.com", "the-password-8")
		if i == 0 {
			authUser(t, setup, d, "one", "one@example.com", "the-password-1")
			hint = d.CreatedDomain.ID
		}
	}
	cost := func(email, password, hint string) int64 {
		before := cryptCalls(t, super, db)
		_, err := db.Login(authFrom(email), email, password, hint)
		authWantRefused(t, err)
		return cryptCalls(t, super, db) - before
	}
	none, one, eight := cost("nobody@example.com", "wrong-password", ""),
		cost("one@example.com", "wrong-password", ""), cost("eight@example.com", "wrong-password", "")
	if none == 0 || none != one || one != eight {
		t.Fatalf("crypt() calls of a wrong password: %d with no domain, %d with one, %d with eight; want one same number", none, one, eight)
	}
	hinted := []int64{cost("nobody@example.com", "wrong-password", hint), cost("one@example.com", "wrong-password", hint),
		cost("eight@example.com", "wrong-password", hint)}
	if hinted[0] != 1 || hinted[1] != 1 || hinted[2] != 1 {
		t.Fatalf("crypt() calls of a wrong password with a domain hint: %v, want 1 each", hinted)
	}
}

// A password hashed under an older work factor is hashed again under the
// configured one at its next successful login.
func TestLoginRehashesUnderANewCost(t *testing.T) {
	t.Parallel()
	pdb := pgtest.New(t)
	old := pdb.Open(t, postgres.Options{BcryptCost: 4})
	d := authDomain(t, old)
	u := authUser(t, old, d, "someone", "someone@example.com", "the-password-5")
	super := superuser(t, pdb)
	storedHash := func() string {
		var h string
		if err := super.QueryRow(context.Background(), "SELECT password_hash FROM users WHERE domain = $1 AND id = $2",
			d.CreatedDomain.ID, u.ID).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	if h := storedHash(); !strings.HasPrefix(h, "$2a$04$") {
		t.Fatalf("hash %.7s…, want cost 4", h)
	}
	authLogin(t, old, "someone@example.com", "the-password-5", "")
	if h := storedHash(); !strings.HasPrefix(h, "$2a$04$") {
		t.Fatalf("hash %.7s… after a login at the same cost, want it unchanged", h)
	}
	newer := pdb.Open(t, postgres.Options{BcryptCost: 5})
	_, err := newer.Login(context.Background(), "someone@example.com", "wrong-password", "")
	authWantRefused(t, err)
	if h := storedHash(); !strings.HasPrefix(h, "$2a$04$") {
		t.Fatalf("hash %.7s… after a wrong password, want it unchanged", h)
	}
	authLogin(t, newer, "someone@example.com", "the-password-5", "")
	if h := storedHash(); !strings.HasPrefix(h, "$2a$05$") {
		t.Fatalf("hash %.7s… after a login at cost 5, want cost 5", h)
	}
}
