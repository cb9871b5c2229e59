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
	if !u.UpdatedAt.Equal(before.Time) || !u.LastSeen.After(before.Time) {
		t.Fatalf("after recording last_seen: updatedAt %v (was %v), lastSeen %v", u.UpdatedAt, before, u.LastSeen)
	}
	name := "renamed"
	time.Sleep(2 * time.Millisecond)
	u, err = db.UpdateUser(ctx, created.RootUser.ID, takaro.UserUpdate{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if !u.UpdatedAt.After(before.Time) {
		t.Fatalf("after a rename updatedAt is %v, not after %v", u.UpdatedAt, before)
	}
}

// Re-encrypting a value under a new key changes nothing a client sees, so
// updatedAt stays.
func TestRotationKeepsUpdatedAt(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	old := db.Open(t, postgres.Options{})
	ctx := context.Background()
	created, err := old.CreateDomain(ctx, takaro.DomainCreate{Name: "rotation updated at"})
	if err != nil {
		t.Fatal(err)
	}
	ctx = takaro.NewContext(ctx, takaro.Principal{Domain: created.CreatedDomain.ID})
	gs, err := old.CreateGameServer(ctx, takaro.GameServerCreate{Name: "srv", Type: takaro.GameServerMock, ConnectionInfo: `{"host":"h"}`})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := postgres.NewKeyring(pgtest.OtherKey, pgtest.Key)
	if err != nil {
		t.Fatal(err)
	}
	rotated := db.Open(t, postgres.Options{Keys: keys})
	if _, err := rotated.RotateKeys(ctx, postgres.RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	newOnly, err := postgres.NewKeyring(pgtest.OtherKey)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Open(t, postgres.Options{Keys: newOnly}).FindGameServerByID(ctx, gs.ID, true)
	if err != nil {
		t.Fatalf("the value does not read with the new key alone: %v", err)
	}
	if !got.UpdatedAt.Equal(gs.UpdatedAt.Time) {
		t.Fatalf("updatedAt moved from %v to %v by re-encryption", gs.UpdatedAt, got.UpdatedAt)
	}
}
