package postgres_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
)

func TestEventsAreAppendOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	ev := check[*takaro.Event](t)(e.core.CreateEvent(tn.ctx, takaro.EventCreate{EventName: takaro.EventSettingsSet, Meta: json.RawMessage(`{"a":1}`)}))
	ctx := context.Background()
	pool := e.db.Pool(t)
	var owner string
	must(t, pool.QueryRow(ctx, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'events'::regclass AND relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)").Scan(&owner))

	updates := []string{
		"UPDATE events SET meta = '{\"a\":2}' WHERE id = $1",
		"UPDATE events SET event_name = 'chat-message' WHERE id = $1",
		"UPDATE events SET id = id WHERE id = $1",
	}
	for _, stmt := range updates {
		// As the owner, in the domain's transaction, where the row is visible.
		err := e.core.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
			_, err := tx.Exec(tn.ctx, stmt, ev.ID)
			return err
		})
		wantSQLState(t, err, "23514")
		// As a superuser, whom row-level security would not stop.
		_, err = superuser(t, e.db).Exec(ctx, stmt, ev.ID)
		wantSQLState(t, err, "23514")
	}
	if got := check[*takaro.Event](t)(e.core.FindEventByID(tn.ctx, ev.ID)); !reflect.DeepEqual(got, ev) {
		t.Errorf("the event changed: %+v, was %+v", got, ev)
	}
	// Retention removes events.
	must(t, e.core.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
		tag, err := tx.Exec(tn.ctx, "DELETE FROM events WHERE domain = $1 AND id = $2", tx.Domain, ev.ID)
		if err == nil && tag.RowsAffected() != 1 {
			t.Errorf("deleted %d events", tag.RowsAffected())
		}
		return err
	}))
}

