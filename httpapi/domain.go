package httpapi

import (
	"net/http"

	"github.com/gotakaro/takaro"
)

type (
	tokenRequest struct {
		DomainID string `json:"domainId"`
	}
	tokenResponse struct {
		Token string `json:"token"`
	}
	resolveRegistrationTokenRequest struct {
		RegistrationToken string `json:"registrationToken"`
	}
)

// withRegistrationToken returns a function that adds the domain's
// server-registration token to a domain that was found.
func (s *Server) withRegistrationToken(r *request) func(*takaro.Domain, error) (*takaro.Domain, error) {
	return func(d *takaro.Domain, err error) (*takaro.Domain, error) {
		if err != nil {
			return nil, err
		}
		d.ServerRegistrationToken, err = s.cfg.Domains.RegistrationToken(r.Context(), d.ID)
		return d, err
	}
}

// domainRoutes declares the admin API: domains, and the tokens that act as a domain's root user.
func (s *Server) domainRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/domain/search", "Search domains", "Domain", c.Domains.FindDomains).as(admin).searchOf("domains"),
		handler(http.MethodGet, "/domain/{id}", "Get a domain with its server-registration token", "Domain", func(r *request) (*takaro.Domain, error) {
			return s.withRegistrationToken(r)(c.Domains.FindDomainByID(r.Context(), r.PathValue("id")))
		}).as(admin).text("id"),
		bodyHandler(http.MethodPost, "/domain", "Create a domain with its roles, root user and server-registration token; the response is the only time the root password is shown", "Domain",
			func(r *request, in *takaro.DomainCreate) (*takaro.DomainCreated, error) {
				return c.Domains.CreateDomain(r.Context(), *in)
			}).as(admin),
		bodyHandler(http.MethodPut, "/domain/{id}", "Update a domain", "Domain", func(r *request, in *takaro.DomainUpdate) (*takaro.Domain, error) {
			return s.withRegistrationToken(r)(c.Domains.UpdateDomain(r.Context(), r.PathValue("id"), *in))
		}).as(admin).text("id"),
		bodyHandler(http.MethodPost, "/resolve-registration-token", "The domain a game server's registration token belongs to (not a disabled one)", "Domain",
			func(r *request, in *resolveRegistrationTokenRequest) (*takaro.Domain, error) {
				return c.Domains.ResolveRegistrationToken(r.Context(), in.RegistrationToken)
			}).as(admin),
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
	}
}
