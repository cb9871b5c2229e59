package postgres_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

func TestBans(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5)})
	gs1, gs2 := e.createGameServer(t, tn, uniqueName("gs")), e.createGameServer(t, tn, uniqueName("gs"))
	p := e.createPlayer(t, tn, uniqueName("steam"))
	for i, gs := range []*takaro.GameServer{gs1, gs2} {
		check[*takaro.PlayerOnGameServer](t)(e.core.UpsertPlayerOnGameServer(tn.ctx, takaro.PlayerOnGameServerUpsert{
			PlayerID: p.ID, GameServerID: gs.ID, GameID: uniqueName("game"), IP: ptrTo("192.0.2.1"), Ping: ptrTo(10 + i)}))
	}

	// The scope must be one or the other.
	_, err := e.core.CreateBan(tn.ctx, takaro.BanCreate{PlayerID: p.ID})
	if got := wantCode(t, err, takaro.CodeBadRequest); got.Message != takaro.MsgBanScope {
		t.Errorf("a ban without a scope: %v", got.Message)
	}
	_, err = e.core.CreateBan(tn.ctx, takaro.BanCreate{PlayerID: p.ID, GameServerID: &gs1.ID, IsGlobal: ptrTo(true)})
	wantCode(t, err, takaro.CodeBadRequest)
	_, err = e.core.CreateBan(tn.ctx, takaro.BanCreate{PlayerID: uuid.New(), GameServerID: &gs1.ID})
	wantCode(t, err, takaro.CodeValidation)

	onGS1 := check[*takaro.Ban](t)(e.core.CreateBan(tn.ctx, takaro.BanCreate{PlayerID: p.ID, GameServerID: &gs1.ID}))
	if onGS1.Reason == nil || *onGS1.Reason != "No reason provided" || !onGS1.TakaroManaged || onGS1.IsGlobal || onGS1.Until != nil {
		t.Errorf("a ban with the defaults: %+v", onGS1)
	}
	_, err = e.core.CreateBan(tn.ctx, takaro.BanCreate{PlayerID: p.ID, GameServerID: &gs1.ID})
	wantCode(t, err, takaro.CodeConflict)
	past := time.Now().Add(-time.Hour)
	expired := check[*takaro.Ban](t)(e.core.CreateBan(tn.ctx, takaro.BanCreate{PlayerID: p.ID, GameServerID: &gs2.ID, Until: &past}))
	global := check[*takaro.Ban](t)(e.core.CreateBan(tn.ctx, takaro.BanCreate{PlayerID: p.ID, IsGlobal: ptrTo(true), Reason: ptrTo("cheating")}))
	_, err = e.core.CreateBan(tn.ctx, takaro.BanCreate{PlayerID: p.ID, IsGlobal: ptrTo(true)})
	wantCode(t, err, takaro.CodeConflict)

	// A game server's list: its own ban and the global one, not the
	// expired ban on the other server.
	list := check[[]takaro.GameBan](t)(e.core.GameServerBans(tn.ctx, gs1.ID))
	if len(list) != 2 || list[0].Player.GameID == "" || list[0].Player.SteamID == nil || *list[0].Player.Ping != 10 {
		t.Errorf("gs1's ban list: %+v", list)
	}
	if list := check[[]takaro.GameBan](t)(e.core.GameServerBans(tn.ctx, gs2.ID)); len(list) != 1 || list[0].Reason != "cheating" {
		t.Errorf("gs2's ban list (the global ban only): %+v", list)
	}
	_, err = e.core.GameServerBans(tn.ctx, uuid.New())
	wantCode(t, err, takaro.CodeNotFound)

	// An update changes that ban only (the reference changes all of them).
	later := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	upd := check[*takaro.Ban](t)(e.core.UpdateBan(tn.ctx, onGS1.ID, takaro.BanUpdate{Reason: ptrTo("spam"), Until: &later}))
	if *upd.Reason != "spam" || !upd.Until.Equal(later) || *upd.GameServerID != gs1.ID {
		t.Errorf("updated: %+v", upd)
	}
	if g := check[*takaro.Ban](t)(e.core.FindBanByID(tn.ctx, global.ID)); *g.Reason != "cheating" {
		t.Errorf("another ban changed: %+v", g)
	}
	_, err = e.core.UpdateBan(tn.ctx, onGS1.ID, takaro.BanUpdate{IsGlobal: ptrTo(false), GameServerID: nil})
	if err != nil {
		t.Errorf("isGlobal false on a game server's ban: %v", err)
	}
	_, err = e.core.UpdateBan(tn.ctx, global.ID, takaro.BanUpdate{IsGlobal: ptrTo(false)})
	wantCode(t, err, takaro.CodeBadRequest)
	_, err = e.core.UpdateBan(tn.ctx, uuid.New(), takaro.BanUpdate{Reason: ptrTo("x")})
	wantCode(t, err, takaro.CodeNotFound)

	// Lifting the global ban lifts the player's other Takaro-managed bans,
	// each with its event.
	must(t, e.core.DeleteBan(tn.ctx, global.ID))
	page := check[*takaro.Page[takaro.Ban]](t)(e.core.FindBans(tn.ctx, takaro.Query{Filters: map[string]takaro.Values{"playerId": {p.ID.String()}}}))
	if page.Total != 0 {
		t.Errorf("bans left after lifting the global one: %+v", page.Items)
	}
	events := check[*takaro.Page[takaro.Event]](t)(e.core.FindEvents(tn.ctx, takaro.Query{Filters: map[string]takaro.Values{
		"eventName": {"player-banned", "player-unbanned"}, "playerId": {p.ID.String()}}}))
	counts := map[takaro.EventName]int{}
	for _, ev := range events.Items {
		counts[ev.EventName]++
	}
	if counts[takaro.EventPlayerBanned] != 3 || counts[takaro.EventPlayerUnbanned] != 3 {
		t.Errorf("events: %v", counts)
	}
	wantCode(t, e.core.DeleteBan(tn.ctx, expired.ID), takaro.CodeNotFound)
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5)})
	gs1, gs2 := e.createGameServer(t, tn, uniqueName("gs")), e.createGameServer(t, tn, uniqueName("gs"))

	debris := takaro.CatalogueUpsert{GameserverID: gs1.ID, Code: "awningWoodShapes:woodDebris07", Name: "Debris", Description: ptrTo("old")}
	first := check[*takaro.Item](t)(e.core.UpsertItem(tn.ctx, takaro.ItemUpsert{CatalogueUpsert: debris}))
	debris.Name, debris.Description = "Wood debris", nil
	again := check[*takaro.Item](t)(e.core.UpsertItem(tn.ctx, takaro.ItemUpsert{CatalogueUpsert: debris, Quality: ptrTo("3")}))
	if again.ID != first.ID || again.Name != "Wood debris" || again.Description != nil || *again.Quality != "3" {
		t.Errorf("the sync's second sighting: %+v", again)
	}
	check[*takaro.Item](t)(e.core.UpsertItem(tn.ctx, takaro.ItemUpsert{CatalogueUpsert: takaro.CatalogueUpsert{GameserverID: gs1.ID, Code: "resourceWood", Name: "Wood"}}))
	other := check[*takaro.Item](t)(e.core.UpsertItem(tn.ctx, takaro.ItemUpsert{CatalogueUpsert: takaro.CatalogueUpsert{GameserverID: gs2.ID, Code: "resourceWood", Name: "Wood"}}))
	_, err := e.core.UpsertItem(tn.ctx, takaro.ItemUpsert{CatalogueUpsert: takaro.CatalogueUpsert{GameserverID: uuid.New(), Code: "x", Name: "x"}})
	wantCode(t, err, takaro.CodeValidation)

	// Without sortBy, short codes first.
	page := check[*takaro.Page[takaro.Item]](t)(e.core.FindItems(tn.ctx, takaro.Query{Search: map[string]takaro.Values{"code": {"wood"}},
		Filters: map[string]takaro.Values{"gameserverId": {gs1.ID.String()}}}))
	if len(page.Items) != 2 || page.Items[0].Code != "resourceWood" {
		t.Errorf("search: %+v", page.Items)
	}
	page = check[*takaro.Page[takaro.Item]](t)(e.core.FindItems(tn.ctx, takaro.Query{SortBy: "code", Filters: map[string]takaro.Values{
		"gameserverId": {gs1.ID.String()}}}))
	if len(page.Items) != 2 || page.Items[0].Code != "awningWoodShapes:woodDebris07" {
		t.Errorf("sorted by code: %+v", page.Items)
	}
	if got := check[*takaro.Item](t)(e.core.FindItemByID(tn.ctx, other.ID)); got.GameserverID != gs2.ID {
		t.Errorf("by id: %+v", got)
	}

	ent := check[*takaro.Entity](t)(e.core.UpsertEntity(tn.ctx, takaro.EntityUpsert{CatalogueUpsert: takaro.CatalogueUpsert{GameserverID: gs1.ID, Code: "zombie", Name: "Zombie"},
		Type: ptrTo(takaro.EntityType("hostile")), Metadata: []byte(`{"health":100}`)}))
	if string(ent.Metadata) != `{"health": 100}` || *ent.Type != "hostile" {
		t.Errorf("entity: %+v %s", ent, ent.Metadata)
	}
	_, err = e.core.UpsertEntity(tn.ctx, takaro.EntityUpsert{CatalogueUpsert: takaro.CatalogueUpsert{GameserverID: gs1.ID, Code: "zombie", Name: "Zombie"}, Metadata: []byte(`[1]`)})
	wantCode(t, err, takaro.CodeValidation)
	_, err = e.core.UpsertEntity(tn.ctx, takaro.EntityUpsert{CatalogueUpsert: takaro.CatalogueUpsert{GameserverID: gs1.ID, Code: "zombie", Name: "Zombie"}, Type: ptrTo(takaro.EntityType("evil"))})
	wantCode(t, err, takaro.CodeValidation)
}

