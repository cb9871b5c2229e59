package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.TrackingService = (*DB)(nil)

// Location history lives in player_location (migration 00081), inventory
// history in player_inventory_history (00105), both partitioned by UTC day
// of created_at. Partitions are made ahead of time by the
// maintenance pass (partitionsAhead days) and, should a write still find
// none for today, by the write itself before it tries once more. Retention
// drops whole days when no domain keeps them any more and deletes in
// batches otherwise (maintain.go).

// partitionedTables are the tables partitioned by day of created_at.
var partitionedTables = []string{"player_location", "player_inventory_history"}

// partitionsAhead is how many days of partitions, today included, the
// maintenance pass keeps ready.
const partitionsAhead = 8

var locationObject = jsonFields{
	{"id", "id"}, {"playerId", "player_id"}, {"pogId", "pog_id"}, {"gameserverId", "gameserver_id"},
	{"x", "x"}, {"y", "y"}, {"z", "z"}, {"dimension", "dimension"},
	{"createdAt", "created_at"}, {"updatedAt", "created_at"},
}

// RecordLocations stores one position per sample, in one statement.
func (db *DB) RecordLocations(ctx context.Context, in takaro.LocationRecord) ([]takaro.PlayerLocation, error) {
	if err := takaro.ValidateSamples(in.Samples); err != nil {
		return nil, err
	}
	n := len(in.Samples)
	players, dims := make([]uuid.UUID, n), make([]*string, n)
	xs, ys, zs := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, s := range in.Samples {
		players[i], xs[i], ys[i], zs[i], dims[i] = s.PlayerID, s.X, s.Y, s.Z, s.Dimension
	}
	var out []takaro.PlayerLocation
	err := db.inDayPartitions(ctx, func(tx *Tx) error {
		rows, err := tx.Query(ctx, `WITH t AS (
				INSERT INTO player_location (domain, pog_id, player_id, gameserver_id, x, y, z, dimension)
				SELECT $1, p.id, p.player_id, p.gameserver_id, s.x, s.y, s.z, s.dimension
				FROM unnest($3::uuid[], $4::numeric[], $5::numeric[], $6::numeric[], $7::text[]) WITH ORDINALITY AS s (player_id, x, y, z, dimension, n)
				JOIN player_on_gameserver p ON p.domain = $1 AND p.gameserver_id = $2 AND p.player_id = s.player_id
				JOIN gameservers g ON g.domain = $1 AND g.id = $2 AND g.deleted_at IS NULL
				ORDER BY s.n
				RETURNING *)
			SELECT `+locationObject.build("t")+` FROM t ORDER BY t.created_at, t.id`,
			tx.Domain, in.GameServerID, players, xs, ys, zs, dims)
		if err != nil {
			return err
		}
		if out, err = pgx.CollectRows(rows, pgx.RowTo[takaro.PlayerLocation]); err != nil {
			return err
		}
		if len(out) != n {
			return playerNotOnServer(in.GameServerID)
		}
		return nil
	})
	return out, err
}

func playerNotOnServer(gameServerID uuid.UUID) error {
	return takaro.Errorf(takaro.CodeNotFound, "a player of the samples is not known on game server %s", gameServerID)
}

// inDayPartitions runs a write to a table partitioned by day in the
// domain; should it find no partition for today, it makes the partitions
// and runs the write once more.
func (db *DB) inDayPartitions(ctx context.Context, write func(tx *Tx) error) error {
	err := db.inDomain(ctx, write)
	if isMissingPartition(err) {
		if err := db.ensurePartitions(ctx, 1); err != nil {
			return err
		}
		err = db.inDomain(ctx, write)
	}
	return err
}

// isMissingPartition reports whether err is PostgreSQL finding no
// partition for a row.
func isMissingPartition(err error) bool {
	pgErr := asPgError(err)
	return pgErr != nil && pgErr.Code == sqlstateCheckViolation && strings.HasPrefix(pgErr.Message, "no partition of relation")
}

