package postgres_test

import (
	"context"
	"testing"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
)

// Guessing secrets for a known credential id is cut off after a few wrong
// ones, without spending a crypt() on each further guess; tokens already
// verified keep working.
func TestWrongSecretsAreThrottled(t *testing.T) {
	t.Parallel()
	db, pdb := authOpen(t)
	d := authDomain(t, db)
	s := authLogin(t, db, d.RootUser.Email, d.Password, "")

	guesser := pdb.Open(t, postgres.Options{})
	_, wrong := takaro.NewToken(takaro.CredentialSession, d.CreatedDomain.ID, authTokenID(t, s.Token))
	for range 8 {
		_, err := guesser.Authenticate(context.Background(), wrong)
		authWantRefused(t, err)
	}
	st := guesser.CredentialStats()
	if st.Verifications != 5 || st.Throttled != 3 {
		t.Fatalf("after 8 wrong secrets: %+v, want 5 verifications and 3 throttled", st)
	}
	// The right secret, uncached in the guessing process, waits out the
	// window there too...
	_, err := guesser.Authenticate(context.Background(), s.Token)
	authWantRefused(t, err)
	// ...but where it was verified before, it keeps working.
	authIdentity(t, db, s.Token)
}
