package postgres_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
)

func isVariable(id uuid.UUID) func(takaro.Event) bool {
	return func(ev takaro.Event) bool { return strings.Contains(string(ev.Meta), id.String()) }
}

// expireVariable moves a variable's expiry into the past.
func (e *env) expireVariable(t testing.TB, tn *tenant, id uuid.UUID) {
	t.Helper()
	must(t, e.core.InDomainForTest(tn.ctx, func(tx *postgres.Tx) error {
		tag, err := tx.Exec(tn.ctx, "UPDATE variables SET expires_at = now() - interval '1 second' WHERE domain = $1 AND id = $2", tx.Domain, id)
		if err == nil && tag.RowsAffected() != 1 {
			t.Fatalf("no variable %s", id)
		}
		return err
	}))
}

func TestVariableScopeUniqueness(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	f := e.fill(t, tn)
	create := func(gs, player *uuid.UUID) error {
		_, err := e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "points", Value: "1", GameServerID: gs, PlayerID: player})
		return err
	}
	for _, scope := range []struct {
		name       string
		gs, player *uuid.UUID
	}{
		{"domain", nil, nil},
		{"game server", &f.GameServer.ID, nil},
		{"player", nil, &f.Player.ID},
		{"player on game server", &f.GameServer.ID, &f.Player.ID},
	} {
		if err := create(scope.gs, scope.player); err != nil {
			t.Fatalf("%s scope: %v", scope.name, err)
		}
		// Unset scope ids count as values: the same key twice conflicts.
		if ce := wantCode(t, create(scope.gs, scope.player), takaro.CodeConflict); ce.Message != uniqueViolation {
			t.Errorf("%s scope: conflict %q, want %q", scope.name, ce.Message, uniqueViolation)
		}
	}
	if n := check[*takaro.Page[takaro.Variable]](t)(e.core.FindVariables(tn.ctx, query(t, `{"filters": {"key": ["points"]}}`))).Total; n != 4 {
		t.Errorf("%d variables called points, want one per scope", n)
	}
	// Moving a variable into a scope that has the key conflicts too.
	other := check[*takaro.Variable](t)(e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "other", Value: "1"}))
	_, err := e.core.UpdateVariable(tn.ctx, other.ID, takaro.VariableUpdate{Key: ptrTo("points"), Value: "2"})
	wantCode(t, err, takaro.CodeConflict)
}

func TestVariableExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxVariables: ptrTo(2)})
	until := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	v := check[*takaro.Variable](t)(e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "session", Value: "old", ExpiresAt: &until}))
	if v.ExpiresAt == nil || !v.ExpiresAt.Equal(until) {
		t.Fatalf("expires %v, want %v", v.ExpiresAt, until)
	}
	check[*takaro.Variable](t)(e.core.FindVariableByID(tn.ctx, v.ID))

	e.expireVariable(t, tn, v.ID)
	_, err := e.core.FindVariableByID(tn.ctx, v.ID)
	wantCode(t, err, takaro.CodeNotFound)
	if n := check[*takaro.Page[takaro.Variable]](t)(e.core.FindVariables(tn.ctx, takaro.Query{})).Total; n != 0 {
		t.Errorf("%d variables listed, all expired", n)
	}
	_, err = e.core.UpdateVariable(tn.ctx, v.ID, takaro.VariableUpdate{Value: "revived"})
	wantCode(t, err, takaro.CodeNotFound)
	wantCode(t, e.core.DeleteVariable(tn.ctx, v.ID), takaro.CodeNotFound)

	// An expired variable neither counts towards the limit nor holds its key.
	fresh := check[*takaro.Variable](t)(e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "session", Value: "new"}))
	check[*takaro.Variable](t)(e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "second", Value: "v"}))
	if got := check[*takaro.Variable](t)(e.core.FindVariableByID(tn.ctx, fresh.ID)); got.Value != "new" || got.ExpiresAt != nil {
		t.Errorf("replacement %+v", got)
	}
	_, err = e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "third", Value: "v"})
	wantCode(t, err, takaro.CodeBadRequest)
	var rows int
	must(t, superuser(t, e.db).QueryRow(tn.ctx, "SELECT count(*) FROM variables WHERE domain = $1 AND key = 'session'", tn.ID).Scan(&rows))
	if rows != 1 {
		t.Errorf("%d rows for key session, want the replacement only", rows)
	}

	// Renaming onto a key whose only holder has expired works like creating.
	third := check[*takaro.Variable](t)(e.core.UpdateVariable(tn.ctx, fresh.ID, takaro.VariableUpdate{Key: ptrTo("renamed"), Value: "x", ExpiresAt: &until}))
	e.expireVariable(t, tn, third.ID)
	second := check[*takaro.Page[takaro.Variable]](t)(e.core.FindVariables(tn.ctx, query(t, `{"filters": {"key": ["second"]}}`))).Items[0]
	if _, err := e.core.UpdateVariable(tn.ctx, second.ID, takaro.VariableUpdate{Key: ptrTo("renamed"), Value: "y"}); err != nil {
		t.Errorf("renaming onto an expired variable's key: %v", err)
	}
}

