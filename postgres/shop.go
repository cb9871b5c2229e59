package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ takaro.ShopService = (*DB)(nil)

// The shop's money moves in the same transaction as its orders: an order
// takes its price from the buyer's balance with one conditional UPDATE of
// the player's presence on the listing's game server, whose row lock and
// currency_positive CHECK make concurrent orders of one player queue and
// never spend the same currency twice. A cancellation gives back exactly
// what the order recorded as paid.

// categoryObject is a category without its relations. listingCount counts
// the live listings in the category or one of its direct children.
var categoryObject = jsonFields{
	{"id", "id"}, {"name", "name"}, {"emoji", "emoji"}, {"parentId", "parent_id"},
	{"listingCount", `(SELECT count(DISTINCT lc.listing_id)::int FROM shop_listing_categories lc
		JOIN shop_listings l ON l.domain = lc.domain AND l.id = lc.listing_id AND l.deleted_at IS NULL
		WHERE lc.domain = $1 AND (lc.category_id = {t}.id OR lc.category_id IN (
			SELECT c.id FROM shop_categories c WHERE c.domain = $1 AND c.parent_id = {t}.id)))`},
	{"createdAt", "created_at"}, {"updatedAt", "updated_at"},
}

// categoryRelations embed a category's parent and children, one level deep.
var categoryRelations = []jsonField{
	{"parent", `(SELECT ` + categoryObject.build("pc") + ` FROM shop_categories pc WHERE pc.domain = $1 AND pc.id = {t}.parent_id)`},
	{"children", `coalesce((SELECT json_agg(` + categoryObject.build("cc") + ` ORDER BY cc.name, cc.id) FROM shop_categories cc
		WHERE cc.domain = $1 AND cc.parent_id = {t}.id), '[]')`},
}

// categoryFull is a category with its parent and children.
var categoryFull = append(categoryObject[:len(categoryObject):len(categoryObject)], categoryRelations...)