// ensurePartitions makes sure every partitioned table has partitions for
// the given number of UTC days from today.
func (db *DB) ensurePartitions(ctx context.Context, days int) error {
	return db.inSystem(ctx, func(tx pgx.Tx) error {
		// On Citus a new partition's shards are created over several
		// connections per worker, and then isolating the partition in the
		// same transaction deadlocks with them; one connection per node
		// does not.
		if _, err := tx.Exec(ctx, "SELECT set_config('citus.multi_shard_modify_mode', 'sequential', true) WHERE takaro_distributed()"); err != nil {
			return err
		}
		for _, table := range partitionedTables {
			if _, err := tx.Exec(ctx, "SELECT takaro_ensure_day_partitions($1::regclass, (now() AT TIME ZONE 'UTC')::date, $2)",
				table, days); err != nil {
				return fmt.Errorf("create partitions of %s: %w", table, err)
			}
		}
		return nil
	})
}

// FindLocations returns positions of some or all players, newest first.
func (db *DB) FindLocations(ctx context.Context, q takaro.LocationHistoryQuery) ([]takaro.PlayerLocation, error) {
	var cond string
	var args []any
	if len(q.PlayerID) > 0 {
		cond, args = "t.player_id = ANY($5)", []any{q.PlayerID}
	}
	return db.findLocations(ctx, q.TimeWindow, q.Limit, cond, args...)
}

// FindLocationsInBox returns positions inside a box, newest first.
func (db *DB) FindLocationsInBox(ctx context.Context, q takaro.LocationBoxQuery) ([]takaro.PlayerLocation, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return db.findLocations(ctx, q.TimeWindow, q.Limit,
		"t.gameserver_id = $5 AND t.x BETWEEN $6 AND $7 AND t.y BETWEEN $8 AND $9 AND t.z BETWEEN $10 AND $11",
		q.GameServerID, q.MinX, q.MaxX, q.MinY, q.MaxY, q.MinZ, q.MaxZ)
}

// FindLocationsInRadius returns positions within a distance of a point,
// newest first. The box around the sphere narrows the rows before the
// distance is computed.
func (db *DB) FindLocationsInRadius(ctx context.Context, q takaro.LocationRadiusQuery) ([]takaro.PlayerLocation, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	return db.findLocations(ctx, q.TimeWindow, q.Limit,
		`t.gameserver_id = $5 AND t.x BETWEEN $6::numeric - $9 AND $6::numeric + $9 AND t.y BETWEEN $7::numeric - $9 AND $7::numeric + $9
			AND t.z BETWEEN $8::numeric - $9 AND $8::numeric + $9
			AND (t.x - $6) ^ 2 + (t.y - $7) ^ 2 + (t.z - $8) ^ 2 <= $9::numeric ^ 2`,
		q.GameServerID, q.X, q.Y, q.Z, q.Radius)
}

// findLocations runs a location search (see findHistory).
func (db *DB) findLocations(ctx context.Context, w takaro.TimeWindow, limit *int, cond string, args ...any) ([]takaro.PlayerLocation, error) {
	return findHistory[takaro.PlayerLocation](ctx, db, `SELECT `+locationObject.build("t")+` FROM player_location t`, w, limit, cond, args...)
}

// findHistory runs a search of a history table, aliased t in from: the
// domain is $1, the window $2 and $3, the limit $4, and cond's own
// parameters follow from $5. It returns the rows newest first.
func findHistory[T any](ctx context.Context, db *DB, from string, w takaro.TimeWindow, limit *int, cond string, args ...any) ([]T, error) {
	n, err := takaro.ResultLimit(limit)
	if err != nil {
		return nil, err
	}
	start, end, err := w.Resolve(time.Now())
	if err != nil {
		return nil, err
	}
	if cond != "" {
		cond = " AND " + cond
	}
	out := []T{}
	err = db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		b.Queue(from+` WHERE t.domain = $1 AND t.created_at BETWEEN $2 AND $3`+cond+`
			ORDER BY t.created_at DESC, t.id DESC LIMIT $4`, append([]any{domain, start, end, n}, args...)...).
			Query(func(rows pgx.Rows) error {
				var err error
				out, err = pgx.CollectRows(rows, pgx.RowTo[T])
				return err
			})
	})
	return out, err
}

var inventoryObject = jsonFields{
	{"id", "id"}, {"playerId", "player_id"}, {"pogId", "pog_id"}, {"gameserverId", "gameserver_id"},
	{"itemId", "item_id"}, {"itemName", "i.name"}, {"itemCode", "i.code"}, {"quantity", "quantity"}, {"quality", "quality"},
	{"createdAt", "created_at"}, {"updatedAt", "created_at"},
}

