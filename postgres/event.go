package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/jackc/pgx/v5"
)

var _ takaro.EventService = (*DB)(nil)

var eventObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"eventName", "event_name"},
	{"playerId", "player_id"}, {"gameserverId", "gameserver_id"}, {"moduleId", "module_id"},
	{"userId", "user_id"}, {"actingUserId", "acting_user_id"}, {"actingModuleId", "acting_module_id"},
	{"meta", "meta"},
}

var eventNames = func() []string {
	names := make([]string, len(takaro.EventNames))
	for i, n := range takaro.EventNames {
		names[i] = string(n)
	}
	return names
}()

var eventSearch = &searchSpec{
	table:  "events",
	object: eventObject,
	fields: withCommonFields(map[string]field{
		// An event is never updated (a trigger refuses it) and its insert
		// sets both times alike, so updatedAt is read from created_at,
		// whose index serves it: the largest table needs no index more.
		"updatedAt":      {column: "t.created_at", kind: kindTime, ops: opRange | opSort},
		"eventName":      {column: "t.event_name", kind: kindEnum, enum: eventNames, ops: opFilter | opSort},
		"playerId":       {column: "t.player_id", kind: kindUUID, ops: opFilter},
		"gameserverId":   {column: "t.gameserver_id", kind: kindUUID, ops: opFilter},
		"moduleId":       {column: "t.module_id", kind: kindUUID, ops: opFilter},
		"userId":         {column: "t.user_id", kind: kindUUID, ops: opFilter},
		"actingUserId":   {column: "t.acting_user_id", kind: kindUUID, ops: opFilter},
		"actingModuleId": {column: "t.acting_module_id", kind: kindUUID, ops: opFilter},
	}),
	extend: map[string]string{
		"gameServer": gameServerRelation,
		"player":     playerRelation,
		"user":       `(SELECT ` + userObject.build("u") + ` FROM users u WHERE u.domain = $1 AND u.id = t.user_id)`,
	},
}

// CreateEvent records an event in its own transaction.
func (db *DB) CreateEvent(ctx context.Context, in takaro.EventCreate) (*takaro.Event, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var ev *takaro.Event
	err := db.inDomain(ctx, func(tx *Tx) error {
		// The ids an event mentions are no foreign keys, so that the log
		// outlives its rows; a new event must still mention only rows of
		// its own domain.
		err := checkReferences(ctx, tx,
			reference{"moduleId", in.ModuleID, refModule},
			reference{"actingModuleId", in.ActingModuleID, refModule},
			reference{"playerId", in.PlayerID, refPlayer},
			reference{"gameserverId", in.GameserverID, refGameServer},
			reference{"userId", in.UserID, refUser},
			reference{"actingUserId", in.ActingUserID, refUser})
		if err != nil {
			return err
		}
		ev, err = insertEvent(ctx, tx, in)
		return err
	})
	return ev, err
}

// FindEventByID returns one event.
func (db *DB) FindEventByID(ctx context.Context, id uuid.UUID) (*takaro.Event, error) {
	return findByID[takaro.Event](ctx, db, "events", eventObject, id, "Event", "")
}

// FindEvents searches events.
func (db *DB) FindEvents(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.Event], error) {
	return search[takaro.Event](ctx, db, eventSearch, q)
}

// exportChunk is how many events an export reads per statement: enough to
// make the round trip and the planning cheap, few enough that a chunk in
// memory is small (a few megabytes) and each statement short.
const exportChunk = 5000