var categorySearch = &searchSpec{
	table:  "shop_categories",
	object: categoryFull,
	fields: withCommonFields(map[string]field{
		"name":     {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"parentId": {column: "t.parent_id", kind: kindUUID, ops: opFilter},
	}),
	extend: map[string]string{"parent": "", "children": ""},
}

// listingObject is a listing with its items and categories.
var listingObject = jsonFields{
	{"id", "id"}, {"gameServerId", "gameserver_id"}, {"name", "name"}, {"price", "price"}, {"draft", "draft"},
	{"items", `coalesce((SELECT json_agg(json_build_object('id', li.id, 'amount', li.amount, 'quality', li.quality,
			'item', ` + itemObject.build("it") + `) ORDER BY li.position)
		FROM shop_listing_items li JOIN items it ON it.domain = li.domain AND it.id = li.item_id
		WHERE li.domain = $1 AND li.listing_id = {t}.id), '[]')`},
	{"categories", `coalesce((SELECT json_agg(` + categoryObject.build("lcat") + ` ORDER BY lcat.name, lcat.id)
		FROM shop_listing_categories slc JOIN shop_categories lcat ON lcat.domain = slc.domain AND lcat.id = slc.category_id
		WHERE slc.domain = $1 AND slc.listing_id = {t}.id), '[]')`},
	{"createdAt", "created_at"}, {"updatedAt", "updated_at"},
}

// liveListing hides listings taken off sale.
const liveListing = "t.deleted_at IS NULL"

var listingSearch = &searchSpec{
	table:  "shop_listings",
	object: listingObject,
	where:  liveListing,
	fields: withCommonFields(map[string]field{
		"gameServerId": {column: "t.gameserver_id", kind: kindUUID, ops: opFilter},
		"name":         {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"price":        {column: "t.price", kind: kindInt, ops: opFilter | opRange | opSort},
		"draft":        {column: "t.draft", kind: kindBool, ops: opFilter},
	}),
	extend: map[string]string{"gameServer": gameServerRelation, "items": "", "categories": ""},
}

var orderObject = jsonFields{
	{"id", "id"}, {"listingId", "listing_id"}, {"playerId", "player_id"}, {"gameServerId", "gameserver_id"},
	{"amount", "amount"}, {"totalPrice", "total_price"}, {"status", "status"},
	{"createdAt", "created_at"}, {"updatedAt", "updated_at"},
}

var orderSearch = &searchSpec{
	table:  "shop_orders",
	object: orderObject,
	fields: withCommonFields(map[string]field{
		"listingId":    {column: "t.listing_id", kind: kindUUID, ops: opFilter},
		"playerId":     {column: "t.player_id", kind: kindUUID, ops: opFilter},
		"gameServerId": {column: "t.gameserver_id", kind: kindUUID, ops: opFilter},
		"amount":       {column: "t.amount", kind: kindInt, ops: opFilter | opRange | opSort},
		"status": {column: "t.status", kind: kindEnum, ops: opFilter,
			enum: []string{string(takaro.ShopOrderPaid), string(takaro.ShopOrderCompleted), string(takaro.ShopOrderCanceled)}},
	}),
	extend: map[string]string{
		"listing": `(SELECT ` + listingObject.build("l") + ` FROM shop_listings l WHERE l.domain = $1 AND l.id = t.listing_id)`,
	},
}

// shopError names the rule a shop write broke.
func shopError(err error, resource string) error {
	if pgErr := asPgError(err); pgErr != nil {
		switch pgErr.ConstraintName {
		case "shop_categories_name_key":
			return &takaro.Error{Code: takaro.CodeBadRequest, Message: takaro.MsgShopCategoryNameTaken, Err: err}
		case "currency_positive":
			return &takaro.Error{Code: takaro.CodeBadRequest, Message: takaro.MsgShopNotEnoughCurrency, Err: err}
		}
	}
	return translateError(err, resource)
}

// Categories.

// CreateShopCategory creates a category; at most MaxShopCategories per
// domain, also under concurrent requests.
func (db *DB) CreateShopCategory(ctx context.Context, in takaro.ShopCategoryCreate) (*takaro.ShopCategory, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var c takaro.ShopCategory
	err := db.inDomain(ctx, func(tx *Tx) error {
		// The limit is the same for every domain: a constant, not a column.
		if err := checkLimit(ctx, tx, strconv.Itoa(takaro.MaxShopCategories),
			"SELECT count(*) FROM shop_categories WHERE domain = $1", takaro.MsgShopCategoryLimit); err != nil {
			return err
		}
		if err := checkReferences(ctx, tx, reference{"parentId", in.ParentID, refShopCategory}); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `WITH t AS (
				INSERT INTO shop_categories (domain, name, emoji, parent_id) VALUES ($1, $2, $3, $4) RETURNING *)
			SELECT `+categoryFull.build("t")+` FROM t`, tx.Domain, in.Name, in.Emoji, in.ParentID).Scan(&c)
		return shopError(err, "shop category")
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// refShopCategory is a live category of the domain.
const refShopCategory = "EXISTS (SELECT 1 FROM shop_categories WHERE domain = $1 AND id = $2)"

// FindShopCategoryByID returns a category with its parent and children.
func (db *DB) FindShopCategoryByID(ctx context.Context, id uuid.UUID) (*takaro.ShopCategory, error) {
	return findByID[takaro.ShopCategory](ctx, db, "shop_categories", categoryFull, id, "Shop category", "")
}

// FindShopCategories searches categories.
func (db *DB) FindShopCategories(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.ShopCategory], error) {
	return search[takaro.ShopCategory](ctx, db, categorySearch, q)
}

// UpdateShopCategory renames a category or changes its emoji.
func (db *DB) UpdateShopCategory(ctx context.Context, id uuid.UUID, in takaro.ShopCategoryUpdate) (*takaro.ShopCategory, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return db.writeCategory(ctx, id, func(tx *Tx) (string, []any, error) {
		return "name = coalesce($3, t.name), emoji = coalesce($4, t.emoji)", []any{in.Name, in.Emoji}, nil
	})
}

// MoveShopCategory moves a category under another, refusing a move that
// would make it its own ancestor.
func (db *DB) MoveShopCategory(ctx context.Context, id uuid.UUID, in takaro.ShopCategoryMove) (*takaro.ShopCategory, error) {
	return db.writeCategory(ctx, id, func(tx *Tx) (string, []any, error) {
		if in.ParentID == nil {
			return "parent_id = NULL", nil, nil
		}
		if *in.ParentID == id {
			return "", nil, takaro.Errorf(takaro.CodeBadRequest, takaro.MsgShopCategoryToItself)
		}
		if err := checkReferences(ctx, tx, reference{"parentId", in.ParentID, refShopCategory}); err != nil {
			return "", nil, err
		}
		// The categories are locked first, so two moves that would each
		// close half of a cycle cannot both pass the check.
		if _, err := tx.Exec(ctx, "SELECT 1 FROM shop_categories WHERE domain = $1 FOR UPDATE", tx.Domain); err != nil {
			return "", nil, err
		}
		var cycle bool
		err := tx.QueryRow(ctx, `WITH RECURSIVE up (id, parent_id) AS (
				SELECT id, parent_id FROM shop_categories WHERE domain = $1 AND id = $2
				UNION
				SELECT c.id, c.parent_id FROM shop_categories c JOIN up ON c.domain = $1 AND c.id = up.parent_id)
			SELECT EXISTS (SELECT 1 FROM up WHERE id = $3)`, tx.Domain, *in.ParentID, id).Scan(&cycle)
		if err != nil {
			return "", nil, err
		}
		if cycle {
			return "", nil, takaro.Errorf(takaro.CodeBadRequest, takaro.MsgShopCircularCategory)
		}
		return "parent_id = $3", []any{*in.ParentID}, nil
	})
}

// writeCategory updates one category with the SET clause that set builds
// (its parameters follow $1 domain and $2 id) and returns it.
func (db *DB) writeCategory(ctx context.Context, id uuid.UUID, set func(tx *Tx) (string, []any, error)) (*takaro.ShopCategory, error) {
	err := db.inDomain(ctx, func(tx *Tx) error {
		clause, args, err := set(tx)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "UPDATE shop_categories t SET "+clause+" WHERE t.domain = $1 AND t.id = $2",
			append([]any{tx.Domain, id}, args...)...)
		if err != nil {
			return shopError(err, "shop category")
		}
		if tag.RowsAffected() == 0 {
			return takaro.NotFound("Shop category", id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return db.FindShopCategoryByID(ctx, id)
}

// DeleteShopCategory moves the category's children to the root and
// deletes it; its listings lose the category.
func (db *DB) DeleteShopCategory(ctx context.Context, id uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error {
		b := &pgx.Batch{}
		b.Queue("UPDATE shop_categories SET parent_id = NULL WHERE domain = $1 AND parent_id = $2", tx.Domain, id)
		var deleted int64
		b.Queue("DELETE FROM shop_categories WHERE domain = $1 AND id = $2", tx.Domain, id).Exec(func(ct pgconn.CommandTag) error {
			deleted = ct.RowsAffected()
			return nil
		})
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if deleted == 0 {
			return takaro.NotFound("Shop category", id)
		}
		return nil
	})
}

// AssignShopCategories removes listings from categories and adds them to
// others, all or nothing.
func (db *DB) AssignShopCategories(ctx context.Context, in takaro.ShopCategoryBulkAssign) error {
	if err := in.Validate(); err != nil {
		return err
	}
	return db.inDomain(ctx, func(tx *Tx) error {
		categories := append(append([]uuid.UUID{}, in.AddCategoryIDs...), in.RemoveCategoryIDs...)
		var listingsFound, categoriesFound bool
		err := tx.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM shop_listings WHERE domain = $1 AND id = ANY($2) AND deleted_at IS NULL) = cardinality(ARRAY(SELECT DISTINCT unnest($2::uuid[]))),
				(SELECT count(*) FROM shop_categories WHERE domain = $1 AND id = ANY($3)) = cardinality(ARRAY(SELECT DISTINCT unnest($3::uuid[])))`,
			tx.Domain, in.ListingIDs, categories).Scan(&listingsFound, &categoriesFound)
		if err != nil {
			return err
		}
		if !listingsFound {
			return takaro.Invalid("listingIds", "refers to something that does not exist")
		}
		if !categoriesFound {
			return takaro.Invalid("categoryIds", "refers to something that does not exist")
		}
		b := &pgx.Batch{}
		b.Queue("DELETE FROM shop_listing_categories WHERE domain = $1 AND listing_id = ANY($2) AND category_id = ANY($3)",
			tx.Domain, in.ListingIDs, in.RemoveCategoryIDs)
		b.Queue(`INSERT INTO shop_listing_categories (domain, listing_id, category_id)
			SELECT $1, l, c FROM unnest($2::uuid[]) l, unnest($3::uuid[]) c ON CONFLICT DO NOTHING`,
			tx.Domain, in.ListingIDs, in.AddCategoryIDs)
		return tx.SendBatch(ctx, b).Close()
	})
}

// Listings.

// CreateShopListing creates a listing with its items and categories.
func (db *DB) CreateShopListing(ctx context.Context, in takaro.ShopListingCreate) (*takaro.ShopListing, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var id uuid.UUID
	err := db.inDomain(ctx, func(tx *Tx) error {
		if err := checkReferences(ctx, tx, reference{"gameServerId", &in.GameServerID, refGameServer}); err != nil {
			return err
		}
		var err error
		id, err = createListing(ctx, tx, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return db.FindShopListingByID(ctx, id)
}

// createListing inserts a checked listing of a known game server, with its
// items, categories and event.
func createListing(ctx context.Context, tx *Tx, in takaro.ShopListingCreate) (uuid.UUID, error) {
	var id uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO shop_listings (domain, gameserver_id, name, price, draft)
		VALUES ($1, $2, $3, $4, coalesce($5, false)) RETURNING id`,
		tx.Domain, in.GameServerID, in.Name, in.Price, in.Draft).Scan(&id)
	if err != nil {
		return id, shopError(err, "shop listing")
	}
	if err := setListingItems(ctx, tx, id, in.GameServerID, in.Items); err != nil {
		return id, err
	}
	if err := setListingCategories(ctx, tx, id, in.CategoryIDs); err != nil {
		return id, err
	}
	return id, recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventShopListingCreated, GameserverID: &in.GameServerID,
		Meta: eventMeta("id", id)})
}

// ImportShopListings creates the listings of an import in one transaction,
// after deleting the game server's listings when asked to.
func (db *DB) ImportShopListings(ctx context.Context, in takaro.ShopListingImport) ([]takaro.ShopListing, error) {
	opts, listings, err := in.Listings()
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(listings))
	err = db.inDomain(ctx, func(tx *Tx) error {
		if err := checkReferences(ctx, tx, reference{"options.gameServerId", &opts.GameServerID, refGameServer}); err != nil {
			return err
		}
		if opts.Replace {
			rows, err := tx.Query(ctx, `SELECT id FROM shop_listings WHERE domain = $1 AND gameserver_id = $2 AND deleted_at IS NULL ORDER BY id`,
				tx.Domain, opts.GameServerID)
			if err != nil {
				return err
			}
			old, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
			if err != nil {
				return err
			}
			for _, id := range old {
				if err := deleteListing(ctx, tx, id); err != nil {
					return err
				}
			}
		}
		for i, l := range listings {
			var err error
			if ids[i], err = createListing(ctx, tx, l); err != nil {
				return fmt.Errorf("import[%d]: %w", i, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]takaro.ShopListing, len(ids))
	for i, id := range ids {
		l, err := db.FindShopListingByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out[i] = *l
	}
	return out, nil
}

// setListingItems replaces the items of a listing; each is named by its
// code on the listing's game server, or by its id there.
func setListingItems(ctx context.Context, tx *Tx, listing, gameServer uuid.UUID, items []takaro.ShopListingItemInput) error {
	codes, ids := make([]*string, len(items)), make([]*uuid.UUID, len(items))
	amounts, qualities := make([]int, len(items)), make([]*string, len(items))
	for i, it := range items {
		codes[i], ids[i], amounts[i], qualities[i] = it.Code, it.ItemID, it.Amount, it.Quality
	}
	if _, err := tx.Exec(ctx, "DELETE FROM shop_listing_items WHERE domain = $1 AND listing_id = $2", tx.Domain, listing); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO shop_listing_items (domain, listing_id, item_id, amount, quality, position)
		SELECT $1, $2::uuid, it.id, s.amount, s.quality, s.n
		FROM unnest($4::text[], $5::uuid[], $6::int[], $7::text[]) WITH ORDINALITY AS s (code, item_id, amount, quality, n)
		JOIN items it ON it.domain = $1 AND it.gameserver_id = $3 AND (it.code = s.code OR (s.code IS NULL AND it.id = s.item_id))`,
		tx.Domain, listing, gameServer, codes, ids, amounts, qualities)
	if err != nil {
		return shopError(err, "shop listing")
	}
	if tag.RowsAffected() != int64(len(items)) {
		return takaro.Invalid("items", "names an item that the listing's game server does not have")
	}
	return nil
}

// setListingCategories replaces the categories of a listing.
func setListingCategories(ctx context.Context, tx *Tx, listing uuid.UUID, categories []uuid.UUID) error {
	if _, err := tx.Exec(ctx, "DELETE FROM shop_listing_categories WHERE domain = $1 AND listing_id = $2", tx.Domain, listing); err != nil {
		return err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO shop_listing_categories (domain, listing_id, category_id)
		SELECT DISTINCT $1, $2::uuid, c.id FROM shop_categories c WHERE c.domain = $1 AND c.id = ANY($3)`, tx.Domain, listing, categories)
	if err != nil {
		return err
	}
	if distinct := len(uniqueIDs(categories)); tag.RowsAffected() != int64(distinct) {
		return takaro.Invalid("categoryIds", "refers to something that does not exist")
	}
	return nil
}

func uniqueIDs(ids []uuid.UUID) map[uuid.UUID]bool {
	m := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// FindShopListingByID returns a listing that is on sale.
func (db *DB) FindShopListingByID(ctx context.Context, id uuid.UUID) (*takaro.ShopListing, error) {
	return findByID[takaro.ShopListing](ctx, db, "shop_listings", listingObject, id, "Shop listing", liveListing)
}

// FindShopListings searches the listings on sale.
func (db *DB) FindShopListings(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.ShopListing], error) {
	return search[takaro.ShopListing](ctx, db, listingSearch, q)
}

// UpdateShopListing changes a listing. Making it a draft takes it off sale
// for new orders and cancels and refunds the paid ones.
func (db *DB) UpdateShopListing(ctx context.Context, id uuid.UUID, in takaro.ShopListingUpdate) (*takaro.ShopListing, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	err := db.inDomain(ctx, func(tx *Tx) error {
		var gameServer uuid.UUID
		var wasDraft, draft bool
		err := tx.QueryRow(ctx, `WITH old AS (
				SELECT id, draft FROM shop_listings WHERE domain = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE)
			UPDATE shop_listings t SET name = coalesce($3, t.name), price = coalesce($4, t.price), draft = coalesce($5, t.draft)
			FROM old WHERE t.domain = $1 AND t.id = old.id RETURNING t.gameserver_id, old.draft, t.draft`,
			tx.Domain, id, in.Name, in.Price, in.Draft).Scan(&gameServer, &wasDraft, &draft)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.NotFound("Shop listing", id)
		}
		if err != nil {
			return shopError(err, "shop listing")
		}
		if in.Items != nil {
			if err := setListingItems(ctx, tx, id, gameServer, in.Items); err != nil {
				return err
			}
		}
		if in.CategoryIDs != nil {
			if err := setListingCategories(ctx, tx, id, in.CategoryIDs); err != nil {
				return err
			}
		}
		if draft && !wasDraft {
			if err := refundPaidOrders(ctx, tx, id); err != nil {
				return err
			}
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventShopListingUpdated, GameserverID: &gameServer,
			Meta: eventMeta("id", id)})
	})
	if err != nil {
		return nil, err
	}
	return db.FindShopListingByID(ctx, id)
}

// DeleteShopListing takes a listing off sale for good, and cancels and
// refunds its paid orders, in one transaction.
func (db *DB) DeleteShopListing(ctx context.Context, id uuid.UUID) error {
	return db.inDomain(ctx, func(tx *Tx) error { return deleteListing(ctx, tx, id) })
}

// deleteListing takes a listing off sale and refunds its paid orders.
func deleteListing(ctx context.Context, tx *Tx, id uuid.UUID) error {
	var gameServer uuid.UUID
	err := tx.QueryRow(ctx, `UPDATE shop_listings SET deleted_at = $3 WHERE domain = $1 AND id = $2 AND deleted_at IS NULL
		RETURNING gameserver_id`, tx.Domain, id, time.Now()).Scan(&gameServer)
	if errors.Is(err, pgx.ErrNoRows) {
		return takaro.NotFound("Shop listing", id)
	}
	if err != nil {
		return err
	}
	if err := refundPaidOrders(ctx, tx, id); err != nil {
		return err
	}
	return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventShopListingDeleted, GameserverID: &gameServer,
		Meta: eventMeta("id", id)})
}

