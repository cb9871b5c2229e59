package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.GameServerService = (*DB)(nil)

// gameServerObject is a game server without its connection info, which is
// added (decrypted) only where a caller asks for it.
var gameServerObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"deletedAt", "deleted_at"},
	{"name", "name"}, {"type", "type"}, {"reachable", "reachable"}, {"enabled", "enabled"},
	{"identityToken", "identity_token"},
}

// connectionInfoField decrypts the row's connection_info with the key the
// row names; $2 and $3 are the keyring's identifiers and secrets.
var connectionInfoField = jsonField{"connectionInfo", decryptExpr("{t}.connection_info", "{t}.connection_info_key_id", "$2", "$3") + "::json"}

// gameServerRelation embeds the live game server a row of alias t refers
// to (t.gameserver_id), for extend.
var gameServerRelation = `(SELECT ` + gameServerObject.build("g") +
	` FROM gameservers g WHERE g.domain = $1 AND g.id = t.gameserver_id AND g.deleted_at IS NULL)`

var gameServerTypes = []string{
	string(takaro.GameServerMock), string(takaro.GameServerRust),
	string(takaro.GameServerSevenDaysToDie), string(takaro.GameServerGeneric),
}

var gameServerSearch = &searchSpec{
	table:  "gameservers",
	object: gameServerObject,
	where:  "t.deleted_at IS NULL",
	fields: withCommonFields(map[string]field{
		"name":          {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"type":          {column: "t.type", kind: kindEnum, enum: gameServerTypes, ops: opFilter | opSort},
		"reachable":     {column: "t.reachable", kind: kindBool, ops: opFilter},
		"enabled":       {column: "t.enabled", kind: kindBool, ops: opFilter},
		"identityToken": {column: "t.identity_token", kind: kindText, ops: opFilter},
	}),
	extend: map[string]string{
		"players": `(SELECT coalesce(json_agg(` + playerObject.build("p") + ` ORDER BY p.id), '[]'::json)
			FROM player_on_gameserver pog JOIN players p ON p.domain = pog.domain AND p.id = pog.player_id
			WHERE pog.domain = $1 AND pog.gameserver_id = t.id)`,
	},
}

// CreateGameServer creates a game server, encrypting its connection info
// in the INSERT itself. The domain's maxGameservers holds under concurrent
// creations: the domain row is locked before counting.
func (db *DB) CreateGameServer(ctx context.Context, in takaro.GameServerCreate) (*takaro.GameServer, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	keys, err := db.keyring()
	if err != nil {
		return nil, err
	}
	connInfo, err := compactJSON(in.ConnectionInfo)
	if err != nil {
		return nil, err
	}
	var gs takaro.GameServer
	err = db.inDomain(ctx, func(tx *Tx) error {
		if err := checkLimit(ctx, tx, "max_gameservers", "SELECT count(*) FROM gameservers WHERE domain = $1 AND deleted_at IS NULL",
			"Max game servers reached"); err != nil {
			return err
		}
		key := keys.Current()
		err := tx.QueryRow(ctx, gameServerObject.returning(`INSERT INTO gameservers AS t (domain, name, type, identity_token, connection_info, connection_info_key_id)
			VALUES ($1, $2, $3, $4, `+encryptExpr("$5", "$6")+`, $7)`),
			tx.Domain, in.Name, in.Type, in.IdentityToken, connInfo, key.secret, key.id).Scan(&gs)
		if err != nil {
			return translateError(err, "game server")
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventGameServerCreated, GameserverID: &gs.ID})
	})
	if err != nil {
		return nil, err
	}
	gs.ConnectionInfo = json.RawMessage(connInfo)
	return &gs, nil
}

// FindGameServerByID returns a game server that is not deleted. With
// withConnectionInfo its connection info is decrypted in the same
// statement; the whole read is one round trip.
func (db *DB) FindGameServerByID(ctx context.Context, id uuid.UUID, withConnectionInfo bool) (*takaro.GameServer, error) {
	object := gameServerObject.build("t")
	var ids, secrets []string
	if withConnectionInfo {
		keys, err := db.keyring()
		if err != nil {
			return nil, err
		}
		ids, secrets = keys.decryptParams()
		object = gameServerObject.build("t", connectionInfoField)
	}
	var gs *takaro.GameServer
	err := db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		args := []any{domain}
		if withConnectionInfo {
			args = append(args, ids, secrets) // $2 and $3, as connectionInfoField expects
		}
		args = append(args, id)
		b.Queue("SELECT "+object+" FROM gameservers t WHERE t.domain = $1 AND t.id = $"+strconv.Itoa(len(args))+" AND t.deleted_at IS NULL", args...).
			Query(func(rows pgx.Rows) error {
				var err error
				gs, err = collectOptional[takaro.GameServer](rows)
				return err
			})
	})
	switch {
	case err != nil:
		return nil, db.connectionInfoError(ctx, id, err)
	case gs == nil:
		return nil, takaro.NotFound("Gameserver", id)
	case withConnectionInfo && isJSONNull(gs.ConnectionInfo):
		return nil, db.connectionInfoError(ctx, id, nil)
	}
	return gs, nil
}