// ExportEvents reads the export a chunk at a time, each chunk a short read
// of its own that continues after the last event of the previous one
// (keyset over created_at and id, on the index (domain, created_at)). No
// transaction stays open while the client reads: a slow download holds
// no connection, no snapshot that keeps vacuum from retention's dead rows,
// and no statement near the statement timeout. Events are append-only and
// the window's end is fixed before the first chunk, so the chunks add up
// to the whole window.
func (db *DB) ExportEvents(ctx context.Context, q takaro.Query, each func(*takaro.EventExportRow) error) error {
	p, err := takaro.PrincipalFrom(ctx)
	if err != nil {
		return err
	}
	if q.SortBy != "" && q.SortBy != "createdAt" {
		return takaro.Invalid("sortBy", "an export is in the order of createdAt; leave sortBy out")
	}
	if q, err = takaro.EventExportWindow(q, time.Now()); err != nil {
		return err
	}
	q.SortBy, q.Page, q.Limit = "createdAt", nil, nil
	b, err := eventSearch.build(p.Domain, q)
	if err != nil {
		return err
	}
	after := ">"
	if strings.Contains(b.orderBy, "DESC") {
		after = "<"
	}
	// The name of each row an event mentions, looked up only when it
	// mentions one (most events name one or two).
	name := func(table, column string) string {
		return fmt.Sprintf(`CASE WHEN t.%[2]s IS NULL THEN '' ELSE coalesce((SELECT r.name FROM %[1]s r WHERE r.domain = $1 AND r.id = t.%[2]s), '') END`,
			table, column)
	}
	columns := `t.id, t.created_at, t.updated_at, t.event_name, t.player_id, t.gameserver_id, t.module_id, t.user_id,
		t.acting_user_id, t.acting_module_id, t.meta, ` + strings.Join([]string{name("modules", "module_id"), name("players", "player_id"),
		name("users", "user_id"), name("gameservers", "gameserver_id")}, ", ")
	chunk := make([]takaro.EventExportRow, 0, exportChunk)
	var lastAt time.Time
	var lastID uuid.UUID
	for first := true; ; first = false {
		args, where := slices.Clone(b.args), b.where
		if !first {
			args = append(args, lastAt, lastID)
			where += fmt.Sprintf(" AND (t.created_at, t.id) %s ($%d, $%d)", after, len(args)-1, len(args))
		}
		args = append(args, exportChunk)
		sql := fmt.Sprintf("SELECT %s FROM events t WHERE %s ORDER BY %s LIMIT $%d", columns, where, b.orderBy, len(args))
		chunk = chunk[:0]
		err := db.readInDomain(ctx, func(batch *pgx.Batch, _ string) {
			batch.Queue(sql, args...).Query(func(rows pgx.Rows) error {
				var r takaro.EventExportRow
				_, err := pgx.ForEachRow(rows, []any{&r.ID, &r.CreatedAt.Time, &r.UpdatedAt.Time, &r.EventName, &r.PlayerID,
					&r.GameserverID, &r.ModuleID, &r.UserID, &r.ActingUserID, &r.ActingModuleID, &r.Meta,
					&r.ModuleName, &r.PlayerName, &r.UserName, &r.GameServerName}, func() error {
					chunk = append(chunk, r)
					r = takaro.EventExportRow{}
					return nil
				})
				return err
			})
		})
		if err != nil {
			return err
		}
		for i := range chunk {
			if err := each(&chunk[i]); err != nil {
				return err
			}
		}
		if len(chunk) < exportChunk {
			return nil
		}
		last := chunk[len(chunk)-1]
		lastAt, lastID = last.CreatedAt.Time, last.ID
	}
}

// recordEvent writes the audit event of a mutation inside the mutation's
// own transaction, so the event exists exactly when the change does.
func recordEvent(ctx context.Context, tx *Tx, in takaro.EventCreate) error {
	_, err := insertEvent(ctx, tx, in)
	return err
}

// actingUser is the principal's user, nil when there is none.
func actingUser(ctx context.Context) *uuid.UUID {
	if p, err := takaro.PrincipalFrom(ctx); err == nil && p.UserID != uuid.Nil {
		return &p.UserID
	}
	return nil
}

// insertEvent writes an event; the acting user defaults to the principal.
func insertEvent(ctx context.Context, tx *Tx, in takaro.EventCreate) (*takaro.Event, error) {
	b := &pgx.Batch{}
	var ev takaro.Event
	queueEvent(ctx, b, tx.Domain, in).QueryRow(func(row pgx.Row) error { return row.Scan(&ev) })
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, translateError(err, "event")
	}
	return &ev, nil
}

// queueEvent adds the insert of an event to b, so that a mutation can send
// its events in the same round trip as its last change.
func queueEvent(ctx context.Context, b *pgx.Batch, domain string, in takaro.EventCreate) *pgx.QueuedQuery {
	if in.ActingUserID == nil {
		in.ActingUserID = actingUser(ctx)
	}
	meta := in.Meta
	if len(meta) == 0 {
		meta = []byte("{}")
	}
	return b.Queue(eventObject.returning(`INSERT INTO events AS t (domain, event_name, player_id, gameserver_id, module_id, user_id, acting_user_id, acting_module_id, meta)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`),
		domain, in.EventName, in.PlayerID, in.GameserverID, in.ModuleID, in.UserID, in.ActingUserID, in.ActingModuleID, string(meta))
}