// Orders.

// CreateShopOrder buys: the total price leaves the buyer's balance on the
// listing's game server and the order is recorded, in one transaction.
func (db *DB) CreateShopOrder(ctx context.Context, in takaro.ShopOrderCreate, manage bool) (*takaro.ShopOrder, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var order takaro.ShopOrder
	err := db.inDomain(ctx, func(tx *Tx) error {
		player, err := orderingPlayer(ctx, tx, in.PlayerID, manage)
		if err != nil {
			return err
		}
		var listing struct {
			name       string
			price      int
			draft      bool
			gameServer uuid.UUID
		}
		err = tx.QueryRow(ctx, `SELECT name, price, draft, gameserver_id FROM shop_listings
			WHERE domain = $1 AND id = $2 AND deleted_at IS NULL FOR SHARE`, tx.Domain, in.ListingID).
			Scan(&listing.name, &listing.price, &listing.draft, &listing.gameServer)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.Invalid("listingId", "refers to something that does not exist")
		}
		if err != nil {
			return err
		}
		if listing.draft {
			return takaro.Errorf(takaro.CodeBadRequest, takaro.MsgShopDraftListing)
		}
		total := int64(listing.price) * int64(in.Amount)
		if total > 1<<31-1 {
			return takaro.Errorf(takaro.CodeBadRequest, takaro.MsgShopNotEnoughCurrency)
		}
		err = tx.QueryRow(ctx, `WITH paid AS (
				UPDATE player_on_gameserver SET currency = currency - $5
				WHERE domain = $1 AND gameserver_id = $2 AND player_id = $3 RETURNING player_id, gameserver_id),
			t AS (
				INSERT INTO shop_orders (domain, listing_id, player_id, gameserver_id, amount, total_price)
				SELECT $1, $4::uuid, paid.player_id, paid.gameserver_id, $6::int, $5::int FROM paid RETURNING *)
			SELECT `+orderObject.build("t")+` FROM t`,
			tx.Domain, listing.gameServer, player, in.ListingID, total, in.Amount).Scan(&order)
		if errors.Is(err, pgx.ErrNoRows) {
			return takaro.Errorf(takaro.CodeBadRequest, takaro.MsgShopNoPresence)
		}
		if err != nil {
			return shopError(err, "shop order")
		}
		if err := recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventCurrencyDeducted, PlayerID: &player,
			GameserverID: &listing.gameServer, UserID: actingUser(ctx), Meta: eventMeta("amount", total)}); err != nil {
			return err
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventShopOrderCreated, PlayerID: &player,
			GameserverID: &listing.gameServer, Meta: eventMeta("id", order.ID, "listingName", listing.name,
				"price", listing.price, "amount", in.Amount, "totalPrice", total)})
	})
	if err != nil {
		return nil, err
	}
	return &order, nil
}

