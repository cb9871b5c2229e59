package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// Request bodies that exist only on the wire.
type (
	tokenRequest struct {
		DomainID string `json:"domainId"`
	}
	tokenResponse struct {
		Token string `json:"token"`
	}
	loginRequest struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	userRoleRequest struct {
		ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	}
	playerRoleRequest struct {
		GameServerID *uuid.UUID `json:"gameServerId,omitempty"`
		ExpiresAt    *time.Time `json:"expiresAt,omitempty"`
	}
	playerRoleRemoveRequest struct {
		GameServerID *uuid.UUID `json:"gameServerId,omitempty"`
	}
	meResponse struct {
		User    takaro.User     `json:"user"`
		Domains []takaro.Domain `json:"domains"`
		Domain  string          `json:"domain"`
	}
	// empty is the data of responses that have none: {}.
	empty struct{}
)

// routes declares every API route. Paths, bodies and permission codes are
// the reference platform's; see README for where they differ.
func (s *Server) routes() []endpoint {
	c := s.cfg
	none := func(err error) (*empty, error) { return nil, err }
	return []endpoint{
		// Domains: the admin API.
		searchHandler("/domain/search", "Search domains", "Domain", c.Domains.FindDomains).as(admin),
		handler(http.MethodGet, "/domain/{id}", "Get a domain", "Domain", func(r *request) (*takaro.Domain, error) {
			return c.Domains.FindDomainByID(r.Context(), r.PathValue("id"))
		}).as(admin).text("id"),
		bodyHandler(http.MethodPost, "/domain", "Create a domain with its roles and root user; the response is the only time the root password is shown", "Domain",
			func(r *request, in *takaro.DomainCreate) (*takaro.DomainCreated, error) {
				return c.Domains.CreateDomain(r.Context(), *in)
			}).as(admin),
		bodyHandler(http.MethodPut, "/domain/{id}", "Update a domain", "Domain", func(r *request, in *takaro.DomainUpdate) (*takaro.Domain, error) {
			return c.Domains.UpdateDomain(r.Context(), r.PathValue("id"), *in)
		}).as(admin).text("id"),
		handler(http.MethodDelete, "/domain/{id}", "Disable a domain, or delete it with everything it owns (hardDelete=true)", "Domain",
			func(r *request) (*empty, error) {
				return none(c.Domains.DeleteDomain(r.Context(), r.PathValue("id"), r.URL.Query().Get("hardDelete") == "true"))
			}).as(admin).text("id").withQuery("hardDelete", "boolean", "delete the domain and all its rows instead of disabling it"),
		bodyHandler(http.MethodPost, "/token", "Issue a short-lived token that acts as a domain's root user (header X-Takaro-Token)", "Domain",
			func(r *request, in *tokenRequest) (*tokenResponse, error) {
				userID, err := c.Auth.RootUserID(r.Context(), in.DomainID)
				if err != nil {
					return nil, err
				}
				token, err := s.signDomainToken(in.DomainID, userID, c.Now())
				return &tokenResponse{Token: token}, err
			}).as(admin),

		// Sessions.
		bodyHandler(http.MethodPost, "/login", "Log in with an e-mail address and password; X-Takaro-Domain picks the domain", "Auth",
			func(r *request, in *loginRequest) (*takaro.Session, error) {
				return c.Auth.Login(r.Context(), in.Username, in.Password, r.Header.Get(domainHintHeader))
			}).as(public),
		handler(http.MethodPost, "/logout", "Revoke the current session", "Auth", func(r *request) (*empty, error) {
			cred := r.identity.Credential
			if cred == nil || cred.Kind != takaro.CredentialSession {
				return nil, takaro.Errorf(takaro.CodeBadRequest, "Only a session can log out; revoke API keys with DELETE /apikey/{id}")
			}
			return none(c.Auth.Logout(r.Context(), cred.ID))
		}).inAnyDomainState(),
		handler(http.MethodGet, "/me", "The current user, their domains and the current domain", "Auth", func(r *request) (*meResponse, error) {
			u, err := c.Users.FindUserByID(r.Context(), r.identity.UserID)
			if err != nil {
				return nil, err
			}
			out := &meResponse{User: *u, Domain: r.identity.Domain, Domains: []takaro.Domain{}}
			for _, id := range r.identity.Domains {
				d, err := c.Domains.FindDomainByID(r.Context(), id)
				if err != nil {
					return nil, err
				}
				out.Domains = append(out.Domains, *d)
			}
			return out, nil
		}).inAnyDomainState(),

		// API keys.
		bodyHandler(http.MethodPost, "/apikey", "Create an API key with some of your permissions; the secret is shown only once", "API key",
			func(r *request, in *takaro.APIKeyCreate) (*takaro.APIKeyCreated, error) {
				return c.Auth.CreateAPIKey(r.Context(), r.identity, *in)
			}).need(takaro.PermManageUsers),
		handler(http.MethodGet, "/apikey", "List the domain's API keys (never their secrets)", "API key", func(r *request) ([]takaro.APIKey, error) {
			return c.Auth.ListAPIKeys(r.Context())
		}).need(takaro.PermManageUsers),
		handler(http.MethodDelete, "/apikey/{id}", "Revoke an API key", "API key", func(r *request) (*empty, error) {
			return none(c.Auth.RevokeAPIKey(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageUsers),

		// Users.
		searchHandler("/user/search", "Search users", "User", c.Users.FindUsers).need(takaro.PermReadUsers).inAnyDomainState(),
		handler(http.MethodGet, "/user/{id}", "Get a user", "User", func(r *request) (*takaro.User, error) {
			return c.Users.FindUserByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadUsers).inAnyDomainState(),
		bodyHandler(http.MethodPost, "/user", "Create a user", "User", func(r *request, in *takaro.UserCreate) (*takaro.User, error) {
			return c.Users.CreateUser(r.Context(), *in)
		}).need(takaro.PermManageUsers).inAnyDomainState(),
		bodyHandler(http.MethodPut, "/user/{id}", "Update a user", "User", func(r *request, in *takaro.UserUpdate) (*takaro.User, error) {
			return c.Users.UpdateUser(r.Context(), r.idParam("id"), *in)
		}).need(takaro.PermManageUsers).inAnyDomainState(),
		handler(http.MethodDelete, "/user/{id}", "Delete a user", "User", func(r *request) (*empty, error) {
			return none(c.Users.DeleteUser(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageUsers).inAnyDomainState(),
		bodyHandler(http.MethodPost, "/user/{id}/role/{roleId}", "Give a user a role", "User", func(r *request, in *userRoleRequest) (*empty, error) {
			return none(c.Users.AssignUserRole(r.Context(), r.idParam("id"), r.idParam("roleId"), in.ExpiresAt))
		}).need(takaro.PermManageUsers, takaro.PermManageRoles).inAnyDomainState(),
		handler(http.MethodDelete, "/user/{id}/role/{roleId}", "Take a role from a user", "User", func(r *request) (*empty, error) {
			return none(c.Users.RemoveUserRole(r.Context(), r.idParam("id"), r.idParam("roleId")))
		}).need(takaro.PermManageUsers, takaro.PermManageRoles).inAnyDomainState(),

		// Roles and permissions.
		searchHandler("/role/search", "Search roles", "Role", c.Roles.FindRoles).need(takaro.PermReadRoles),
		handler(http.MethodGet, "/role/{id}", "Get a role", "Role", func(r *request) (*takaro.Role, error) {
			return c.Roles.FindRoleByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadRoles),
		bodyHandler(http.MethodPost, "/role", "Create a role", "Role", func(r *request, in *takaro.RoleCreate) (*takaro.Role, error) {
			return c.Roles.CreateRole(r.Context(), *in)
		}).need(takaro.PermManageRoles),
		bodyHandler(http.MethodPut, "/role/{id}", "Update a role", "Role", func(r *request, in *takaro.RoleUpdate) (*takaro.Role, error) {
			return c.Roles.UpdateRole(r.Context(), r.idParam("id"), *in)
		}).need(takaro.PermManageRoles),
		handler(http.MethodDelete, "/role/{id}", "Delete a role", "Role", func(r *request) (*empty, error) {
			return none(c.Roles.DeleteRole(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageRoles),
		handler(http.MethodGet, "/permissions", "The permission catalogue", "Role", func(r *request) ([]takaro.Permission, error) {
			return c.Roles.ListPermissions(r.Context())
		}),

		// Game servers.
		searchHandler("/gameserver/search", "Search game servers (never with their connection info)", "Gameserver", c.GameServers.FindGameServers),
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
		handler(http.MethodDelete, "/gameserver/{id}", "Delete a game server", "Gameserver", func(r *request) (*empty, error) {
			return none(c.GameServers.DeleteGameServer(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageGameservers),

		// Players and where they were seen.
		searchHandler("/player/search", "Search players", "Player", c.Players.FindPlayers).need(takaro.PermReadPlayers),
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
		bodyHandler(http.MethodPost, "/player/{id}/role/{roleId}", "Give a player a role, on one game server or all", "Player",
			func(r *request, in *playerRoleRequest) (*empty, error) {
				return none(c.Players.AssignPlayerRole(r.Context(), r.idParam("id"), r.idParam("roleId"), in.GameServerID, in.ExpiresAt))
			}).need(takaro.PermManagePlayers, takaro.PermManageRoles),
		bodyHandler(http.MethodDelete, "/player/{id}/role/{roleId}", "Take a role from a player", "Player",
			func(r *request, in *playerRoleRemoveRequest) (*empty, error) {
				return none(c.Players.RemovePlayerRole(r.Context(), r.idParam("id"), r.idParam("roleId"), in.GameServerID))
			}).need(takaro.PermManagePlayers, takaro.PermManageRoles),
		searchHandler("/gameserver/player/search", "Search where players were seen", "PlayerOnGameServer",
			c.Players.FindPlayerOnGameServers).need(takaro.PermReadPlayers),
		handler(http.MethodGet, "/gameserver/{gameServerId}/player/{playerId}", "Get a player's presence on a game server", "PlayerOnGameServer",
			func(r *request) (*takaro.PlayerOnGameServer, error) {
				return c.Players.FindPlayerOnGameServer(r.Context(), r.idParam("gameServerId"), r.idParam("playerId"))
			}).need(takaro.PermReadPlayers),
		bodyHandler(http.MethodPost, "/gameserver/player", "Record a player's presence on a game server", "PlayerOnGameServer",
			func(r *request, in *takaro.PlayerOnGameServerUpsert) (*takaro.PlayerOnGameServer, error) {
				return c.Players.UpsertPlayerOnGameServer(r.Context(), *in)
			}).need(takaro.PermManagePlayers),

		// Variables.
		searchHandler("/variables/search", "Search variables", "Variable", c.Variables.FindVariables).need(takaro.PermReadVariables),
		handler(http.MethodGet, "/variables/{id}", "Get a variable", "Variable", func(r *request) (*takaro.Variable, error) {
			return c.Variables.FindVariableByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadVariables),
		bodyHandler(http.MethodPost, "/variables", "Create a variable", "Variable", func(r *request, in *takaro.VariableCreate) (*takaro.Variable, error) {
			return c.Variables.CreateVariable(r.Context(), *in)
		}).need(takaro.PermManageVariables),
		bodyHandler(http.MethodPut, "/variables/{id}", "Update a variable; an absent expiresAt clears the expiry", "Variable",
			func(r *request, in *takaro.VariableUpdate) (*takaro.Variable, error) {
				return c.Variables.UpdateVariable(r.Context(), r.idParam("id"), *in)
			}).need(takaro.PermManageVariables),
		handler(http.MethodDelete, "/variables/{id}", "Delete a variable", "Variable", func(r *request) (*empty, error) {
			return none(c.Variables.DeleteVariable(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageVariables),

		// Events.
		searchHandler("/event/search", "Search the audit log", "Event", c.Events.FindEvents).need(takaro.PermReadEvents),
		handler(http.MethodGet, "/event/{id}", "Get an event", "Event", func(r *request) (*takaro.Event, error) {
			return c.Events.FindEventByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadEvents),
		bodyHandler(http.MethodPost, "/event", "Record an event", "Event", func(r *request, in *takaro.EventCreate) (*takaro.Event, error) {
			return c.Events.CreateEvent(r.Context(), *in)
		}).need(takaro.PermManageEvents),
	}
}