// eventMeta builds an event's meta object from key/value pairs.
func eventMeta(kv ...any) json.RawMessage {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	b, _ := json.Marshal(m) // maps of ids and strings always marshal
	return b
}

// findByID reads one row of table by id as object, in one round trip;
// where is an extra condition over t, or "".
func findByID[T any](ctx context.Context, db *DB, table string, object jsonFields, id uuid.UUID, resource, where string) (*T, error) {
	if where != "" {
		where = " AND " + where
	}
	var out *T
	err := db.readInDomain(ctx, func(b *pgx.Batch, domain string) {
		b.Queue("SELECT "+object.build("t")+" FROM "+table+" t WHERE t.domain = $1 AND t.id = $2"+where, domain, id).
			Query(func(rows pgx.Rows) error {
				var err error
				out, err = collectOptional[T](rows)
				return err
			})
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, takaro.NotFound(resource, id)
	}
	return out, nil
}

// collectOptional reads at most one row as T; nil when there is none.
func collectOptional[T any](rows pgx.Rows) (*T, error) {
	items, err := pgx.CollectRows(rows, pgx.RowTo[T])
	if err != nil || len(items) == 0 {
		return nil, err
	}
	return &items[0], nil
}

// importBatch is the most events one transaction of ImportEvents copies.
const importBatch = 50_000

// importColumns are the columns ImportEvents copies, in order.
var importColumns = []string{"domain", "id", "event_name", "player_id", "gameserver_id", "module_id", "user_id",
	"acting_user_id", "acting_module_id", "meta", "created_at", "updated_at"}

// ImportEvents writes the events of the context's domain with COPY, as
// they are (ids and times included; updatedAt is createdAt, as for every
// event), in transactions of at most importBatch rows: bulk loads such as
// the seed of takaro bench -scale. No reference is checked. It returns
// how many it wrote.
func (db *DB) ImportEvents(ctx context.Context, events iter.Seq[takaro.Event]) (int64, error) {
	next, stop := iter.Pull(events)
	defer stop()
	var written int64
	for more := true; more; {
		err := db.inDomain(ctx, func(tx *Tx) error {
			// PostgreSQL refuses COPY into a table with row-level security:
			// the rows are copied into a temporary table and moved with one
			// INSERT, which the policy checks.
			if _, err := tx.Exec(ctx, "CREATE TEMPORARY TABLE events_import (LIKE events) ON COMMIT DROP"); err != nil {
				return err
			}
			inBatch := 0
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"events_import"}, importColumns, pgx.CopyFromFunc(func() ([]any, error) {
				if inBatch == importBatch {
					return nil, nil
				}
				ev, ok := next()
				if !ok {
					more = false
					return nil, nil
				}
				inBatch++
				meta := ev.Meta
				if len(meta) == 0 {
					meta = []byte("{}")
				}
				return []any{tx.Domain, ev.ID, string(ev.EventName), ev.PlayerID, ev.GameserverID, ev.ModuleID, ev.UserID,
					ev.ActingUserID, ev.ActingModuleID, string(meta), ev.CreatedAt.Time, ev.CreatedAt.Time}, nil
			}))
			if err != nil {
				return err
			}
			columns := strings.Join(importColumns, ", ")
			tag, err := tx.Exec(ctx, "INSERT INTO events ("+columns+") SELECT "+columns+" FROM events_import WHERE domain = $1", tx.Domain)
			written += tag.RowsAffected()
			return err
		})
		if err != nil {
			return written, translateError(err, "event")
		}
	}
	return written, nil
}

// VacuumAnalyzeEvents vacuums and analyzes the events table, as autovacuum
// would later: after a bulk load, for the visibility map (index-only
// scans) and the planner's statistics.
func (db *DB) VacuumAnalyzeEvents(ctx context.Context) error {
	_, err := db.pool.Exec(ctx, "VACUUM (ANALYZE) events")
	return err
}