// orderingPlayer is the player an order is for: the named one, which only
// a shop manager may name, or the caller's linked player.
func orderingPlayer(ctx context.Context, tx *Tx, named *uuid.UUID, manage bool) (uuid.UUID, error) {
	if named != nil {
		if !manage {
			return uuid.Nil, takaro.Errorf(takaro.CodeBadRequest, takaro.MsgShopOrderForOther)
		}
		if err := checkReferences(ctx, tx, reference{"playerId", named, refPlayer}); err != nil {
			return uuid.Nil, err
		}
		return *named, nil
	}
	linked, err := linkedPlayer(ctx, tx)
	if err != nil {
		return uuid.Nil, err
	}
	if linked == nil {
		return uuid.Nil, takaro.Errorf(takaro.CodeBadRequest, takaro.MsgShopUnknownPlayer)
	}
	return *linked, nil
}

// linkedPlayer is the player linked to the calling user, if any.
func linkedPlayer(ctx context.Context, tx *Tx) (*uuid.UUID, error) {
	p, err := takaro.PrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	var player *uuid.UUID
	err = tx.QueryRow(ctx, "SELECT player_id FROM users WHERE domain = $1 AND id = $2", tx.Domain, p.UserID).Scan(&player)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return player, err
}

// ownOrders is the condition over t that shows a caller without
// MANAGE_SHOP_ORDERS only their own player's orders; $3 is that player.
const ownOrders = "($3::uuid IS NULL AND $4 OR t.player_id = $3)"

