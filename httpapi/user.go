package httpapi

import (
	"net/http"
	"time"

	"github.com/gotakaro/takaro"
)

type (
	userRoleRequest struct {
		ExpiresAt *time.Time `json:"expiresAt,omitempty"`
	}
	inviteRequest struct {
		Email string `json:"email"`
	}
)

// userRoutes declares the routes of users and their roles.
func (s *Server) userRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/user/search", "Search users", "User", c.Users.FindUsers).searchOf("users").need(takaro.PermReadUsers).inAnyDomainState(),
		bodyHandler(http.MethodPost, "/user/invite", "Invite a dashboard user by e-mail address, or get the one who has it", "User",
			func(r *request, in *inviteRequest) (*takaro.User, error) {
				return c.Users.InviteUser(r.Context(), in.Email)
			}).need(takaro.PermManageUsers).inAnyDomainState(),
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
	}
}
