package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// roleRoutes declares the routes of roles and the permission catalogue.
func (s *Server) roleRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/role/search", "Search roles", "Role", c.Roles.FindRoles).searchOf("roles").need(takaro.PermReadRoles),
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
	}
}