// FindShopOrderByID returns an order; without manage only one of the
// caller's own player.
func (db *DB) FindShopOrderByID(ctx context.Context, id uuid.UUID, manage bool) (*takaro.ShopOrder, error) {
	var order takaro.ShopOrder
	err := db.inDomain(ctx, func(tx *Tx) error {
		return readOrder(ctx, tx, id, manage, &order)
	})
	if err != nil {
		return nil, err
	}
	return &order, nil
}

// readOrder reads an order the caller may see, locking it for the rest of
// the transaction.
func readOrder(ctx context.Context, tx *Tx, id uuid.UUID, manage bool, order *takaro.ShopOrder) error {
	var own *uuid.UUID
	if !manage {
		linked, err := linkedPlayer(ctx, tx)
		if err != nil {
			return err
		}
		if linked == nil {
			return takaro.Errorf(takaro.CodeNotFound, takaro.MsgShopOrderNotFound)
		}
		own = linked
	}
	err := tx.QueryRow(ctx, "SELECT "+orderObject.build("t")+" FROM shop_orders t WHERE t.domain = $1 AND t.id = $2 AND "+ownOrders+
		" FOR UPDATE", tx.Domain, id, own, manage).Scan(order)
	if errors.Is(err, pgx.ErrNoRows) {
		return takaro.Errorf(takaro.CodeNotFound, takaro.MsgShopOrderNotFound)
	}
	return err
}

