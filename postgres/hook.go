package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

var _ takaro.HookService = (*DB)(nil)

var hookObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"name", "name"},
	{"description", "description"}, {"regex", "regex"}, {"eventType", "event_type"},
	{"functionId", "function_id"}, {"function", functionOf}, {"versionId", "version_id"},
}

var hookSearch = &searchSpec{
	table:  "hooks",
	object: hookObject,
	fields: withCommonFields(map[string]field{
		"name":      {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"eventType": {column: "t.event_type", kind: kindEnum, enum: takaro.HookEventTypes, ops: opFilter | opSort},
		"versionId": {column: "t.version_id", kind: kindUUID, ops: opFilter},
		"moduleId":  {column: moduleOfVersion("t.version_id"), kind: kindUUID, ops: opFilter},
	}),
	// The reference's "gameServer" names no relation, so it is refused.
	extend: map[string]string{"module": partModule},
}

// CreateHook creates a hook, with its code, in a latest version.
func (db *DB) CreateHook(ctx context.Context, in takaro.HookCreate) (*takaro.Hook, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return createPart[takaro.Hook](ctx, db, "hooks", hookObject, in.VersionID, func(tx *Tx) (uuid.UUID, error) {
		return insertHook(ctx, tx, in)
	})
}

// insertHook stores a hook with its code in a version the caller has
// checked.
func insertHook(ctx context.Context, tx *Tx, in takaro.HookCreate) (uuid.UUID, error) {
	fn, err := insertFunction(ctx, tx, nil, &in.VersionID, nil, nil, in.Function)
	if err != nil {
		return uuid.Nil, err
	}
	var id uuid.UUID
	err = tx.QueryRow(ctx, `INSERT INTO hooks (domain, version_id, function_id, name, event_type, regex, description)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		tx.Domain, in.VersionID, fn, in.Name, in.EventType, in.Regex, in.Description).Scan(&id)
	return id, translateError(err, "hook")
}

// FindHookByID returns a hook.
func (db *DB) FindHookByID(ctx context.Context, id uuid.UUID) (*takaro.Hook, error) {
	return findByID[takaro.Hook](ctx, db, "hooks", hookObject, id, "Hook", "")
}

// FindHooks searches hooks.
func (db *DB) FindHooks(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Hook], error) {
	return search[takaro.Hook](ctx, db, hookSearch, q)
}

// UpdateHook changes a hook of a latest version.
func (db *DB) UpdateHook(ctx context.Context, id uuid.UUID, upd takaro.HookUpdate) (*takaro.Hook, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	return updatePart[takaro.Hook](ctx, db, "hooks", hookObject, id, takaro.NotFound("Hook", id), func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE hooks SET name = coalesce($3, name), event_type = coalesce($4, event_type),
			regex = coalesce($5, regex), description = coalesce($6, description)
			WHERE domain = $1 AND id = $2`, tx.Domain, id, upd.Name, upd.EventType, upd.Regex, upd.Description)
		if err != nil {
			return translateError(err, "hook")
		}
		return updatePartCode(ctx, tx, "hooks", id, upd.Function)
	})
}

// DeleteHook deletes a hook of a latest version with its code.
func (db *DB) DeleteHook(ctx context.Context, id uuid.UUID) error {
	return deletePart(ctx, db, "hooks", id, takaro.NotFound("Hook", id))
}
