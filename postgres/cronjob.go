package postgres

import (
	"context"

	"github.com/google/uuid"
	"github.com/gotakaro/takaro"
)

var _ takaro.CronJobService = (*DB)(nil)

var cronJobObject = jsonFields{
	{"id", "id"}, {"createdAt", "created_at"}, {"updatedAt", "updated_at"}, {"name", "name"},
	{"description", "description"}, {"temporalValue", "temporal_value"},
	{"functionId", "function_id"}, {"function", functionOf}, {"versionId", "version_id"},
}

var cronJobSearch = &searchSpec{
	table:  "cron_jobs",
	object: cronJobObject,
	fields: withCommonFields(map[string]field{
		"name":      {column: "t.name", kind: kindText, ops: opFilter | opSearch | opSort},
		"versionId": {column: "t.version_id", kind: kindUUID, ops: opFilter},
		"moduleId":  {column: moduleOfVersion("t.version_id"), kind: kindUUID, ops: opFilter},
	}),
	// The reference's "gameServer" names no relation, so it is refused.
	extend: map[string]string{"module": partModule},
}

// CreateCronJob creates a cron job, with its code, in a latest version.
func (db *DB) CreateCronJob(ctx context.Context, in takaro.CronJobCreate) (*takaro.CronJob, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return createPart[takaro.CronJob](ctx, db, "cron_jobs", cronJobObject, in.VersionID, func(tx *Tx) (uuid.UUID, error) {
		return insertCronJob(ctx, tx, in)
	})
}

// insertCronJob stores a cron job with its code in a version the caller
// has checked.
func insertCronJob(ctx context.Context, tx *Tx, in takaro.CronJobCreate) (uuid.UUID, error) {
	fn, err := insertFunction(ctx, tx, nil, &in.VersionID, nil, nil, in.Function)
	if err != nil {
		return uuid.Nil, err
	}
	var id uuid.UUID
	err = tx.QueryRow(ctx, `INSERT INTO cron_jobs (domain, version_id, function_id, name, temporal_value, description)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		tx.Domain, in.VersionID, fn, in.Name, in.TemporalValue, in.Description).Scan(&id)
	return id, translateError(err, "cron job")
}

// FindCronJobByID returns a cron job.
func (db *DB) FindCronJobByID(ctx context.Context, id uuid.UUID) (*takaro.CronJob, error) {
	return findByID[takaro.CronJob](ctx, db, "cron_jobs", cronJobObject, id, "CronJob", "")
}

// FindCronJobs searches cron jobs.
func (db *DB) FindCronJobs(ctx context.Context, q takaro.Query) (*takaro.Page[takaro.CronJob], error) {
	return search[takaro.CronJob](ctx, db, cronJobSearch, q)
}

// UpdateCronJob changes a cron job of a latest version.
func (db *DB) UpdateCronJob(ctx context.Context, id uuid.UUID, upd takaro.CronJobUpdate) (*takaro.CronJob, error) {
	if err := upd.Validate(); err != nil {
		return nil, err
	}
	return updatePart[takaro.CronJob](ctx, db, "cron_jobs", cronJobObject, id, takaro.NotFound("CronJob", id), func(tx *Tx) error {
		_, err := tx.Exec(ctx, `UPDATE cron_jobs SET name = coalesce($3, name), temporal_value = coalesce($4, temporal_value),
			description = coalesce($5, description) WHERE domain = $1 AND id = $2`,
			tx.Domain, id, upd.Name, upd.TemporalValue, upd.Description)
		if err != nil {
			return translateError(err, "cron job")
		}
		return updatePartCode(ctx, tx, "cron_jobs", id, upd.Function)
	})
}

// DeleteCronJob deletes a cron job of a latest version with its code.
func (db *DB) DeleteCronJob(ctx context.Context, id uuid.UUID) error {
	return deletePart(ctx, db, "cron_jobs", id, takaro.NotFound("CronJob", id))
}
