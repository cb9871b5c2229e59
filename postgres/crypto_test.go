package postgres_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
)

func keyring(t testing.TB, current string, previous ...string) *postgres.Keyring {
	t.Helper()
	return check[*postgres.Keyring](t)(postgres.NewKeyring(current, previous...))
}

// rawConnectionInfo reads a game server's stored ciphertext and key id.
func rawConnectionInfo(t testing.TB, core *postgres.DB, tn *tenant, id uuid.UUID) ([]byte, string) {
	t.Helper()
	var raw []byte
	var keyID string
	must(t, core.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
		return tx.QueryRow(tn.ctx, "SELECT connection_info, connection_info_key_id FROM gameservers WHERE domain = $1 AND id = $2",
			tx.Domain, id).Scan(&raw, &keyID)
	}))
	return raw, keyID
}

func compact(t testing.TB, s string) string {
	t.Helper()
	var buf bytes.Buffer
	must(t, json.Compact(&buf, []byte(s)))
	return buf.String()
}

func TestCryptoConnectionInfoIsStoredEncrypted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(2)})
	const plain = `{"host":"rcon.internal.example","password":"hunter2-very-secret-rcon-password","useTls":true}`
	gs1 := check[*takaro.GameServer](t)(e.core.CreateGameServer(tn.ctx, takaro.GameServerCreate{Name: "one", Type: takaro.GameServerRust, ConnectionInfo: plain}))
	gs2 := check[*takaro.GameServer](t)(e.core.CreateGameServer(tn.ctx, takaro.GameServerCreate{Name: "two", Type: takaro.GameServerRust, ConnectionInfo: plain}))
	raw1, keyID := rawConnectionInfo(t, e.core, tn, gs1.ID)
	raw2, _ := rawConnectionInfo(t, e.core, tn, gs2.ID)

	if len(raw1) == 0 || raw1[0] != 0xC3 {
		t.Fatalf("stored connection info starts with % x, want an OpenPGP session key packet (0xC3)", raw1[:min(len(raw1), 4)])
	}
	const window = 5
	for _, secret := range []string{plain, pgtest.Key} {
		for i := 0; i+window <= len(secret); i++ {
			if bytes.Contains(raw1, []byte(secret[i:i+window])) {
				t.Errorf("the stored bytes contain %q", secret[i:i+window])
			}
		}
	}
	if bytes.Equal(raw1, raw2) {
		t.Error("the same connection info encrypts to the same bytes twice: no salt")
	}
	if want := keyring(t, pgtest.Key).Current().ID(); keyID != want {
		t.Errorf("stored key id %q, want the current key's %q", keyID, want)
	}
	got := check[*takaro.GameServer](t)(e.core.FindGameServerByID(tn.ctx, gs1.ID, true))
	if string(got.ConnectionInfo) != plain {
		t.Errorf("decrypted %s, want %s", got.ConnectionInfo, plain)
	}
}

func TestCryptoRoundTrips(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(10)})

	var long strings.Builder
	long.WriteString(`{"entries":[`)
	for i := 0; long.Len() < 200*1024; i++ {
		if i > 0 {
			long.WriteString(",")
		}
		fmt.Fprintf(&long, `{"i":%d,"name":"entry %d","secret":"%s"}`, i, i, strings.Repeat("x", i%50))
	}
	long.WriteString(`]}`)

	cases := map[string]string{
		"200 KB":    long.String(),
		"non-ASCII": `{"name":"Zoë’s café – 服务器 🎮🔥","greek":"Ωμέγα","rtl":"עברית"}`,
		"escapes":   `{"password":"quote \" backslash \\ slash \/ tab \t newline \n","unicode":"\u00e9\u4e2d\ud83c\udfae","nul":"a\u0000b"}`,
		"spaced":    "{ \"a\" : [ 1 , 2 ] ,\n \"b\" : { } }",
		"empty":     `{}`,
	}
	for name, info := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			want := compact(t, info)
			gs := check[*takaro.GameServer](t)(e.core.CreateGameServer(tn.ctx, takaro.GameServerCreate{
				Name: uniqueName("server"), Type: takaro.GameServerMock, ConnectionInfo: info,
			}))
			got := check[*takaro.GameServer](t)(e.core.FindGameServerByID(tn.ctx, gs.ID, true))
			if string(got.ConnectionInfo) != want {
				t.Fatalf("read back %d bytes that differ from the %d written", len(got.ConnectionInfo), len(want))
			}
			// Through an update too, which returns the new value decrypted.
			upd := check[*takaro.GameServer](t)(e.core.UpdateGameServer(tn.ctx, gs.ID, takaro.GameServerUpdate{ConnectionInfo: &info}))
			if string(upd.ConnectionInfo) != want {
				t.Fatalf("the update returned %d bytes that differ from the %d written", len(upd.ConnectionInfo), len(want))
			}
		})
	}
}

