package postgres_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
	"github.com/gotakaro/takaro/postgres/pgtest"
)

func isGameServer(id uuid.UUID) func(takaro.Event) bool {
	return func(ev takaro.Event) bool { return ev.GameserverID != nil && *ev.GameserverID == id }
}

func TestGameServerLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const limit, attempts = 3, 12
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(limit)})
	wide := e.openWide(t)
	errs := atOnce(attempts, func(i int) error {
		_, err := wide.CreateGameServer(tn.ctx, takaro.GameServerCreate{
			Name: fmt.Sprintf("racer %d", i), Type: takaro.GameServerMock, ConnectionInfo: "{}",
		})
		return err
	})
	var ok int
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		if ce := wantCode(t, err, takaro.CodeBadRequest); !strings.Contains(ce.Message, "Max game servers") {
			t.Errorf("refused with %q", ce.Message)
		}
	}
	if ok != limit {
		t.Errorf("%d of %d concurrent creations succeeded, limit %d", ok, attempts, limit)
	}
	page := check[*takaro.Page[takaro.GameServer]](t)(e.core.FindGameServers(tn.ctx, takaro.Query{}))
	if page.Total != limit {
		t.Errorf("%d game servers exist, limit %d", page.Total, limit)
	}
	if n := len(e.events(t, tn, takaro.EventGameServerCreated)); n != limit {
		t.Errorf("%d gameserver-created events for %d game servers", n, limit)
	}

	// A deleted game server frees its seat.
	must(t, e.core.DeleteGameServer(tn.ctx, page.Items[0].ID))
	e.createGameServer(t, tn, "replacement")
	_, err := e.core.CreateGameServer(tn.ctx, takaro.GameServerCreate{Name: "one too many", Type: takaro.GameServerMock, ConnectionInfo: "{}"})
	wantCode(t, err, takaro.CodeBadRequest)
}

func TestGameServerSoftDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5)})
	gs := check[*takaro.GameServer](t)(e.core.CreateGameServer(tn.ctx, takaro.GameServerCreate{
		Name: "doomed", Type: takaro.GameServerGeneric, ConnectionInfo: `{"a":1}`, IdentityToken: ptrTo("token-1"),
	}))
	keep := e.createGameServer(t, tn, "kept")
	must(t, e.core.DeleteGameServer(tn.ctx, gs.ID))
	e.requireEvent(t, tn, takaro.EventGameServerDeleted, isGameServer(gs.ID))

	for _, withInfo := range []bool{false, true} {
		_, err := e.core.FindGameServerByID(tn.ctx, gs.ID, withInfo)
		wantCode(t, err, takaro.CodeNotFound)
	}
	_, err := e.core.UpdateGameServer(tn.ctx, gs.ID, takaro.GameServerUpdate{Name: ptrTo("revived")})
	wantCode(t, err, takaro.CodeNotFound)
	wantCode(t, e.core.DeleteGameServer(tn.ctx, gs.ID), takaro.CodeNotFound)
	for _, body := range []string{`{}`, `{"filters": {"id": ["` + gs.ID.String() + `"]}}`, `{"filters": {"name": ["doomed"]}}`} {
		page := check[*takaro.Page[takaro.GameServer]](t)(e.core.FindGameServers(tn.ctx, query(t, body)))
		for _, item := range page.Items {
			if item.ID == gs.ID {
				t.Errorf("%s: the deleted game server is listed", body)
			}
		}
	}
	if page := check[*takaro.Page[takaro.GameServer]](t)(e.core.FindGameServers(tn.ctx, takaro.Query{})); page.Total != 1 || page.Items[0].ID != keep.ID {
		t.Errorf("listed %+v, want only the kept server", page.Items)
	}
	// The row stays, marked deleted.
	var deleted bool
	must(t, superuser(t, e.db).QueryRow(tn.ctx, "SELECT deleted_at IS NOT NULL FROM gameservers WHERE id = $1", gs.ID).Scan(&deleted))
	if !deleted {
		t.Error("the deleted game server has no deleted_at")
	}
	// Its name and identity token are free at once.
	again := check[*takaro.GameServer](t)(e.core.CreateGameServer(tn.ctx, takaro.GameServerCreate{
		Name: "doomed", Type: takaro.GameServerGeneric, ConnectionInfo: `{"a":2}`, IdentityToken: ptrTo("token-1"),
	}))
	if again.ID == gs.ID {
		t.Error("the new game server reused the deleted one's id")
	}
	_, err = e.core.CreateGameServer(tn.ctx, takaro.GameServerCreate{Name: "doomed", Type: takaro.GameServerMock, ConnectionInfo: `{}`})
	wantCode(t, err, takaro.CodeConflict)
}

func TestGameServerUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5)})
	const info = `{"host":"10.0.0.1","password":"old"}`
	gs := check[*takaro.GameServer](t)(e.core.CreateGameServer(tn.ctx, takaro.GameServerCreate{Name: "main", Type: takaro.GameServerMock, ConnectionInfo: info}))
	e.requireEvent(t, tn, takaro.EventGameServerCreated, isGameServer(gs.ID))
	e.createGameServer(t, tn, "taken")
	rawBefore, keyBefore := rawConnectionInfo(t, e.core, tn, gs.ID)

	// Fields other than the connection info leave the ciphertext alone.
	upd := check[*takaro.GameServer](t)(e.core.UpdateGameServer(tn.ctx, gs.ID, takaro.GameServerUpdate{
		Name: ptrTo("renamed"), Type: ptrTo(takaro.GameServerRust), Reachable: ptrTo(false), Enabled: ptrTo(false),
	}))
	if upd.Name != "renamed" || upd.Type != takaro.GameServerRust || upd.Reachable || upd.Enabled || string(upd.ConnectionInfo) != info {
		t.Errorf("updated %+v", upd)
	}
	if raw, key := rawConnectionInfo(t, e.core, tn, gs.ID); !bytes.Equal(raw, rawBefore) || key != keyBefore {
		t.Error("an update without connection info rewrote the ciphertext")
	}
	e.requireEvent(t, tn, takaro.EventGameServerUpdated, isGameServer(gs.ID))

	// New connection info is encrypted afresh, with the current key.
	rotated := e.db.Open(t, postgres.Options{Keys: keyring(t, pgtest.OtherKey, pgtest.Key)})
	const newInfo = `{"host":"10.0.0.2","password":"new"}`
	upd = check[*takaro.GameServer](t)(rotated.UpdateGameServer(tn.ctx, gs.ID, takaro.GameServerUpdate{ConnectionInfo: ptrTo(newInfo)}))
	if string(upd.ConnectionInfo) != newInfo {
		t.Errorf("the update returned %s", upd.ConnectionInfo)
	}
	raw, key := rawConnectionInfo(t, e.core, tn, gs.ID)
	if bytes.Equal(raw, rawBefore) || key != keyring(t, pgtest.OtherKey).Current().ID() || raw[0] != 0xC3 {
		t.Errorf("after a new connection info: key %s, same bytes %v", key, bytes.Equal(raw, rawBefore))
	}
	onlyNew := e.db.Open(t, postgres.Options{Keys: keyring(t, pgtest.OtherKey)})
	if got := check[*takaro.GameServer](t)(onlyNew.FindGameServerByID(tn.ctx, gs.ID, true)); string(got.ConnectionInfo) != newInfo {
		t.Errorf("the new key reads %s", got.ConnectionInfo)
	}

	_, err := e.core.UpdateGameServer(tn.ctx, gs.ID, takaro.GameServerUpdate{Name: ptrTo("taken")})
	if ce := wantCode(t, err, takaro.CodeConflict); ce.Message != uniqueViolation {
		t.Errorf("conflict %q, want %q", ce.Message, uniqueViolation)
	}
	for _, upd := range []takaro.GameServerUpdate{
		{ConnectionInfo: ptrTo("not json")}, {ConnectionInfo: ptrTo("[1]")}, {ConnectionInfo: ptrTo("null")},
		{Name: ptrTo("x")}, {Type: ptrTo(takaro.GameServerType("QUAKE"))},
	} {
		_, err := e.core.UpdateGameServer(tn.ctx, gs.ID, upd)
		wantCode(t, err, takaro.CodeValidation)
	}
	_, err = e.core.UpdateGameServer(tn.ctx, uuid.New(), takaro.GameServerUpdate{Name: ptrTo("ghost")})
	wantCode(t, err, takaro.CodeNotFound)
	if got := check[*takaro.GameServer](t)(onlyNew.FindGameServerByID(tn.ctx, gs.ID, true)); got.Name != "renamed" || string(got.ConnectionInfo) != newInfo {
		t.Errorf("refused updates changed the game server: %+v", got)
	}
}

func TestGameServerCreateValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5)})
	for in, code := range map[*takaro.GameServerCreate]takaro.Code{
		{Name: "generic", Type: takaro.GameServerGeneric, ConnectionInfo: "{}"}:                            takaro.CodeBadRequest,
		{Name: "quake", Type: "QUAKE", ConnectionInfo: "{}"}:                                               takaro.CodeValidation,
		{Name: "no json", Type: takaro.GameServerMock, ConnectionInfo: "host=x"}:                           takaro.CodeValidation,
		{Name: "array", Type: takaro.GameServerMock, ConnectionInfo: "[]"}:                                 takaro.CodeValidation,
		{Name: "x", Type: takaro.GameServerMock, ConnectionInfo: "{}"}:                                     takaro.CodeValidation,
		{Name: "empty token", Type: takaro.GameServerMock, ConnectionInfo: "{}", IdentityToken: ptrTo("")}: takaro.CodeValidation,
	} {
		_, err := e.core.CreateGameServer(tn.ctx, *in)
		wantCode(t, err, code)
	}
	if n := check[*takaro.Page[takaro.GameServer]](t)(e.core.FindGameServers(tn.ctx, takaro.Query{})).Total; n != 0 {
		t.Errorf("refused creations left %d game servers", n)
	}
	if n := len(e.events(t, tn, takaro.EventGameServerCreated)); n != 0 {
		t.Errorf("refused creations left %d events", n)
	}
}
