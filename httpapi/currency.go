package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// currencyRoutes declares the routes that change players' balances.
func (s *Server) currencyRoutes() []endpoint {
	c := s.cfg
	type change func(r *request, in *takaro.CurrencyAmount) (*takaro.PlayerOnGameServer, error)
	balance := func(action, summary string, fn change) endpoint {
		return bodyHandler(http.MethodPost, "/gameserver/{gameServerId}/player/{playerId}/"+action, summary, "PlayerOnGameServer", fn).
			need(takaro.PermManagePlayers)
	}
	return []endpoint{
		balance("currency", "Set a player's balance on a game server", func(r *request, in *takaro.CurrencyAmount) (*takaro.PlayerOnGameServer, error) {
			return c.Currency.SetCurrency(r.Context(), r.idParam("gameServerId"), r.idParam("playerId"), *in)
		}),
		balance("add-currency", "Add to a player's balance", func(r *request, in *takaro.CurrencyAmount) (*takaro.PlayerOnGameServer, error) {
			return c.Currency.AddCurrency(r.Context(), r.idParam("gameServerId"), r.idParam("playerId"), *in)
		}),
		balance("deduct-currency", "Take from a player's balance; never below zero", func(r *request, in *takaro.CurrencyAmount) (*takaro.PlayerOnGameServer, error) {
			return c.Currency.DeductCurrency(r.Context(), r.idParam("gameServerId"), r.idParam("playerId"), *in)
		}),
		bodyHandler(http.MethodPost, "/gameserver/{gameServerId}/player/{sender}/{receiver}/transfer",
			"Move currency between two players on a game server, atomically; sender and receiver are the ids of their presences",
			"PlayerOnGameServer", func(r *request, in *takaro.CurrencyAmount) (*empty, error) {
				return none(c.Currency.TransferCurrency(r.Context(), r.idParam("gameServerId"), r.idParam("sender"), r.idParam("receiver"), *in))
			}).need(takaro.PermManagePlayers),
		handler(http.MethodPost, "/gameserver/{id}/reset-currency", "Set every balance on a game server to zero", "Gameserver",
			func(r *request) (*takaro.CurrencyReset, error) {
				return c.Currency.ResetCurrency(r.Context(), r.idParam("id"))
			}).need(takaro.PermManageGameservers),
	}
}
