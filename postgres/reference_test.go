package postgres_test

import (
	"strings"
	"testing"

	"github.com/gotakaro/takaro"
)

// A soft-deleted game server is gone for every purpose: nothing new may
// refer to it, and extend no longer embeds it.
func TestDeletedGameServerCannotBeReferred(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.newDomain(t, takaro.DomainLimits{MaxGameservers: ptrTo(5)})
	f := e.fill(t, a)
	gs := f.GameServer.ID
	must(t, e.core.DeleteGameServer(a.ctx, gs))

	wantRefused := func(what string, err error) {
		t.Helper()
		if takaro.ErrorCode(err) != takaro.CodeValidation || !strings.Contains(err.Error(), "gameServerId") {
			t.Errorf("%s naming a deleted game server: %v, want a validation error naming gameServerId", what, err)
		}
	}
	_, err := e.core.CreateVariable(a.ctx, takaro.VariableCreate{Key: "k", Value: "v", GameServerID: &gs})
	wantRefused("a new variable", err)
	_, err = e.core.UpdateVariable(a.ctx, f.Variable.ID, takaro.VariableUpdate{Value: "v", GameServerID: &gs})
	wantRefused("a variable update", err)
	_, err = e.core.UpsertPlayerOnGameServer(a.ctx, takaro.PlayerOnGameServerUpsert{PlayerID: f.Player.ID, GameServerID: gs, GameID: "new"})
	wantRefused("a presence", err)
	err = e.core.AssignPlayerRole(a.ctx, f.Player.ID, e.role(t, a, takaro.RoleModerator).ID, &gs, nil)
	wantRefused("a role assignment", err)

	// The variable that named it before the deletion no longer embeds it.
	page := check[*takaro.Page[takaro.Variable]](t)(e.core.FindVariables(a.ctx, takaro.Query{
		Filters: map[string]takaro.Values{"id": {f.Variable.ID.String()}}, Extend: []string{"gameServer", "player"}}))
	if len(page.Items) != 1 || page.Items[0].GameServer != nil || page.Items[0].Player == nil {
		t.Fatalf("variable of a deleted game server, extended: %+v", page.Items)
	}
}
