package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

var _ takaro.ItemService = (*DB)(nil)

var itemObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"gameserverId", "gameserver_id"},
	{"code", "code"}, {"name", "name"}, {"description", "description"}, {"icon", "icon"}, {"quality", "quality"},
}

// shortCodesFirst orders a catalogue search without sortBy, as the
// reference does: "wood" before "awningWoodShapes:woodDebris07".
const shortCodesFirst = "length(t.code)"

var itemSearch = &searchSpec{
	table:        "items",
	object:       itemObject,
	defaultOrder: shortCodesFirst,
	fields: withCommonFields(map[string]field{
		"name":         {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"code":         {column: "t.code", kind: kindText, ops: opFilter | opSearch | opSort},
		"gameserverId": {column: "t.gameserver_id", kind: kindUUID, ops: opFilter},
	}),
	extend: map[string]string{"gameServer": gameServerRelation},
}

// UpsertItem creates an item or updates the one with the same code on the
// game server.
func (db *DB) UpsertItem(ctx context.Context, in takaro.ItemUpsert) (*takaro.Item, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var item takaro.Item
	err := db.inDomain(ctx, func(tx *Tx) error {
		if err := checkReferences(ctx, tx, reference{"gameserverId", &in.GameserverID, refGameServer}); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `WITH u AS (
				INSERT INTO items AS t (domain, gameserver_id, code, name, description, icon, quality)
				VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT ON CONSTRAINT items_gameserver_code_key DO UPDATE SET
					name = excluded.name, description = excluded.description, icon = excluded.icon, quality = excluded.quality
				RETURNING t.*)
			SELECT `+itemObject.build("u")+` FROM u`,
			tx.Domain, in.GameserverID, in.Code, in.Name, in.Description, in.Icon, in.Quality).Scan(&item)
		return translateError(err, "item")
	})
	if err != nil {
		return nil, err
	}
	return &item, nil
}

// FindItemByID returns an item.
func (db *DB) FindItemByID(ctx context.Context, id uuid.UUID) (*takaro.Item, error) {
	return findByID[takaro.Item](ctx, db, "items", itemObject, id, "Item", "")
}

// FindItems searches items.
func (db *DB) FindItems(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Item], error) {
	return search[takaro.Item](ctx, db, itemSearch, q)
}