// RecordInventories stores one snapshot per sample, in one statement after
// a check that every player is on the game server.
func (db *DB) RecordInventories(ctx context.Context, in takaro.InventoryRecord) ([]takaro.InventoryEntry, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var players, stackPlayers []uuid.UUID
	var codes []string
	var amounts []int
	var qualities []*string
	for _, s := range in.Samples {
		players = append(players, s.PlayerID)
		for _, it := range s.Items {
			stackPlayers, codes, amounts, qualities = append(stackPlayers, s.PlayerID), append(codes, it.Code), append(amounts, it.Amount), append(qualities, it.Quality)
		}
	}
	out := []takaro.InventoryEntry{}
	err := db.inDayPartitions(ctx, func(tx *Tx) error {
		var unknown int
		err := tx.QueryRow(ctx, `SELECT count(*) FROM unnest($3::uuid[]) s (player_id)
			WHERE NOT EXISTS (SELECT 1 FROM player_on_gameserver p
				JOIN gameservers g ON g.domain = $1 AND g.id = p.gameserver_id AND g.deleted_at IS NULL
				WHERE p.domain = $1 AND p.gameserver_id = $2 AND p.player_id = s.player_id)`,
			tx.Domain, in.GameServerID, players).Scan(&unknown)
		if err != nil {
			return err
		}
		if unknown > 0 {
			return playerNotOnServer(in.GameServerID)
		}
		// A player's stacks of one item are summed; the first stack's
		// quality stands for them.
		rows, err := tx.Query(ctx, `WITH s AS (
				SELECT s.player_id, s.code, sum(s.amount) AS quantity, (array_agg(s.quality ORDER BY s.n))[1] AS quality
				FROM unnest($3::uuid[], $4::text[], $5::integer[], $6::text[]) WITH ORDINALITY AS s (player_id, code, amount, quality, n)
				GROUP BY s.player_id, s.code),
			t AS (
				INSERT INTO player_inventory_history (domain, pog_id, player_id, gameserver_id, item_id, quantity, quality)
				SELECT $1, p.id, p.player_id, p.gameserver_id, i.id, s.quantity, s.quality
				FROM s
				JOIN player_on_gameserver p ON p.domain = $1 AND p.gameserver_id = $2 AND p.player_id = s.player_id
				JOIN items i ON i.domain = $1 AND i.gameserver_id = $2 AND i.code = s.code
				RETURNING *)
			SELECT `+inventoryObject.build("t")+` FROM t JOIN items i ON i.domain = $1 AND i.id = t.item_id
			ORDER BY t.player_id, i.code`,
			tx.Domain, in.GameServerID, stackPlayers, codes, amounts, qualities)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[takaro.InventoryEntry])
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// inventoryFrom is the search of inventory history, with the item's name
// and code.
var inventoryFrom = `SELECT ` + inventoryObject.build("t") + ` FROM player_inventory_history t
	JOIN items i ON i.domain = $1 AND i.id = t.item_id`

// FindInventories returns a player's inventory entries, newest first.
func (db *DB) FindInventories(ctx context.Context, q takaro.InventoryHistoryQuery) ([]takaro.InventoryEntry, error) {
	if q.PlayerID == uuid.Nil {
		return nil, takaro.Invalid("playerId", "is required")
	}
	return findHistory[takaro.InventoryEntry](ctx, db, inventoryFrom, q.TimeWindow, q.Limit,
		"t.player_id = $5 AND ($6::uuid IS NULL OR t.gameserver_id = $6)", q.PlayerID, q.GameServerID)
}

// FindItemHolders returns the inventory entries of one item, newest first.
func (db *DB) FindItemHolders(ctx context.Context, q takaro.ItemHistoryQuery) ([]takaro.InventoryEntry, error) {
	if q.ItemID == uuid.Nil {
		return nil, takaro.Invalid("itemId", "is required")
	}
	return findHistory[takaro.InventoryEntry](ctx, db, inventoryFrom, q.TimeWindow, q.Limit, "t.item_id = $5", q.ItemID)
}
