package postgres

import (
	"context"
	"encoding/json"

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