// FindShopOrders searches orders; without manage only the caller's own
// player's.
func (db *DB) FindShopOrders(ctx context.Context, q takaro.Query, manage bool) (*takaro.Page[takaro.ShopOrder], error) {
	if !manage {
		var own *uuid.UUID
		err := db.inDomain(ctx, func(tx *Tx) error {
			var err error
			own, err = linkedPlayer(ctx, tx)
			return err
		})
		if err != nil {
			return nil, err
		}
		if own == nil {
			own = &uuid.Nil // no player: no orders
		}
		if q.Filters == nil {
			q.Filters = map[string]takaro.Values{}
		}
		q.Filters["playerId"] = takaro.Values{own.String()}
	}
	return search[takaro.ShopOrder](ctx, db, orderSearch, q)
}

// ClaimShopOrder marks a paid order as handed over. Handing the items
// over in the game is the connector's part.
func (db *DB) ClaimShopOrder(ctx context.Context, id uuid.UUID, manage bool) (*takaro.ShopOrder, error) {
	return db.changeOrderStatus(ctx, id, manage, takaro.ShopOrderCompleted, takaro.MsgShopClaimNotPaid)
}

// CancelShopOrder cancels a paid order and refunds what it cost.
func (db *DB) CancelShopOrder(ctx context.Context, id uuid.UUID, manage bool) (*takaro.ShopOrder, error) {
	return db.changeOrderStatus(ctx, id, manage, takaro.ShopOrderCanceled, takaro.MsgShopCancelNotPaid)
}