func TestVariableUpdateWithoutExpiryClearsIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	f := e.fill(t, tn)
	until := time.Now().Add(time.Hour)
	v := check[*takaro.Variable](t)(e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "k", Value: "1", ExpiresAt: &until, GameServerID: &f.GameServer.ID}))
	upd := check[*takaro.Variable](t)(e.core.UpdateVariable(tn.ctx, v.ID, takaro.VariableUpdate{Value: "2"}))
	if upd.ExpiresAt != nil || upd.Value != "2" || upd.Key != "k" || upd.GameServerID == nil || *upd.GameServerID != f.GameServer.ID {
		t.Errorf("updated %+v: want value 2, no expiry, same key and scope", upd)
	}
	if got := check[*takaro.Variable](t)(e.core.FindVariableByID(tn.ctx, v.ID)); got.ExpiresAt != nil {
		t.Errorf("stored expiry %v", got.ExpiresAt)
	}
	later := time.Now().Add(2 * time.Hour).Truncate(time.Microsecond)
	if upd := check[*takaro.Variable](t)(e.core.UpdateVariable(tn.ctx, v.ID, takaro.VariableUpdate{Value: "3", ExpiresAt: &later})); upd.ExpiresAt == nil || !upd.ExpiresAt.Equal(later) {
		t.Errorf("expiry %v, want %v", upd.ExpiresAt, later)
	}
	e.requireEvent(t, tn, takaro.EventVariableCreated, isVariable(v.ID))
	if n := len(e.events(t, tn, takaro.EventVariableUpdated)); n != 2 {
		t.Errorf("%d variable-updated events, want 2", n)
	}
	must(t, e.core.DeleteVariable(tn.ctx, v.ID))
	ev := e.requireEvent(t, tn, takaro.EventVariableDeleted, isVariable(v.ID))
	if strings.Contains(string(ev.Meta), `"3"`) || ev.GameserverID == nil || *ev.GameserverID != f.GameServer.ID {
		t.Errorf("variable-deleted event %+v: want the scope and no value", ev)
	}
}

func TestVariableLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const limit, attempts = 5, 20
	tn := e.newDomain(t, takaro.DomainLimits{MaxVariables: ptrTo(limit)})
	wide := e.openWide(t)
	errs := atOnce(attempts, func(i int) error {
		_, err := wide.CreateVariable(tn.ctx, takaro.VariableCreate{Key: fmt.Sprintf("key-%d", i), Value: "v"})
		return err
	})
	var ok int
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		if ce := wantCode(t, err, takaro.CodeBadRequest); ce.Message != "Too many variables" {
			t.Errorf("refused with %q", ce.Message)
		}
	}
	if ok != limit {
		t.Errorf("%d of %d concurrent creations succeeded, limit %d", ok, attempts, limit)
	}
	if n := check[*takaro.Page[takaro.Variable]](t)(e.core.FindVariables(tn.ctx, takaro.Query{})).Total; n != limit {
		t.Errorf("%d variables exist, limit %d", n, limit)
	}
}

func TestVariableValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	// The limit is in characters, in Go and in PostgreSQL alike.
	wide := strings.Repeat("🎮", takaro.MaxVariableValue)
	v := check[*takaro.Variable](t)(e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "wide", Value: wide}))
	if got := check[*takaro.Variable](t)(e.core.FindVariableByID(tn.ctx, v.ID)); got.Value != wide {
		t.Errorf("read back %d bytes of %d", len(got.Value), len(wide))
	}
	_, err := e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "long", Value: wide + "x"})
	wantCode(t, err, takaro.CodeBadRequest)
	for _, in := range []takaro.VariableCreate{
		{Key: "", Value: "v"},
		{Key: strings.Repeat("k", 256), Value: "v"},
		{Key: "bad utf8", Value: "\xff"},
	} {
		_, err := e.core.CreateVariable(tn.ctx, in)
		wantCode(t, err, takaro.CodeValidation)
	}
	check[*takaro.Variable](t)(e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "empty", Value: ""}))
	_, err = e.core.UpdateVariable(tn.ctx, v.ID, takaro.VariableUpdate{Value: wide + "x"})
	wantCode(t, err, takaro.CodeBadRequest)
	_, err = e.core.UpdateVariable(tn.ctx, uuid.New(), takaro.VariableUpdate{Value: "x"})
	wantCode(t, err, takaro.CodeNotFound)
	for body, want := range map[string]int{
		`{"search": {"key": ["WID"]}}`:               1,
		`{"filters": {"key": ["empty", "wide"]}}`:    2,
		`{"sortBy": "key", "sortDirection": "desc"}`: 2,
		`{"greaterThan": {"createdAt": "2000-01-01T00:00:00Z"}, "lessThan": {"expiresAt": "2100-01-01T00:00:00Z"}}`: 0,
	} {
		if n := check[*takaro.Page[takaro.Variable]](t)(e.core.FindVariables(tn.ctx, query(t, body))).Total; n != want {
			t.Errorf("%s: %d variables, want %d", body, n, want)
		}
	}
}
