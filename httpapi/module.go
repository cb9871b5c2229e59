package httpapi

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// moduleRoutes declares the routes of modules, their versions, their
// installations on game servers, and their export and import.
func (s *Server) moduleRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/module/search", "Search modules", "Module", c.Modules.FindModules).searchOf("modules").need(takaro.PermReadModules),
		handler(http.MethodGet, "/module/{id}", "Get a module with its latest version and versions", "Module",
			func(r *request) (*takaro.Module, error) {
				return c.Modules.FindModuleByID(r.Context(), r.idParam("id"))
			}).need(takaro.PermReadModules),
		bodyHandler(http.MethodPost, "/module", "Create a module with its latest version", "Module",
			func(r *request, in *takaro.ModuleCreate) (*takaro.Module, error) {
				return c.Modules.CreateModule(r.Context(), *in)
			}).need(takaro.PermManageModules),
		bodyHandler(http.MethodPut, "/module/{id}", "Update a module and its latest version", "Module",
			func(r *request, in *takaro.ModuleUpdate) (*takaro.Module, error) {
				return c.Modules.UpdateModule(r.Context(), r.idParam("id"), *in)
			}).need(takaro.PermManageModules),
		handler(http.MethodDelete, "/module/{id}", "Delete a module, uninstalling it everywhere", "Module", func(r *request) (*empty, error) {
			return none(c.Modules.DeleteModule(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageModules),
		bodyHandler(http.MethodPost, "/module/{id}/export", "Export a module with its versions (all, or the ones named)", "Module",
			func(r *request, in *takaro.ModuleExportOptions) (*takaro.ModuleTransfer, error) {
				return c.Modules.ExportModule(r.Context(), r.idParam("id"), *in)
			}).need(takaro.PermReadModules),
		bodyHandler(http.MethodPost, "/module/import", "Import an exported module", "Module",
			func(r *request, in *takaro.ModuleTransfer) (*takaro.Module, error) {
				return c.Modules.ImportModule(r.Context(), *in)
			}).need(takaro.PermManageModules),

		searchHandler("/module/version/search", "Search module versions", "Module", c.Modules.FindModuleVersions).searchOf("module_versions").need(takaro.PermReadModules),
		handler(http.MethodGet, "/module/version/{id}", "Get a module version", "Module", func(r *request) (*takaro.ModuleVersion, error) {
			return c.Modules.FindModuleVersionByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadModules),
		bodyHandler(http.MethodPost, "/module/version", "Tag the latest version of a module: an immutable copy", "Module",
			func(r *request, in *takaro.ModuleVersionTag) (*takaro.ModuleVersion, error) {
				return c.Modules.TagModuleVersion(r.Context(), *in)
			}).need(takaro.PermManageModules),

		searchHandler("/module/installation/search", "Search module installations", "Module", c.Modules.FindInstallations).searchOf("module_installations").
			need(takaro.PermReadModules),
		handler(http.MethodGet, "/module/{moduleId}/gameserver/{gameServerId}/installation", "Get a module's installation on a game server",
			"Module", func(r *request) (*takaro.Installation, error) {
				return c.Modules.FindInstallation(r.Context(), r.idParam("moduleId"), r.idParam("gameServerId"))
			}).need(takaro.PermReadModules),
		bodyHandler(http.MethodPost, "/module/installation", "Install a module version on a game server", "Module",
			func(r *request, in *takaro.InstallationCreate) (*takaro.Installation, error) {
				return c.Modules.InstallModule(r.Context(), *in)
			}).need(takaro.PermManageGameservers),
		handler(http.MethodDelete, "/module/{moduleId}/gameserver/{gameServerId}/installation", "Uninstall a module from a game server",
			"Module", func(r *request) (*takaro.Installation, error) {
				return c.Modules.UninstallModule(r.Context(), r.idParam("moduleId"), r.idParam("gameServerId"))
			}).need(takaro.PermManageGameservers),
	}
}

// executionsHandler returns the route that searches the recorded runs of
// a command, hook or cron job: the events of kind that name it, failed
// runs unless the query string says success=true (the reference's
// default). exists answers not found for an id that is no such part of the
// caller's domain.
func (s *Server) executionsHandler(path, tag string, kind takaro.ExecutionKind, exists func(ctx context.Context, id uuid.UUID) error) endpoint {
	return pageHandler(path, "Search the recorded runs of a "+string(kind), tag, func(r *request, q takaro.Query) (*takaro.Page[takaro.Event], error) {
		var success bool
		switch r.URL.Query().Get("success") {
		case "", "false":
		case "true":
			success = true
		default:
			return nil, takaro.Invalid("success", "must be true or false")
		}
		id := r.idParam("id")
		if err := exists(r.Context(), id); err != nil {
			return nil, err
		}
		return s.cfg.Modules.FindExecutions(r.Context(), kind, id, success, q)
	}).need(takaro.PermReadModules).withQuery("success", "boolean", "true for the successful runs, false (the default) for the failed ones")
}

// errNotRun answers the routes that would run module code or talk to a
// game server, which this data core does not do.
var errNotRun = takaro.Errorf(takaro.CodeNotImplemented,
	"Not implemented: this server stores modules but does not run their code or talk to game servers, so nothing was triggered")

// triggerHandler returns a route that would run module code: it checks the
// request and what it names, and answers 501 (errNotRun).
func triggerHandler[In any](path, summary, tag string, check func(r *request, in *In) error) endpoint {
	return bodyHandler(http.MethodPost, path, summary+" (not implemented: answers 501)", tag, func(r *request, in *In) (*empty, error) {
		return nil, check(r, in)
	}).need(takaro.PermManageModules).answering501(errNotRun)
}