// changeOrderStatus moves a paid order to status, refunding it on a
// cancellation.
func (db *DB) changeOrderStatus(ctx context.Context, id uuid.UUID, manage bool, status takaro.ShopOrderStatus, notPaid string) (*takaro.ShopOrder, error) {
	var order takaro.ShopOrder
	err := db.inDomain(ctx, func(tx *Tx) error {
		if err := readOrder(ctx, tx, id, manage, &order); err != nil {
			return err
		}
		if order.Status != takaro.ShopOrderPaid {
			return takaro.Errorf(takaro.CodeBadRequest, "%s. Current status: %s", notPaid, order.Status)
		}
		if status == takaro.ShopOrderCanceled {
			if err := refund(ctx, tx, &order); err != nil {
				return err
			}
		}
		err := tx.QueryRow(ctx, `WITH t AS (UPDATE shop_orders SET status = $3 WHERE domain = $1 AND id = $2 RETURNING *)
			SELECT `+orderObject.build("t")+` FROM t`, tx.Domain, id, status).Scan(&order)
		if err != nil {
			return err
		}
		return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventShopOrderStatusChanged, PlayerID: &order.PlayerID,
			GameserverID: &order.GameServerID, UserID: actingUser(ctx), Meta: eventMeta("id", order.ID, "status", status)})
	})
	if err != nil {
		return nil, err
	}
	return &order, nil
}

