package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

type (
	playerRoleRequest struct {
		GameServerID *uuid.UUID `json:"gameServerId,omitempty"`
		ExpiresAt    *time.Time `json:"expiresAt,omitempty"`
	}
	playerRoleRemoveRequest struct {
		GameServerID *uuid.UUID `json:"gameServerId,omitempty"`
	}
)

// playerRoutes declares the routes of players, their roles, and where they were seen.
func (s *Server) playerRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/player/search", "Search players", "Player", c.Players.FindPlayers).searchOf("players").need(takaro.PermReadPlayers),
		handler(http.MethodGet, "/player/{id}", "Get a player", "Player", func(r *request) (*takaro.Player, error) {
			return c.Players.FindPlayerByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadPlayers),
		bodyHandler(http.MethodPost, "/player", "Create a player, or update the one with the same platform ids", "Player",
			func(r *request, in *takaro.PlayerUpsert) (*takaro.Player, error) {
				return c.Players.UpsertPlayer(r.Context(), *in)
			}).need(takaro.PermManagePlayers),
		handler(http.MethodDelete, "/player/{id}", "Delete a player", "Player", func(r *request) (*empty, error) {
			return none(c.Players.DeletePlayer(r.Context(), r.idParam("id")))
		}).need(takaro.PermManagePlayers),
		bodyHandler(http.MethodDelete, "/player", "Delete many players at once", "Player",
			func(r *request, in *takaro.PlayerBulkDelete) (*takaro.PlayerBulkDeleteResult, error) {
				return c.Players.DeletePlayers(r.Context(), *in)
			}).need(takaro.PermManagePlayers),
		bodyHandler(http.MethodPost, "/player/{id}/role/{roleId}", "Give a player a role, on one game server or all", "Player",
			func(r *request, in *playerRoleRequest) (*empty, error) {
				return none(c.Players.AssignPlayerRole(r.Context(), r.idParam("id"), r.idParam("roleId"), in.GameServerID, in.ExpiresAt))
			}).need(takaro.PermManagePlayers, takaro.PermManageRoles),
		bodyHandler(http.MethodDelete, "/player/{id}/role/{roleId}", "Take a role from a player", "Player",
			func(r *request, in *playerRoleRemoveRequest) (*empty, error) {
				return none(c.Players.RemovePlayerRole(r.Context(), r.idParam("id"), r.idParam("roleId"), in.GameServerID))
			}).need(takaro.PermManagePlayers, takaro.PermManageRoles),
		searchHandler("/gameserver/player/search", "Search where players were seen", "PlayerOnGameServer",
			c.Players.FindPlayerOnGameServers).searchOf("player_on_gameserver").need(takaro.PermReadPlayers),
		handler(http.MethodGet, "/gameserver/{gameServerId}/player/{playerId}", "Get a player's presence on a game server", "PlayerOnGameServer",
			func(r *request) (*takaro.PlayerOnGameServer, error) {
				return c.Players.FindPlayerOnGameServer(r.Context(), r.idParam("gameServerId"), r.idParam("playerId"))
			}).need(takaro.PermReadPlayers),
		bodyHandler(http.MethodPost, "/gameserver/player", "Record a player's presence on a game server and what the game reports of them",
			"PlayerOnGameServer", func(r *request, in *takaro.PlayerOnGameServerUpsert) (*takaro.PlayerOnGameServer, error) {
				return c.Players.UpsertPlayerOnGameServer(r.Context(), *in)
			}).need(takaro.PermManagePlayers),
		handler(http.MethodDelete, "/gameserver/{gameServerId}/player/{playerId}", "Remove a player from a game server", "PlayerOnGameServer",
			func(r *request) (*empty, error) {
				return none(c.Players.DeletePlayerOnGameServer(r.Context(), r.idParam("gameServerId"), r.idParam("playerId")))
			}).need(takaro.PermManagePlayers),
		bodyHandler(http.MethodDelete, "/gameserver/{gameServerId}/player", "Remove several players from a game server", "PlayerOnGameServer",
			func(r *request, in *takaro.PlayerBulkDelete) (*takaro.BulkDeleteResult, error) {
				return c.Players.DeletePlayersOnGameServer(r.Context(), r.idParam("gameServerId"), *in)
			}).need(takaro.PermManagePlayers),
	}
}