func TestCryptoConnectionInfoIsOnlyReadOnRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(3)})
	f := e.fill(t, tn)
	e.createGameServer(t, tn, "second")

	if gs := check[*takaro.GameServer](t)(e.core.FindGameServerByID(tn.ctx, f.GameServer.ID, false)); len(gs.ConnectionInfo) != 0 {
		t.Errorf("FindGameServerByID without connection info returned %s", gs.ConnectionInfo)
	}
	if gs := check[*takaro.GameServer](t)(e.core.FindGameServerByID(tn.ctx, f.GameServer.ID, true)); len(gs.ConnectionInfo) == 0 {
		t.Error("FindGameServerByID with connection info returned none")
	}
	page := check[*takaro.Page[takaro.GameServer]](t)(e.core.FindGameServers(tn.ctx, takaro.Query{}))
	if len(page.Items) != 2 {
		t.Fatalf("found %d game servers, want 2", len(page.Items))
	}
	for _, gs := range page.Items {
		if len(gs.ConnectionInfo) != 0 {
			t.Errorf("FindGameServers returned connection info %s", gs.ConnectionInfo)
		}
	}
	// Neither the rows of a search nor any embedded game server carry it,
	// decrypted or not.
	for _, s := range []struct {
		table  string
		extend []string
	}{{"gameservers", []string{"players"}}, {"variables", []string{"gameServer"}}, {"player_on_gameserver", []string{"gameServer"}}} {
		raw := check[*takaro.Page[json.RawMessage]](t)(e.core.SearchRawForTest(tn.ctx, s.table, takaro.Query{Extend: s.extend}))
		if len(raw.Items) == 0 {
			t.Fatalf("%s: no rows", s.table)
		}
		for _, item := range raw.Items {
			if bytes.Contains(item, []byte("connectionInfo")) || bytes.Contains(item, []byte("127.0.0.1")) || bytes.Contains(item, []byte(`\\x`)) {
				t.Errorf("%s with %v: %s", s.table, s.extend, item)
			}
		}
	}
}

// requireSafeDecryptError checks that err is a *postgres.DecryptError about
// game server id and key keyID that reveals nothing else.
func requireSafeDecryptError(t testing.TB, err error, id uuid.UUID, keyID string, missing bool) {
	t.Helper()
	de, ok := errors.AsType[*postgres.DecryptError](err)
	if !ok {
		t.Fatalf("got %T %v, want a *postgres.DecryptError", err, err)
	}
	if de.ID != id.String() || de.KeyID != keyID || de.Missing != missing {
		t.Errorf("DecryptError{ID: %s, KeyID: %s, Missing: %v}, want {%s, %s, %v}", de.ID, de.KeyID, de.Missing, id, keyID, missing)
	}
	msg := err.Error()
	if !strings.Contains(msg, id.String()) || !strings.Contains(msg, keyID) {
		t.Errorf("%q does not name the game server %s and the key %s", msg, id, keyID)
	}
	for _, leak := range []string{pgtest.Key, pgtest.OtherKey, pgtest.Key[:16], "SELECT", "select", "pgp_sym", "unnest", "$2", "SQLSTATE"} {
		if strings.Contains(msg, leak) {
			t.Errorf("%q contains %q", msg, leak)
		}
	}
	if takaro.ErrorCode(err) != takaro.CodeInternal || takaro.ErrorMessage(err) == msg {
		t.Errorf("a decrypt error must reach clients as an internal error, got %s %q", takaro.ErrorCode(err), takaro.ErrorMessage(err))
	}
}

func TestCryptoKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5)})
	const plain = `{"password":"rotate-me"}`
	gs := check[*takaro.GameServer](t)(e.core.CreateGameServer(tn.ctx, takaro.GameServerCreate{Name: "rotating", Type: takaro.GameServerMock, ConnectionInfo: plain}))
	oldID, newID := keyring(t, pgtest.Key).Current().ID(), keyring(t, pgtest.OtherKey).Current().ID()
	if oldID == newID || len(oldID) != 16 {
		t.Fatalf("key ids %q and %q: want two different 16-character ids", oldID, newID)
	}

	t.Run("another key", func(t *testing.T) {
		t.Parallel()
		other := e.db.Open(t, postgres.Options{Keys: keyring(t, pgtest.OtherKey)})
		_, err := other.FindGameServerByID(tn.ctx, gs.ID, true)
		requireSafeDecryptError(t, err, gs.ID, oldID, true)
		// The rest of the row stays readable.
		if got := check[*takaro.GameServer](t)(other.FindGameServerByID(tn.ctx, gs.ID, false)); got.Name != "rotating" {
			t.Errorf("read %q", got.Name)
		}
		_, err = other.UpdateGameServer(tn.ctx, gs.ID, takaro.GameServerUpdate{Name: ptrTo("renamed")})
		requireSafeDecryptError(t, err, gs.ID, oldID, true)
		if got := check[*takaro.GameServer](t)(e.core.FindGameServerByID(tn.ctx, gs.ID, false)); got.Name != "rotating" {
			t.Errorf("a failed update renamed the game server to %q", got.Name)
		}
	})

	t.Run("another key on a pool of one connection", func(t *testing.T) {
		t.Parallel()
		cfg := e.db.Config(t)
		cfg.MaxConns = 1
		other, err := postgres.Open(context.Background(), cfg, postgres.Options{Keys: keyring(t, pgtest.OtherKey), BcryptCost: 4})
		must(t, err)
		t.Cleanup(other.Close)
		ctx, cancel := context.WithTimeout(tn.ctx, 10*time.Second)
		defer cancel()
		_, err = other.UpdateGameServer(ctx, gs.ID, takaro.GameServerUpdate{Name: ptrTo("renamed")})
		requireSafeDecryptError(t, err, gs.ID, oldID, true)
	})

	t.Run("previous key", func(t *testing.T) {
		t.Parallel()
		rotated := e.db.Open(t, postgres.Options{Keys: keyring(t, pgtest.OtherKey, pgtest.Key)})
		got := check[*takaro.GameServer](t)(rotated.FindGameServerByID(tn.ctx, gs.ID, true))
		if string(got.ConnectionInfo) != plain {
			t.Errorf("read %s with the previous key, want %s", got.ConnectionInfo, plain)
		}
		// New values are encrypted with the current key, which alone reads them.
		fresh := check[*takaro.GameServer](t)(rotated.CreateGameServer(tn.ctx, takaro.GameServerCreate{Name: "fresh", Type: takaro.GameServerMock, ConnectionInfo: plain}))
		if _, keyID := rawConnectionInfo(t, rotated, tn, fresh.ID); keyID != newID {
			t.Errorf("a new value is stored with key %s, want the current %s", keyID, newID)
		}
		check[*takaro.GameServer](t)(e.db.Open(t, postgres.Options{Keys: keyring(t, pgtest.OtherKey)}).FindGameServerByID(tn.ctx, fresh.ID, true))
		_, err := e.core.FindGameServerByID(tn.ctx, fresh.ID, true)
		requireSafeDecryptError(t, err, fresh.ID, newID, true)
	})

	t.Run("corrupt ciphertext", func(t *testing.T) {
		t.Parallel()
		bad := check[*takaro.GameServer](t)(e.core.CreateGameServer(tn.ctx, takaro.GameServerCreate{Name: "corrupt", Type: takaro.GameServerMock, ConnectionInfo: plain}))
		// Flip a bit in the last byte, inside the encrypted data.
		_, err := superuser(t, e.db).Exec(context.Background(), `UPDATE gameservers SET connection_info =
			set_byte(connection_info, length(connection_info) - 1, get_byte(connection_info, length(connection_info) - 1) # 1) WHERE id = $1`, bad.ID)
		must(t, err)
		_, err = e.core.FindGameServerByID(tn.ctx, bad.ID, true)
		requireSafeDecryptError(t, err, bad.ID, oldID, false)
		_, err = e.core.UpdateGameServer(tn.ctx, bad.ID, takaro.GameServerUpdate{Enabled: ptrTo(false)})
		requireSafeDecryptError(t, err, bad.ID, oldID, false)
		// New connection info replaces the corrupt value.
		fixed := check[*takaro.GameServer](t)(e.core.UpdateGameServer(tn.ctx, bad.ID, takaro.GameServerUpdate{ConnectionInfo: ptrTo(plain)}))
		if string(fixed.ConnectionInfo) != plain {
			t.Errorf("read %s after replacing the corrupt value", fixed.ConnectionInfo)
		}
	})
}