func TestPlayerOnGameServerState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tn := e.newDomain(t, takaro.DomainLimits{})
	gs := e.createGameServer(t, tn, uniqueName("gs"))
	p1, p2 := e.createPlayer(t, tn, uniqueName("steam")), e.createPlayer(t, tn, uniqueName("steam"))
	up := func(in takaro.PlayerOnGameServerUpsert) *takaro.PlayerOnGameServer {
		t.Helper()
		in.GameServerID = gs.ID
		return check[*takaro.PlayerOnGameServer](t)(e.core.UpsertPlayerOnGameServer(tn.ctx, in))
	}
	pog := up(takaro.PlayerOnGameServerUpsert{PlayerID: p1.ID, GameID: "b", Online: ptrTo(true), PositionX: ptrTo(-5), PositionY: ptrTo(64),
		PositionZ: ptrTo(7), Dimension: ptrTo("nether"), PlaytimeSeconds: ptrTo(60)})
	if *pog.PositionX != -5 || *pog.PositionZ != 7 || !pog.Online {
		t.Errorf("created: %+v", pog)
	}
	pog = up(takaro.PlayerOnGameServerUpsert{PlayerID: p1.ID, GameID: "b", Online: ptrTo(false), PositionX: ptrTo(1)})
	if *pog.PositionX != 1 || *pog.PositionY != 64 || *pog.Dimension != "nether" || pog.PlaytimeSeconds != 60 || pog.Online {
		t.Errorf("after a partial update: %+v", pog)
	}
	_, err := e.core.UpsertPlayerOnGameServer(tn.ctx, takaro.PlayerOnGameServerUpsert{PlayerID: p1.ID, GameServerID: gs.ID, GameID: "b", Ping: ptrTo(-1)})
	wantCode(t, err, takaro.CodeValidation)
	up(takaro.PlayerOnGameServerUpsert{PlayerID: p2.ID, GameID: "a"})

	page := check[*takaro.Page[takaro.PlayerOnGameServer]](t)(e.core.FindPlayerOnGameServers(tn.ctx, takaro.Query{SortBy: "gameId"}))
	if len(page.Items) != 2 || page.Items[0].GameID != "a" {
		t.Errorf("sorted by gameId: %+v", page.Items)
	}

	res := check[*takaro.BulkDeleteResult](t)(e.core.DeletePlayersOnGameServer(tn.ctx, gs.ID,
		takaro.PlayerBulkDelete{PlayerIDs: []uuid.UUID{p2.ID, p2.ID, uuid.Nil}}))
	if res.Deleted != 1 || res.Failed != 1 || res.Errors[0].PlayerID != uuid.Nil {
		t.Errorf("bulk delete: %+v", res)
	}
	must(t, e.core.DeletePlayerOnGameServer(tn.ctx, gs.ID, p1.ID))
	wantCode(t, e.core.DeletePlayerOnGameServer(tn.ctx, gs.ID, p1.ID), takaro.CodeNotFound)
	check[*takaro.Player](t)(e.core.FindPlayerByID(tn.ctx, p1.ID)) // the player stays
	events := check[*takaro.Page[takaro.Event]](t)(e.core.FindEvents(tn.ctx, takaro.Query{Filters: map[string]takaro.Values{
		"eventName": {"player-deleted"}, "gameserverId": {gs.ID.String()}}}))
	if events.Total != 2 || string(events.Items[0].Meta) == "{}" {
		t.Errorf("player-deleted events: %+v", events.Items)
	}
}
