package postgres_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
	"github.com/gotakaro/takaro/postgres"
)

// TestSettingEnabledInTransaction checks the function other writes call to
// depend on a setting: the effective value for the domain and for a game
// server, read inside the caller's own transaction (so it also sees a value
// that transaction has just written), and never another domain's value.
func TestSettingEnabledInTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.newDomain(t, takaro.DomainLimits{}), e.newDomain(t, takaro.DomainLimits{})
	gs := e.createGameServer(t, a, "economy").ID
	check[*takaro.Setting](t)(e.core.SetSetting(b.ctx, takaro.SettingEconomyEnabled, takaro.SettingSet{Value: "true"}))

	enabled := func(gameServerID *uuid.UUID, write *takaro.SettingSet) bool {
		t.Helper()
		var on bool
		must(t, e.core.InDomainForTest(a.ctx, func(tx *postgres.Tx) error {
			if write != nil {
				if _, err := tx.Exec(a.ctx, "INSERT INTO settings (domain, gameserver_id, key, value) VALUES ($1, $2, $3, $4)",
					tx.Domain, write.GameServerID, string(takaro.SettingEconomyEnabled), write.Value); err != nil {
					return err
				}
			}
			var err error
			on, err = tx.SettingEnabled(a.ctx, takaro.SettingEconomyEnabled, gameServerID)
			return err
		}))
		return on
	}
	if enabled(nil, nil) || enabled(&gs, nil) {
		t.Fatal("economyEnabled is on in a domain that never set it (another domain did)")
	}
	if !enabled(&gs, &takaro.SettingSet{Value: "true", GameServerID: &gs}) {
		t.Error("the transaction's own override is not seen")
	}
	check[*takaro.Setting](t)(e.core.SetSetting(a.ctx, takaro.SettingEconomyEnabled, takaro.SettingSet{Value: "true"}))
	check[*takaro.Setting](t)(e.core.SetSetting(a.ctx, takaro.SettingEconomyEnabled, takaro.SettingSet{Value: "false", GameServerID: &gs}))
	if !enabled(nil, nil) || enabled(&gs, nil) {
		t.Error("the domain's value or the game server's override is not the effective one")
	}
}
