package httpapi

import (
	"context"
	"net/http"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

// cronJobTrigger is the body of a cron job trigger.
type cronJobTrigger struct {
	GameServerID uuid.UUID `json:"gameServerId"`
	CronjobID    uuid.UUID `json:"cronjobId"`
	ModuleID     uuid.UUID `json:"moduleId"`
}

// cronJobRoutes declares the routes of cron jobs.
func (s *Server) cronJobRoutes() []endpoint {
	c := s.cfg
	return []endpoint{
		searchHandler("/cronjob/search", "Search cron jobs", "CronJob", c.CronJobs.FindCronJobs).searchOf("cron_jobs").need(takaro.PermReadModules),
		handler(http.MethodGet, "/cronjob/{id}", "Get a cron job", "CronJob", func(r *request) (*takaro.CronJob, error) {
			return c.CronJobs.FindCronJobByID(r.Context(), r.idParam("id"))
		}).need(takaro.PermReadModules),
		bodyHandler(http.MethodPost, "/cronjob", "Create a cron job in a latest version", "CronJob",
			func(r *request, in *takaro.CronJobCreate) (*takaro.CronJob, error) {
				return c.CronJobs.CreateCronJob(r.Context(), *in)
			}).need(takaro.PermManageModules),
		bodyHandler(http.MethodPut, "/cronjob/{id}", "Update a cron job", "CronJob",
			func(r *request, in *takaro.CronJobUpdate) (*takaro.CronJob, error) {
				return c.CronJobs.UpdateCronJob(r.Context(), r.idParam("id"), *in)
			}).need(takaro.PermManageModules),
		handler(http.MethodDelete, "/cronjob/{id}", "Delete a cron job", "CronJob", func(r *request) (*empty, error) {
			return none(c.CronJobs.DeleteCronJob(r.Context(), r.idParam("id")))
		}).need(takaro.PermManageModules),
		s.executionsHandler("/cronjob/{id}/executions", "CronJob", takaro.ExecutionCronJob, func(ctx context.Context, id uuid.UUID) error {
			return found(c.CronJobs.FindCronJobByID(ctx, id))
		}),
		triggerHandler("/cronjob/trigger", "Run a cron job on a game server now", "CronJob", func(r *request, in *cronJobTrigger) error {
			if err := found(c.GameServers.FindGameServerByID(r.Context(), in.GameServerID, false)); err != nil {
				return err
			}
			if err := found(c.Modules.FindModuleByID(r.Context(), in.ModuleID)); err != nil {
				return err
			}
			return found(c.CronJobs.FindCronJobByID(r.Context(), in.CronjobID))
		}),
	}
}
