package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

var _ takaro.EntityService = (*DB)(nil)

var entityObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"gameserverId", "gameserver_id"},
	{"code", "code"}, {"name", "name"}, {"description", "description"}, {"type", "type"}, {"metadata", "metadata"},
}

var entityTypes = func() []string {
	out := make([]string, len(takaro.EntityTypes))
	for i, t := range takaro.EntityTypes {
		out[i] = string(t)
	}
	return out
}()

var entitySearch = &searchSpec{
	table:        "entities",
	object:       entityObject,
	defaultOrder: shortCodesFirst,
	fields: withCommonFields(map[string]field{
		"name":         {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"code":         {column: "t.code", kind: kindText, ops: opFilter | opSearch | opSort},
		"description":  {column: "t.description", kind: kindText, ops: opSearch},
		"type":         {column: "t.type", kind: kindEnum, enum: entityTypes, ops: opFilter | opSort},
		"gameserverId": {column: "t.gameserver_id", kind: kindUUID, ops: opFilter},
	}),
}

// UpsertEntity creates an entity or updates the one with the same code on
// the game server.
func (db *DB) UpsertEntity(ctx context.Context, in takaro.EntityUpsert) (*takaro.Entity, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var metadata any
	if len(in.Metadata) > 0 && string(in.Metadata) != "null" {
		metadata = string(in.Metadata)
	}
	var entity takaro.Entity
	err := db.inDomain(ctx, func(tx *Tx) error {
		if err := checkReferences(ctx, tx, reference{"gameserverId", &in.GameserverID, refGameServer}); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `WITH u AS (
				INSERT INTO entities AS t (domain, gameserver_id, code, name, description, type, metadata)
				VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
				ON CONFLICT ON CONSTRAINT entities_gameserver_code_key DO UPDATE SET
					name = excluded.name, description = excluded.description, type = excluded.type, metadata = excluded.metadata
				RETURNING t.*)
			SELECT `+entityObject.build("u")+` FROM u`,
			tx.Domain, in.GameserverID, in.Code, in.Name, in.Description, in.Type, metadata).Scan(&entity)
		return translateError(err, "entity")
	})
	if err != nil {
		return nil, err
	}
	return &entity, nil
}

// FindEntityByID returns an entity.
func (db *DB) FindEntityByID(ctx context.Context, id uuid.UUID) (*takaro.Entity, error) {
	return findByID[takaro.Entity](ctx, db, "entities", entityObject, id, "Entity", "")
}

// FindEntities searches entities.
func (db *DB) FindEntities(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Entity], error) {
	return search[takaro.Entity](ctx, db, entitySearch, q)
}