func TestCryptoKeyringChecksAndHidesKeys(t *testing.T) {
	t.Parallel()
	short := strings.Repeat("k", postgres.MinKeyLength-1)
	if _, err := postgres.NewKeyring(short); err == nil {
		t.Errorf("a %d-character key was accepted", len(short))
	} else if strings.Contains(err.Error(), short) {
		t.Errorf("the error shows the key: %v", err)
	}
	if _, err := postgres.NewKeyring(pgtest.Key, short); err == nil || !strings.Contains(err.Error(), "previous") {
		t.Errorf("a short previous key: got %v, want an error that says it is a previous key", err)
	}
	if _, err := postgres.NewKey(strings.Repeat("k", postgres.MinKeyLength)); err != nil {
		t.Errorf("a %d-character key was refused: %v", postgres.MinKeyLength, err)
	}
	k1, k2 := check[postgres.Key](t)(postgres.NewKey(pgtest.Key)), check[postgres.Key](t)(postgres.NewKey(pgtest.Key))
	if k1.ID() != k2.ID() {
		t.Error("a key's id is not stable")
	}

	keys := keyring(t, pgtest.Key, pgtest.OtherKey)
	secrets := []string{pgtest.Key, pgtest.OtherKey, hex.EncodeToString([]byte(pgtest.Key)), hex.EncodeToString([]byte(pgtest.OtherKey))}
	values := map[string]any{
		"key":              keys.Current(),
		"key pointer":      ptrTo(keys.Current()),
		"keyring":          keys,
		"keyring value":    *keys,
		"options":          postgres.Options{Keys: keys},
		"options pointer":  &postgres.Options{Keys: keys},
		"slice of keyring": []*postgres.Keyring{keys},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("fmt %s of the %s shows a secret: %s", verb, name, out)
				}
			}
		}
	}
	if s := keys.Current().String(); !strings.Contains(s, keys.Current().ID()) {
		t.Errorf("Key.String() = %q does not show the key id", s)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("keys", "key", keys.Current(), "keyring", keys, "options", postgres.Options{Keys: keys})
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("keys", "key", keys.Current(), "keyring", keys, "options", postgres.Options{Keys: keys})
	for _, s := range secrets {
		if strings.Contains(buf.String(), s) {
			t.Errorf("a log line shows a secret: %s", buf.String())
		}
	}
}

func TestCryptoWithoutAKey(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	keyless, err := postgres.Open(context.Background(), db.Config(t), postgres.Options{BcryptCost: 4})
	must(t, err)
	t.Cleanup(keyless.Close)
	e := &env{db: db, core: keyless}
	// Creating a domain encrypts its registration token, so it needs a key.
	if _, err := keyless.CreateDomain(context.Background(), takaro.DomainCreate{Name: "no key"}); !errors.Is(err, postgres.ErrNoEncryptionKey) {
		t.Fatalf("creating a domain without a key: got %v, want ErrNoEncryptionKey", err)
	}
	tn := (&env{db: db, core: db.Open(t, postgres.Options{})}).newDomain(t, takaro.DomainLimits{})

	_, err = keyless.CreateGameServer(tn.ctx, takaro.GameServerCreate{Name: "no key", Type: takaro.GameServerMock, ConnectionInfo: "{}"})
	if !errors.Is(err, postgres.ErrNoEncryptionKey) {
		t.Fatalf("creating a game server without a key: got %v, want ErrNoEncryptionKey", err)
	}
	if n := check[*takaro.Page[takaro.GameServer]](t)(keyless.FindGameServers(tn.ctx, takaro.Query{})).Total; n != 0 {
		t.Errorf("a failed creation left %d game servers", n)
	}
	// With a key, create one; without, only its connection info is out of reach.
	gs := e.createGameServerWith(t, db.Open(t, postgres.Options{}), tn)
	if _, err := keyless.FindGameServerByID(tn.ctx, gs.ID, true); !errors.Is(err, postgres.ErrNoEncryptionKey) {
		t.Errorf("reading connection info without a key: got %v, want ErrNoEncryptionKey", err)
	}
	if _, err := keyless.UpdateGameServer(tn.ctx, gs.ID, takaro.GameServerUpdate{Name: ptrTo("renamed")}); !errors.Is(err, postgres.ErrNoEncryptionKey) {
		t.Errorf("updating without a key: got %v, want ErrNoEncryptionKey", err)
	}
	check[*takaro.GameServer](t)(keyless.FindGameServerByID(tn.ctx, gs.ID, false))
}

func (e *env) createGameServerWith(t testing.TB, core *postgres.DB, tn *tenant) *takaro.GameServer {
	t.Helper()
	return check[*takaro.GameServer](t)(core.CreateGameServer(tn.ctx, takaro.GameServerCreate{
		Name: uniqueName("server"), Type: takaro.GameServerMock, ConnectionInfo: `{"host":"127.0.0.1"}`,
	}))
}
