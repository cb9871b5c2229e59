package postgres

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.VariableService = (*DB)(nil)

var variableObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"key", "key"}, {"value", "value"},
	{"expiresAt", "expires_at"}, {"gameServerId", "gameserver_id"}, {"playerId", "player_id"}, {"moduleId", "module_id"},
}

// notExpired hides expired variables from every read; they are deleted
// when their scope's key is written again.
const notExpired = "(t.expires_at IS NULL OR t.expires_at > now())"

var variableSearch = &searchSpec{
	table:  "variables",
	object: variableObject,
	where:  notExpired,
	fields: withCommonFields(map[string]field{
		"key":          {column: "t.key", kind: kindText, ops: opFilter | opSearch | opSort},
		"gameServerId": {column: "t.gameserver_id", kind: kindUUID, ops: opFilter},
		"playerId":     {column: "t.player_id", kind: kindUUID, ops: opFilter},
		"moduleId":     {column: "t.module_id", kind: kindUUID, ops: opFilter},
		"expiresAt":    {column: "t.expires_at", kind: kindTime, ops: opRange | opSort, nullable: true},
	}),
	extend: map[string]string{
		"gameServer": gameServerRelation,
		"player":     playerRelation,
	},
}

// CreateVariable creates a variable. An expired variable with the same key
// and scope is replaced; maxVariables holds under concurrent creations.
func (db *DB) CreateVariable(ctx context.Context, in takaro.VariableCreate) (*takaro.Variable, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var v takaro.Variable
	err := db.inDomain(ctx, func(tx *Tx) error {
		if err := checkReferences(ctx, tx, reference{"gameServerId", in.GameServerID, refGameServer},
			reference{"playerId", in.PlayerID, refPlayer}, reference{"moduleId", in.ModuleID, refModule}); err != nil {
			return err
		}
		if err := checkLimit(ctx, tx, "max_variables",
			"SELECT count(*) FROM variables t WHERE t.domain = $1 AND "+notExpired, "Too many variables"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM variables WHERE domain = $1 AND key = $2 AND gameserver_id IS NOT DISTINCT FROM $3
			AND player_id IS NOT DISTINCT FROM $4 AND module_id IS NOT DISTINCT FROM $5 AND expires_at <= now()`,
			tx.Domain, in.Key, in.GameServerID, in.PlayerID, in.ModuleID)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, variableObject.returning(`INSERT INTO variables AS t (domain, key, value, expires_at, gameserver_id, player_id, module_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`),
			tx.Domain, in.Key, in.Value, in.ExpiresAt, in.GameServerID, in.PlayerID, in.ModuleID).Scan(&v)
		if err != nil {
			return translateError(err, "variable")
		}
		return recordEvent(ctx, tx, variableEvent(takaro.EventVariableCreated, &v))
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// FindVariableByID returns a variable that has not expired.
func (db *DB) FindVariableByID(ctx context.Context, id uuid.UUID) (*takaro.Variable, error) {
	return findByID[takaro.Variable](ctx, db, "variables", variableObject, id, "Variable", notExpired)
}

// FindVariables searches variables that have not expired.
func (db *DB) FindVariables(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Variable], error) {
	return search[takaro.Variable](ctx, db, variableSearch, q)
}

// UpdateVariable replaces a variable's value; as in the reference API an
// absent expiresAt clears the expiry.
func (db *DB) UpdateVariable(ctx context.Context, id uuid.UUID, upd takaro.VariableUpdate) (*takaro.Variable, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	var v takaro.Variable
	err := db.inDomain(ctx, func(tx *Tx) error {
		if err := checkReferences(ctx, tx, reference{"gameServerId", upd.GameServerID, refGameServer},
			reference{"playerId", upd.PlayerID, refPlayer}, reference{"moduleId", upd.ModuleID, refModule}); err != nil {
			return err
		}
		// An expired variable that holds the key in the target scope is
		// invisible, and gives way as it does to a new variable.
		_, err := tx.Exec(ctx, `DELETE FROM variables d USING variables t
			WHERE t.domain = $1 AND t.id = $2 AND `+notExpired+` AND d.domain = $1 AND d.id <> t.id
				AND d.expires_at <= now() AND d.key = coalesce($3, t.key)
				AND d.gameserver_id IS NOT DISTINCT FROM coalesce($4, t.gameserver_id)
				AND d.player_id IS NOT DISTINCT FROM coalesce($5, t.player_id)
				AND d.module_id IS NOT DISTINCT FROM coalesce($6, t.module_id)`,
			tx.Domain, id, upd.Key, upd.GameServerID, upd.PlayerID, upd.ModuleID)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, variableObject.returning(`UPDATE variables AS t SET key = coalesce($3, t.key), value = $4, expires_at = $5,
				gameserver_id = coalesce($6, t.gameserver_id), player_id = coalesce($7, t.player_id), module_id = coalesce($8, t.module_id)
			WHERE t.domain = $1 AND t.id = $2 AND `+notExpired+``),
			tx.Domain, id, upd.Key, upd.Value, upd.ExpiresAt, upd.GameServerID, upd.PlayerID, upd.ModuleID).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.NotFound("Variable", id)
		}
		if err != nil {
			return translateError(err, "variable")
		}
		return recordEvent(ctx, tx, variableEvent(takaro.EventVariableUpdated, &v))
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// DeleteVariable deletes a variable that has not expired.
func (db *DB) DeleteVariable(ctx context.Context, id uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		var v takaro.Variable
		err := tx.QueryRow(ctx, variableObject.returning("DELETE FROM variables t WHERE t.domain = $1 AND t.id = $2 AND "+notExpired),
			tx.Domain, id).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.NotFound("Variable", id)
		}
		if err != nil {
			return err
		}
		return recordEvent(ctx, tx, variableEvent(takaro.EventVariableDeleted, &v))
	})
}

// variableEvent describes a change of v for the audit log, without its
// value, which may be large or sensitive.
func variableEvent(name takaro.EventName, v *takaro.Variable) takaro.EventCreate {
	return takaro.EventCreate{EventName: name, GameserverID: v.GameServerID, PlayerID: v.PlayerID, ModuleID: v.ModuleID,
		Meta: eventMeta("variableId", v.ID, "key", v.Key)}
}
