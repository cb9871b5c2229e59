package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// gameServerRoutes declares the game-server routes; connection info is decrypted only for MANAGE_GAMESERVERS.
func (s *Server) gameServerRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/gameserver/search", "Search game servers (never with their connection info)", "Gameserver", c.GameServers.FindGameServers).searchOf("gameservers"),
		handler(http.MethodGet, "/gameserver/{id}", "Get a game server; connectionInfo only for MANAGE_GAMESERVERS", "Gameserver",
			func(r *request) (*takaro.GameServer, error) {
				return c.GameServers.FindGameServerByID(r.Context(), r.idParam("id"), hasPermission(r.identity, takaro.PermManageGameservers))
			}),
		bodyHandler(http.MethodPost, "/gameserver", "Create a game server", "Gameserver", func(r *request, in *takaro.GameServerCreate) (*takaro.GameServer, error) {
			return c.GameServers.CreateGameServer(r.Context(), *in)
		}).need(takaro.PermManageGameservers),
		bodyHandler(http.MethodPut, "/gameserver/{id}", "Update a game server", "Gameserver", func(r *request, in *takaro.GameServerUpdate) (*takaro.GameServer, error) {
			return c.GameServers.UpdateGameServer(r.Context(), r.idParam("id"), *in)
		}).need(takaro.PermManageGameservers),
		handler(http.MethodDelete, "/gameserver/registrationToken", "Replace the domain's server-registration token; the old one stops working", "Gameserver",
			func(r *request) (*empty, error) {
				return none(c.Domains.RegenerateRegistrationToken(r.Context()))
			}).need(takaro.PermManageGameservers),
		handler(http.MethodDelete, "/gameserver/{id}", "Delete a game server", "Gameserver", func(r *request) (*empty, error) {
			return none(c.GameServers.DeleteGameServer(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageGameservers),
	}
}
