package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

// apiKeyRoutes declares the API-key routes: keys carry some of their creator's permissions and are revoked by id.
func (s *Server) apiKeyRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
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
	}
}
