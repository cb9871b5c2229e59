package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
)

// Recording when a user was last seen must not look like a change of the
// user; a real change must.
func TestUpdatedAtIgnoresLastSeen(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t).Open(t, postgres.Options{})
	ctx := context.Background()
	created, err := db.CreateDomain(ctx, takaro.DomainCreate{Name: "updated at"})
	if err != nil {
		t.Fatal(err)
	}
	ctx = takaro.NewContext(ctx, takaro.Principal{Domain: created.CreatedDomain.ID})
	before := created.RootUser.UpdatedAt
	err = db.InDomainForTest(ctx, func(tx *postgres.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE users SET last_seen = now() + interval '1 hour' WHERE domain = $1", tx.Domain)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.FindUserByID(ctx, created.RootUser.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !u.UpdatedAt.Equal(before) || !u.LastSeen.After(before) {
		t.Fatalf("after recording last_seen: updatedAt %v (was %v), lastSeen %v", u.UpdatedAt, before, u.LastSeen)
	}
	name := "renamed"
	time.Sleep(2 * time.Millisecond)
	u, err = db.UpdateUser(ctx, created.RootUser.ID, takaro.UserUpdate{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if !u.UpdatedAt.After(before) {
		t.Fatalf("after a rename updatedAt is %v, not after %v", u.UpdatedAt, before)
	}
}