// refund gives an order's price back to its player on its game server.
func refund(ctx context.Context, tx *Tx, order *takaro.ShopOrder) error {
	_, err := tx.Exec(ctx, `UPDATE player_on_gameserver SET currency = currency + $4
		WHERE domain = $1 AND gameserver_id = $2 AND player_id = $3`, tx.Domain, order.GameServerID, order.PlayerID, order.TotalPrice)
	if err != nil {
		return currencyError(err)
	}
	return recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventCurrencyAdded, PlayerID: &order.PlayerID,
		GameserverID: &order.GameServerID, UserID: actingUser(ctx), Meta: eventMeta("amount", order.TotalPrice)})
}

// refundPaidOrders cancels and refunds every paid order of a listing.
func refundPaidOrders(ctx context.Context, tx *Tx, listing uuid.UUID) error {
	rows, err := tx.Query(ctx, `WITH t AS (
			UPDATE shop_orders SET status = 'CANCELED' WHERE domain = $1 AND listing_id = $2 AND status = 'PAID' RETURNING *)
		SELECT `+orderObject.build("t")+` FROM t ORDER BY t.id`, tx.Domain, listing)
	if err != nil {
		return err
	}
	orders, err := pgx.CollectRows(rows, pgx.RowTo[takaro.ShopOrder])
	if err != nil {
		return err
	}
	for i := range orders {
		if err := refund(ctx, tx, &orders[i]); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx, takaro.EventCreate{EventName: takaro.EventShopOrderStatusChanged, PlayerID: &orders[i].PlayerID,
			GameserverID: &orders[i].GameServerID, UserID: actingUser(ctx),
			Meta: eventMeta("id", orders[i].ID, "status", takaro.ShopOrderCanceled)}); err != nil {
			return err
		}
	}
	return nil
}
