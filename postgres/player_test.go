package postgres_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

func isPlayer(id uuid.UUID) func(takaro.Event) bool {
	return func(ev takaro.Event) bool { return ev.PlayerID != nil && *ev.PlayerID == id }
}

func TestPlayerUpsertByPlatformID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	p := check[*takaro.Player](t)(e.core.UpsertPlayer(tn.ctx, takaro.PlayerUpsert{Name: ptrTo("Alice"), SteamID: ptrTo("76561198000000001")}))
	e.requireEvent(t, tn, takaro.EventPlayerCreated, isPlayer(p.ID))

	// The same steam id finds the same player and adds what is new.
	again := check[*takaro.Player](t)(e.core.UpsertPlayer(tn.ctx, takaro.PlayerUpsert{
		Name: ptrTo("Alice2"), SteamID: ptrTo("76561198000000001"), XboxLiveID: ptrTo("xbox-alice"),
	}))
	if again.ID != p.ID || *again.Name != "Alice2" || again.XboxLiveID == nil || *again.XboxLiveID != "xbox-alice" {
		t.Errorf("upsert by steam id gave %+v", again)
	}
	// Any one known id finds it; absent fields are kept.
	byXbox := check[*takaro.Player](t)(e.core.UpsertPlayer(tn.ctx, takaro.PlayerUpsert{XboxLiveID: ptrTo("xbox-alice"), EpicOnlineServicesID: ptrTo("epic-alice")}))
	if byXbox.ID != p.ID || *byXbox.Name != "Alice2" || *byXbox.SteamID != "76561198000000001" || *byXbox.EpicOnlineServicesID != "epic-alice" {
		t.Errorf("upsert by xbox id gave %+v", byXbox)
	}
	if n := len(e.events(t, tn, takaro.EventPlayerCreated)); n != 1 {
		t.Errorf("%d player-created events for one player", n)
	}

	// Ids of two different players cannot be merged.
	bob := check[*takaro.Player](t)(e.core.UpsertPlayer(tn.ctx, takaro.PlayerUpsert{Name: ptrTo("Bob"), PlatformID: ptrTo("platform-bob")}))
	_, err := e.core.UpsertPlayer(tn.ctx, takaro.PlayerUpsert{SteamID: ptrTo("76561198000000001"), PlatformID: ptrTo("platform-bob")})
	wantCode(t, err, takaro.CodeConflict)
	for id, want := range map[uuid.UUID]*takaro.Player{p.ID: byXbox, bob.ID: bob} {
		got := check[*takaro.Player](t)(e.core.FindPlayerByID(tn.ctx, id))
		if deref(got.SteamID) != deref(want.SteamID) || deref(got.PlatformID) != deref(want.PlatformID) {
			t.Errorf("a refused merge changed player %s: %+v", id, got)
		}
	}

	for _, in := range []takaro.PlayerUpsert{{Name: ptrTo("nobody")}, {SteamID: ptrTo("")}, {EpicOnlineServicesID: ptrTo("e123456789012345678901234567890123")}} {
		_, err := e.core.UpsertPlayer(tn.ctx, in)
		wantCode(t, err, takaro.CodeValidation)
	}
}

func TestPlayerConcurrentUpsertsOfANewPlayer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	// Several game events about a player nobody has seen yet.
	const n = 8
	ids := make([]uuid.UUID, n)
	wide := e.openWide(t)
	errs := atOnce(n, func(i int) error {
		p, err := wide.UpsertPlayer(tn.ctx, takaro.PlayerUpsert{Name: ptrTo("newcomer"), SteamID: ptrTo("76561198000000099")})
		if err == nil {
			ids[i] = p.ID
		}
		return err
	})
	var first uuid.UUID
	for i, err := range errs {
		switch {
		case err != nil:
			t.Errorf("upsert %d: %v", i, err)
		case first == uuid.Nil:
			first = ids[i]
		case ids[i] != first:
			t.Errorf("upserts of one steam id returned players %s and %s", first, ids[i])
		}
	}
	if total := check[*takaro.Page[takaro.Player]](t)(e.core.FindPlayers(tn.ctx, takaro.Query{})).Total; total != 1 {
		t.Errorf("%d players for one steam id", total)
	}
	if n := len(e.events(t, tn, takaro.EventPlayerCreated)); n != 1 {
		t.Errorf("%d player-created events for one player", n)
	}
}

func TestPlayerOnGameServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(2)})
	gs, gs2 := e.createGameServer(t, tn, "one"), e.createGameServer(t, tn, "two")
	alice, bob := e.createPlayer(t, tn, "alice"), e.createPlayer(t, tn, "bob")

	pog := check[*takaro.PlayerOnGameServer](t)(e.core.UpsertPlayerOnGameServer(tn.ctx, takaro.PlayerOnGameServerUpsert{
		PlayerID: alice.ID, GameServerID: gs.ID, GameID: "42", Online: ptrTo(true), Ping: ptrTo(30), IP: ptrTo("192.0.2.1"),
	}))
	if !pog.Online || pog.Ping == nil || *pog.Ping != 30 || pog.GameID != "42" || pog.PlayerID != alice.ID {
		t.Errorf("created %+v", pog)
	}
	// The same game id on the same server updates the presence.
	upd := check[*takaro.PlayerOnGameServer](t)(e.core.UpsertPlayerOnGameServer(tn.ctx, takaro.PlayerOnGameServerUpsert{
		PlayerID: alice.ID, GameServerID: gs.ID, GameID: "42", Online: ptrTo(false),
	}))
	if upd.ID != pog.ID || upd.Online || upd.Ping == nil || *upd.Ping != 30 || *upd.IP != "192.0.2.1" || !upd.LastSeen.After(pog.LastSeen.Time) {
		t.Errorf("updated %+v, from %+v", upd, pog)
	}
	// Another player cannot take that game id there, nor can alice get a
	// second one on that server; elsewhere both are fine.
	_, err := e.core.UpsertPlayerOnGameServer(tn.ctx, takaro.PlayerOnGameServerUpsert{PlayerID: bob.ID, GameServerID: gs.ID, GameID: "42"})
	wantCode(t, err, takaro.CodeConflict)
	_, err = e.core.UpsertPlayerOnGameServer(tn.ctx, takaro.PlayerOnGameServerUpsert{PlayerID: alice.ID, GameServerID: gs.ID, GameID: "43"})
	wantCode(t, err, takaro.CodeConflict)
	check[*takaro.PlayerOnGameServer](t)(e.core.UpsertPlayerOnGameServer(tn.ctx, takaro.PlayerOnGameServerUpsert{PlayerID: bob.ID, GameServerID: gs2.ID, GameID: "42"}))
	check[*takaro.PlayerOnGameServer](t)(e.core.UpsertPlayerOnGameServer(tn.ctx, takaro.PlayerOnGameServerUpsert{PlayerID: bob.ID, GameServerID: gs.ID, GameID: "44"}))
	if got := check[*takaro.PlayerOnGameServer](t)(e.core.FindPlayerOnGameServer(tn.ctx, gs.ID, alice.ID)); got.GameID != "42" {
		t.Errorf("alice's presence has game id %s", got.GameID)
	}

	for _, in := range []takaro.PlayerOnGameServerUpsert{
		{PlayerID: uuid.New(), GameServerID: gs.ID, GameID: "50"},
		{PlayerID: alice.ID, GameServerID: uuid.New(), GameID: "50"},
		{GameServerID: gs.ID, GameID: "50"},
		{PlayerID: alice.ID, GameServerID: gs2.ID},
	} {
		_, err := e.core.UpsertPlayerOnGameServer(tn.ctx, in)
		wantCode(t, err, takaro.CodeValidation)
	}
	_, err = e.core.FindPlayerOnGameServer(tn.ctx, gs2.ID, alice.ID)
	wantCode(t, err, takaro.CodeNotFound)
	page := check[*takaro.Page[takaro.PlayerOnGameServer]](t)(e.core.FindPlayerOnGameServers(tn.ctx, query(t,
		`{"filters": {"gameServerId": ["`+gs.ID.String()+`"], "online": false}, "sortBy": "lastSeen"}`)))
	if page.Total != 2 {
		t.Errorf("%d offline presences on server one, want 2", page.Total)
	}

	// Deleting a player takes its presences, roles and variables along.
	must(t, e.core.AssignPlayerRole(tn.ctx, alice.ID, e.role(t, tn, takaro.RoleModerator).ID, nil, nil))
	v := check[*takaro.Variable](t)(e.core.CreateVariable(tn.ctx, takaro.VariableCreate{Key: "score", Value: "1", PlayerID: &alice.ID}))
	must(t, e.core.DeletePlayer(tn.ctx, alice.ID))
	e.requireEvent(t, tn, takaro.EventPlayerDeleted, isPlayer(alice.ID))
	_, err = e.core.FindPlayerByID(tn.ctx, alice.ID)
	wantCode(t, err, takaro.CodeNotFound)
	_, err = e.core.FindPlayerOnGameServer(tn.ctx, gs.ID, alice.ID)
	wantCode(t, err, takaro.CodeNotFound)
	_, err = e.core.FindVariableByID(tn.ctx, v.ID)
	wantCode(t, err, takaro.CodeNotFound)
	var roles int
	must(t, superuser(t, e.db).QueryRow(tn.ctx, "SELECT count(*) FROM role_on_player WHERE player_id = $1", alice.ID).Scan(&roles))
	if roles != 0 {
		t.Errorf("%d role assignments outlived their player", roles)
	}
	wantCode(t, e.core.DeletePlayer(tn.ctx, alice.ID), takaro.CodeNotFound)
}
