package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// functionRoutes declares the routes of functions: the shared code of
// module versions, and standalone functions.
func (s *Server) functionRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/function/search", "Search functions", "Function", c.Functions.FindFunctions).searchOf("functions").need(takaro.PermReadModules),
		handler(http.MethodGet, "/function/{id}", "Get a function", "Function", func(r *request) (*takaro.Function, error) {
			return c.Functions.FindFunctionByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadModules),
		bodyHandler(http.MethodPost, "/function", "Create a function", "Function", func(r *request, in *takaro.FunctionCreate) (*takaro.Function, error) {
			return c.Functions.CreateFunction(r.Context(), *in)
		}).need(takaro.PermManageModules),
		bodyHandler(http.MethodPut, "/function/{id}", "Update a function", "Function", func(r *request, in *takaro.FunctionUpdate) (*takaro.Function, error) {
			return c.Functions.UpdateFunction(r.Context(), r.idParam("id"), *in)
		}).need(takaro.PermManageModules),
		handler(http.MethodDelete, "/function/{id}", "Delete a function (and the command, hook or cron job it is the code of)", "Function",
			func(r *request) (*empty, error) {
				return none(c.Functions.DeleteFunction(r.Context(), r.idParam("id")))
			}).need(takaro.PermManageModules),
	}
}
