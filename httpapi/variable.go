package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// variableRoutes declares the routes of variables: scoped key/value pairs.
func (s *Server) variableRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/variables/search", "Search variables", "Variable", c.Variables.FindVariables).searchOf("variables").need(takaro.PermReadVariables),
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
	}
}