// FindGameServers searches the game servers that are not deleted. Their
// connection info is never included.
func (db *DB) FindGameServers(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.GameServer], error) {
	return search[takaro.GameServer](ctx, db, gameServerSearch, q)
}

// UpdateGameServer changes a game server and returns it with its connection
// info decrypted; new connection info is encrypted with the current key.
func (db *DB) UpdateGameServer(ctx context.Context, id uuid.UUID, upd takaro.GameServerUpdate) (*takaro.GameServer, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	keys, err := db.keyring()
	if err != nil {
		return nil, err
	}
	var connInfo *string
	if upd.ConnectionInfo != nil {
		c, err := compactJSON(*upd.ConnectionInfo)
		if err != nil {
			return nil, err
		}
		connInfo = &c
	}
	var gs takaro.GameServer
	err = db.inDomain(ctx, func(tx *Tx) error {
		ids, secrets := keys.decryptParams()
		key := keys.Current()
		// New connection info is encrypted by a statement of its own:
		// Citus refuses a volatile function such as pgp_sym_encrypt in
		// the SET of an UPDATE.
		var ciphertext []byte
		if connInfo != nil {
			if err := tx.QueryRow(ctx, "SELECT "+encryptExpr("$1", "$2"), *connInfo, key.secret).Scan(&ciphertext); err != nil {
				return err
			}
		}
		err := tx.QueryRow(ctx, gameServerObject.returning(`UPDATE gameservers AS t SET
				name = coalesce($4, t.name),
				type = coalesce($5, t.type),
				reachable = coalesce($6, t.reachable),
				enabled = coalesce($7, t.enabled),
				connection_info = coalesce($8::bytea, t.connection_info),
				connection_info_key_id = CASE WHEN $8::bytea IS NULL THEN t.connection_info_key_id ELSE $9 END
			WHERE t.domain = $1 AND t.id = $10 AND t.deleted_at IS NULL`, connectionInfoField),
			tx.Domain, ids, secrets, upd.Name, upd.Type, upd.Reachable, upd.Enabled, ciphertext, key.id, id).Scan(&gs)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return takaro.NotFound("Gameserver", id)
		case isWrongKeyError(err):
			return err
		case err != nil:
			return translateError(err, "game server")
		case isJSONNull(gs.ConnectionInfo):
			return errKeyNotConfigured
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventGameServerUpdated, GameserverID: &gs.ID})
	})
	// connectionInfoError reads with a connection of its own, so it runs
	// only once the transaction has given its connection back: inside it,
	// a pool whose connections were all held by such updates would wait
	// for itself.
	switch {
	case errors.Is(err, errKeyNotConfigured):
		return nil, db.connectionInfoError(ctx, id, nil)
	case isWrongKeyError(err):
		return nil, db.connectionInfoError(ctx, id, err)
	case err != nil:
		return nil, err
	}
	return &gs, nil
}

// errKeyNotConfigured rolls back an update whose connection info is
// encrypted with a key that is not configured.
var errKeyNotConfigured = errors.New("the key of the connection info is not configured")

// DeleteGameServer soft-deletes a game server: it disappears from reads
// and gives up its name at once. The modules installed on it are
// uninstalled.
func (db *DB) DeleteGameServer(ctx context.Context, id uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE gameservers SET deleted_at = now() WHERE domain = $1 AND id = $2 AND deleted_at IS NULL", tx.Domain, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return takaro.NotFound("Gameserver", id)
		}
		if err := uninstallAll(ctx, tx, "gameserver_id", id); err != nil {
			return err
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventGameServerDeleted, GameserverID: &id})
	})
}

// connectionInfoError explains why the connection info of game server id
// could not be decrypted: its key is not configured (decryptExpr gave NULL,
// cause is nil), or the key did not fit (cause is pgcrypto's error). It
// reads the row's key identifier to name it. Any other cause is returned
// as it is.
func (db *DB) connectionInfoError(ctx context.Context, id uuid.UUID, cause error) error {
	if cause != nil && !isWrongKeyError(cause) {
		return cause
	}
	var keyID string
	err := db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		b.Queue("SELECT connection_info_key_id FROM gameservers WHERE domain = $1 AND id = $2", domain, id).
			QueryRow(func(row pgx.Row) error { return row.Scan(&keyID) })
	})
	if err != nil {
		// Without the key id the error could only name a wrong one.
		return fmt.Errorf("cannot decrypt the connection info of game server %s, nor read its key id: %w", id, err)
	}
	_, configured := db.keys.Lookup(keyID)
	return &DecryptError{Resource: "connection info of game server", ID: id.String(), KeyID: keyID, Missing: !configured}
}

// compactJSON re-encodes a JSON object text without insignificant space.
func compactJSON(s string) (string, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		return "", takaro.Invalid("connectionInfo", "must be a JSON object encoded as a string")
	}
	return buf.String(), nil
}

func isJSONNull(m json.RawMessage) bool { return len(m) == 0 || string(m) == "null" }
