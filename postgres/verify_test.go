package postgres_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestVerifyEncryption(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	servers := db.SeedGameServers(t, pgtest.OtherKey, 3, 40)
	servers = append(servers, db.SeedGameServers(t, pgtest.Key, 1, 40)...)
	ctx := context.Background()
	keyID, otherID, thirdID := encKeyID(t, pgtest.Key), encKeyID(t, pgtest.OtherKey), encKeyID(t, encThirdKey)

	// Damage three values in three ways, and add rows at both ends of the
	// id order, which paging must not miss.
	corrupt, unknown, wrong := servers[5], servers[50], servers[130]
	db.InDomain(t, corrupt.Domain, func(tx pgx.Tx) error {
		// Flip a bit inside the encrypted data: the integrity check fails.
		_, err := tx.Exec(ctx, `UPDATE gameservers SET connection_info = set_byte(connection_info, length(connection_info) - 5,
			get_byte(connection_info, length(connection_info) - 5) # 1) WHERE domain = $1 AND id = $2`, corrupt.Domain, corrupt.ID)
		return err
	})
	db.InDomain(t, unknown.Domain, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE gameservers SET connection_info_key_id = $3 WHERE domain = $1 AND id = $2", unknown.Domain, unknown.ID, thirdID)
		return err
	})
	db.InDomain(t, wrong.Domain, func(tx pgx.Tx) error {
		// Encrypted with another key, but labelled with the current one.
		_, err := tx.Exec(ctx, `UPDATE gameservers SET connection_info = pgp_sym_encrypt('{"host":"x"}', $3), connection_info_key_id = $4
			WHERE domain = $1 AND id = $2`, wrong.Domain, wrong.ID, encThirdKey, keyID)
		return err
	})
	for _, id := range []string{"00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"} {
		db.InDomain(t, servers[0].Domain, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO gameservers (domain, id, name, type, connection_info, connection_info_key_id)
				VALUES ($1, $2::uuid, $2::text, 'MOCK', pgp_sym_encrypt('{}', $3), $4)`, servers[0].Domain, id, pgtest.OtherKey, otherID)
			return err
		})
	}

	core := db.Open(t, postgres.Options{Keys: encKeyring(t, pgtest.Key, pgtest.OtherKey)})
	var failures []*postgres.EncryptionFailure
	var last postgres.Progress
	res, err := core.VerifyEncryption(ctx, postgres.VerifyOptions{
		BatchSize: 7, // pages end inside domains and on their boundaries
		Progress:  func(p postgres.Progress) { last = p },
		Failure:   func(f *postgres.EncryptionFailure) { failures = append(failures, f) },
	})
	if err != nil {
		t.Fatal(err)
	}
	const total = 4*40 + 2
	if res != (postgres.VerifyResult{Checked: total, Failed: 3}) || last != (postgres.Progress{Done: total, Total: total}) {
		t.Errorf("result %+v, last progress %+v; want %d checked, 3 failed", res, last, total)
	}
	want := []*postgres.EncryptionFailure{
		{Domain: corrupt.Domain, DecryptError: postgres.DecryptError{Resource: "connection info of game server", ID: corrupt.ID.String(), KeyID: otherID}},
		{Domain: unknown.Domain, DecryptError: postgres.DecryptError{Resource: "connection info of game server", ID: unknown.ID.String(), KeyID: thirdID, Missing: true}},
		{Domain: wrong.Domain, DecryptError: postgres.DecryptError{Resource: "connection info of game server", ID: wrong.ID.String(), KeyID: keyID}},
	}
	byID := func(a, b *postgres.EncryptionFailure) int { return strings.Compare(a.ID, b.ID) }
	slices.SortFunc(failures, byID)
	slices.SortFunc(want, byID)
	if !slices.EqualFunc(failures, want, func(a, b *postgres.EncryptionFailure) bool { return *a == *b }) {
		t.Errorf("failures:\n%v\nwant:\n%v", failures, want)
	}
	for _, f := range failures {
		msg := f.Error()
		if !strings.HasPrefix(msg, "domain "+f.Domain+": cannot decrypt the connection info of game server "+f.ID) || !strings.Contains(msg, f.KeyID) {
			t.Errorf("message %q does not name the domain, the value and its key", msg)
		}
		if why := map[bool]string{true: "which is not configured", false: "wrong key or corrupt data"}[f.Missing]; !strings.Contains(msg, why) {
			t.Errorf("message %q does not say %q", msg, why)
		}
		for _, secret := range []string{"host-", pgtest.Key, pgtest.OtherKey, encThirdKey} {
			if strings.Contains(msg, secret) {
				t.Errorf("message %q shows %q", msg, secret)
			}
		}
	}
}

func TestVerifyEncryptionOfACleanDatabase(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	servers := db.SeedGameServers(t, pgtest.Key, 2, 10)
	core := db.Open(t, postgres.Options{Keys: encKeyring(t, pgtest.Key)})
	res, err := core.VerifyEncryption(context.Background(), postgres.VerifyOptions{
		BatchSize: 10, // exactly one full page per domain, then an empty one
		Failure:   func(f *postgres.EncryptionFailure) { t.Errorf("failure: %v", f) },
	})
	if err != nil || res != (postgres.VerifyResult{Checked: int64(len(servers))}) {
		t.Errorf("got %+v, %v; want %d checked and none failed", res, err, len(servers))
	}
}

func TestVerifyEncryptionNeedsItsMigration(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	db.SeedGameServers(t, pgtest.Key, 1, 1)
	// What migration 00006's Down does.
	if _, err := db.Pool(t).Exec(context.Background(), "DROP FUNCTION takaro_pgp_sym_decrypts(bytea, text)"); err != nil {
		t.Fatal(err)
	}
	_, err := db.Open(t, postgres.Options{Keys: encKeyring(t, pgtest.Key)}).VerifyEncryption(context.Background(), postgres.VerifyOptions{})
	encWantError(t, err, "run takaro db migrate")
}
