package takaro

import (
	"context"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// CronJob runs its function on a schedule (TemporalValue, a cron
// expression) on every game server its module is installed on.
type CronJob struct {
	ID            uuid.UUID `json:"id"`
	CreatedAt     Time      `json:"createdAt"`
	UpdatedAt     Time      `json:"updatedAt"`
	Name          string    `json:"name"`
	Description   *string   `json:"description"`
	TemporalValue string    `json:"temporalValue"`
	FunctionID    uuid.UUID `json:"functionId"`
	Function      Function  `json:"function"`
	VersionID     uuid.UUID `json:"versionId"`

	// Module is present only when a search asks for it with extend "module".
	Module *ModuleSummary `json:"module,omitzero"`
}

// CronJobCreate is the input for creating a cron job in the latest version
// of a module. Function is the cron job's code.
type CronJobCreate struct {
	Name          string    `json:"name"`
	TemporalValue string    `json:"temporalValue"`
	VersionID     uuid.UUID `json:"versionId"`
	Description   *string   `json:"description,omitempty"`
	Function      *string   `json:"function,omitempty"`
}

// Validate checks the input.
func (c CronJobCreate) Validate() error {
	return validateCronJob(&c.Name, &c.TemporalValue, c.Description, c.Function)
}

// CronJobUpdate changes a cron job; nil fields are left as they are.
type CronJobUpdate struct {
	Name          *string `json:"name,omitempty"`
	TemporalValue *string `json:"temporalValue,omitempty"`
	Description   *string `json:"description,omitempty"`
	Function      *string `json:"function,omitempty"`
}

// Validate checks the input.
func (u CronJobUpdate) Validate() error {
	return validateCronJob(u.Name, u.TemporalValue, u.Description, u.Function)
}

func validateCronJob(name, temporalValue, description, code *string) error {
	if err := validatePart(name, 50, description, code); err != nil {
		return err
	}
	if temporalValue != nil {
		if err := ValidateCronExpression(*temporalValue); err != nil {
			return Invalid("temporalValue", "%s", err.Error())
		}
	}
	return nil
}

// cronField is one field of a cron expression: its name, bounds and the
// names its values may have.
type cronField struct {
	name     string
	min, max int
	names    []string // names[i] stands for min+i
}

var (
	cronSecond = cronField{name: "second", min: 0, max: 59}
	cronFields = []cronField{
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day of month", min: 1, max: 31},
		{name: "month", min: 1, max: 12, names: strings.Fields("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC")},
		// 0 and 7 are both Sunday.
		{name: "day of week", min: 0, max: 7, names: strings.Fields("SUN MON TUE WED THU FRI SAT")},
	}
)

// ValidateCronExpression checks a cron pattern as the job scheduler reads
// it: five fields (minute, hour, day of month, month, day of week), or six
// with seconds first. A field is *, ? (days only), or a comma-separated
// list of values, ranges (a-b) and steps (*/n, a/n, a-b/n); months and
// weekdays may be named (JAN, MON). The error says which field is wrong.
func ValidateCronExpression(expr string) error {
	parts := strings.Fields(expr)
	fields := cronFields
	switch len(parts) {
	case 5:
	case 6:
		fields = append([]cronField{cronSecond}, cronFields...)
	default:
		return Errorf(CodeValidation, "must be a cron expression of 5 or 6 fields, for example \"*/5 * * * *\"")
	}
	for i, part := range parts {
		if err := fields[i].check(part); err != nil {
			return err
		}
	}
	return nil
}

func (f cronField) check(s string) error {
	if s == "?" && (f.name == "day of month" || f.name == "day of week") {
		return nil
	}
	for item := range strings.SplitSeq(s, ",") {
		rng, step, hasStep := strings.Cut(item, "/")
		if hasStep {
			n, err := strconv.Atoi(step)
			if err != nil || n < 1 || n > f.max-f.min+1 {
				return f.errorf("step %q must be a number between 1 and %d", step, f.max-f.min+1)
			}
		}
		if rng == "*" {
			continue
		}
		lo, hi, isRange := strings.Cut(rng, "-")
		a, err := f.value(lo)
		if err != nil {
			return err
		}
		if isRange {
			b, err := f.value(hi)
			if err != nil {
				return err
			}
			if a > b {
				return f.errorf("range %q runs backwards", rng)
			}
		}
	}
	return nil
}

func (f cronField) value(s string) (int, error) {
	for i, name := range f.names {
		if strings.EqualFold(s, name) {
			return f.min + i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < f.min || n > f.max {
		return 0, f.errorf("value %q must be between %d and %d", s, f.min, f.max)
	}
	return n, nil
}

func (f cronField) errorf(format string, args ...any) error {
	return Errorf(CodeValidation, "%s field: "+format, append([]any{f.name}, args...)...)
}

// CronJobService manages the cron jobs of module versions in the domain of
// the context's Principal. Only a module's latest version can change.
type CronJobService interface {
	// CreateCronJob creates a cron job with its code. Errors:
	// CodeValidation (also for an unknown version or a bad cron
	// expression), CodeBadRequest for a tagged version or a module at its
	// maxFunctionsInModule, CodeConflict.
	CreateCronJob(ctx context.Context, in CronJobCreate) (*CronJob, error)
	// FindCronJobByID returns a cron job. Errors: CodeNotFound.
	FindCronJobByID(ctx context.Context, id uuid.UUID) (*CronJob, error)
	// FindCronJobs searches cron jobs. Errors: CodeValidation.
	FindCronJobs(ctx context.Context, q Query) (*Page[CronJob], error)
	// UpdateCronJob changes a cron job. Errors: CodeValidation,
	// CodeNotFound, CodeBadRequest, CodeConflict.
	UpdateCronJob(ctx context.Context, id uuid.UUID, upd CronJobUpdate) (*CronJob, error)
	// DeleteCronJob deletes a cron job with its code. Errors:
	// CodeNotFound, CodeBadRequest.
	DeleteCronJob(ctx context.Context, id uuid.UUID) error
}