func TestEventCreateAndFind(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newDomain(t, takaro.DomainLimits{}), e.newDomain(t, takaro.DomainLimits{})
	f := e.fill(t, a)

	ev := check[*takaro.Event](t)(e.core.CreateEvent(a.ctx, takaro.EventCreate{
		EventName: "chat-message", PlayerID: &f.Player.ID, GameserverID: &f.GameServer.ID, Meta: json.RawMessage(`{"msg": "hi", "n": [1, 2]}`),
	}))
	if ev.ActingUserID == nil || *ev.ActingUserID != a.rootUserID() {
		t.Errorf("acting user %v, want the principal %s", ev.ActingUserID, a.rootUserID())
	}
	var meta map[string]any
	must(t, json.Unmarshal(ev.Meta, &meta))
	if !reflect.DeepEqual(meta, map[string]any{"msg": "hi", "n": []any{1.0, 2.0}}) {
		t.Errorf("meta %s", ev.Meta)
	}
	actor := check[*takaro.User](t)(e.core.CreateUser(a.ctx, takaro.UserCreate{Name: "actor", Email: "actor@example.com", Password: "correct horse"})).ID
	if got := check[*takaro.Event](t)(e.core.CreateEvent(a.ctx, takaro.EventCreate{EventName: "chat-message", ActingUserID: &actor})); got.ActingUserID == nil || *got.ActingUserID != actor {
		t.Errorf("explicit acting user %v, want %s", got.ActingUserID, actor)
	}
	// A new event may name only rows of its own domain: another domain's,
	// a made-up one and a deleted game server all read as missing.
	fb := e.fill(t, b)
	must(t, e.core.DeleteGameServer(a.ctx, f.GameServer.ID))
	unknown := uuid.New()
	for name, in := range map[string]takaro.EventCreate{
		"playerId":     {EventName: "chat-message", PlayerID: &fb.Player.ID},
		"gameserverId": {EventName: "chat-message", GameserverID: &f.GameServer.ID},
		"userId":       {EventName: "chat-message", UserID: &unknown},
		"actingUserId": {EventName: "chat-message", ActingUserID: &unknown},
	} {
		_, err := e.core.CreateEvent(a.ctx, in)
		if takaro.ErrorCode(err) != takaro.CodeValidation || !strings.Contains(err.Error(), name) {
			t.Errorf("an event naming a foreign or missing %s: %v, want a validation error naming it", name, err)
		}
	}
	anonymous := takaro.NewContext(context.Background(), takaro.Principal{Domain: a.ID})
	if got := check[*takaro.Event](t)(e.core.CreateEvent(anonymous, takaro.EventCreate{EventName: "chat-message"})); got.ActingUserID != nil {
		t.Errorf("an event without an acting user names %s", got.ActingUserID)
	}
	if got := check[*takaro.Event](t)(e.core.CreateEvent(a.ctx, takaro.EventCreate{EventName: "chat-message"})); string(got.Meta) != "{}" {
		t.Errorf("default meta %s", got.Meta)
	}

	_, err := e.core.CreateEvent(a.ctx, takaro.EventCreate{EventName: "bogus-event"})
	wantCode(t, err, takaro.CodeBadRequest)
	for _, meta := range []string{`[1]`, `null`, `"x"`, `{`} {
		_, err := e.core.CreateEvent(a.ctx, takaro.EventCreate{EventName: "chat-message", Meta: json.RawMessage(meta)})
		wantCode(t, err, takaro.CodeValidation)
	}
	_, err = e.core.CreateEvent(context.Background(), takaro.EventCreate{EventName: "chat-message"})
	wantCode(t, err, takaro.CodeUnauthorized)

	if got := check[*takaro.Event](t)(e.core.FindEventByID(a.ctx, ev.ID)); !reflect.DeepEqual(got, ev) {
		t.Errorf("read back %+v, want %+v", got, ev)
	}
	_, err = e.core.FindEventByID(b.ctx, ev.ID)
	wantCode(t, err, takaro.CodeNotFound)
	for body, want := range map[string]int{
		`{"filters": {"eventName": ["chat-message"]}}`:                                               4,
		`{"filters": {"eventName": ["chat-message"], "actingUserId": ["` + actor.String() + `"]}}`:   1,
		`{"filters": {"playerId": ["` + f.Player.ID.String() + `"], "eventName": ["chat-message"]}}`: 1,
		`{"filters": {"actingUserId": [null], "eventName": ["chat-message"]}}`:                       1,
	} {
		if n := check[*takaro.Page[takaro.Event]](t)(e.core.FindEvents(a.ctx, query(t, body))).Total; n != want {
			t.Errorf("%s: %d events, want %d", body, n, want)
		}
	}
	if n := check[*takaro.Page[takaro.Event]](t)(e.core.FindEvents(b.ctx, query(t, `{"filters": {"eventName": ["chat-message"]}}`))).Total; n != 0 {
		t.Errorf("another domain sees %d of these events", n)
	}
	_, err = e.core.FindEvents(a.ctx, query(t, `{"filters": {"eventName": ["bogus-event"]}}`))
	wantCode(t, err, takaro.CodeValidation)

	// Newest first, with the id breaking ties.
	page := check[*takaro.Page[takaro.Event]](t)(e.core.FindEvents(a.ctx, query(t, `{"sortBy": "createdAt", "sortDirection": "desc"}`)))
	for i := 1; i < len(page.Items); i++ {
		if page.Items[i].CreatedAt.After(page.Items[i-1].CreatedAt.Time) {
			t.Fatalf("events out of order at %d", i)
		}
	}
	var rows int
	must(t, e.core.InDomainForTest(a.ctx, func(tx *postgres.Tx) error {
		return tx.QueryRow(a.ctx, "SELECT count(*) FROM events WHERE meta = $1::jsonb", `{"n":[1,2],"msg":"hi"}`).Scan(&rows)
	}))
	if rows != 1 {
		t.Errorf("%d stored events with the meta as jsonb, want 1", rows)
	}
}
