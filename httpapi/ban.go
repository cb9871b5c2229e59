package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// banRoutes declares the routes of bans, and a game server's ban list.
func (s *Server) banRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/player/ban/search", "Search bans", "Player", c.Bans.FindBans).searchOf("bans").need(takaro.PermReadPlayers),
		handler(http.MethodGet, "/player/ban/{id}", "Get a ban", "Player", func(r *request) (*takaro.Ban, error) {
			return c.Bans.FindBanByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadPlayers),
		bodyHandler(http.MethodPost, "/player/ban", "Ban a player on one game server, or globally", "Player",
			func(r *request, in *takaro.BanCreate) (*takaro.Ban, error) {
				return c.Bans.CreateBan(r.Context(), *in)
			}).need(takaro.PermManagePlayers),
		bodyHandler(http.MethodPut, "/player/ban/{id}", "Change a ban", "Player", func(r *request, in *takaro.BanUpdate) (*takaro.Ban, error) {
			return c.Bans.UpdateBan(r.Context(), r.idParam("id"), *in)
		}).need(takaro.PermManagePlayers),
		handler(http.MethodDelete, "/player/ban/{id}", "Lift a ban", "Player", func(r *request) (*empty, error) {
			return none(c.Bans.DeleteBan(r.Context(), r.idParam("id")))
		}).need(takaro.PermManagePlayers),
		handler(http.MethodGet, "/gameserver/{id}/bans", "The bans in force on a game server, as its ban list", "Gameserver",
			func(r *request) ([]takaro.GameBan, error) {
				return c.Bans.GameServerBans(r.Context(), r.idParam("id"))
			}).need(takaro.PermManageGameservers),
	}
}
