package takaro

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// TagLatest is the tag of a module's working copy, the only version that
// can change.
const TagLatest = "latest"

// Module is a named, versioned bundle of commands, hooks, cron jobs,
// functions and permissions that a domain installs on its game servers.
type Module struct {
	ModuleSummary
	LatestVersion ModuleVersion        `json:"latestVersion"`
	Versions      []SmallModuleVersion `json:"versions"`
}

// ModuleSummary is a module without its versions, as a search of
// commands, hooks or cron jobs embeds it (extend "module").
type ModuleSummary struct {
	ID             uuid.UUID `json:"id"`
	CreatedAt      Time      `json:"createdAt"`
	UpdatedAt      Time      `json:"updatedAt"`
	Name           string    `json:"name"`
	Builtin        *string   `json:"builtin"`
	Author         string    `json:"author"`
	SupportedGames []string  `json:"supportedGames"`
}

// Complete fills in what is derived rather than stored: the latest
// version's system config schema, and the order of the versions (latest
// first, then the newest semantic version first).
func (m *Module) Complete() {
	m.LatestVersion.Complete()
	slices.SortStableFunc(m.Versions, func(a, b SmallModuleVersion) int { return CompareTags(b.Tag, a.Tag) })
}

// SmallModuleVersion names one version of a module.
type SmallModuleVersion struct {
	ID        uuid.UUID `json:"id"`
	CreatedAt Time      `json:"createdAt"`
	UpdatedAt Time      `json:"updatedAt"`
	Tag       string    `json:"tag"`
}

// ModuleVersion is one version of a module with everything it holds.
// ConfigSchema (the JSON Schema of an installation's user config) and
// UISchema are JSON texts; SystemConfigSchema is derived from the
// version's commands, hooks and cron jobs.
type ModuleVersion struct {
	ID                  uuid.UUID       `json:"id"`
	CreatedAt           Time            `json:"createdAt"`
	UpdatedAt           Time            `json:"updatedAt"`
	ModuleID            uuid.UUID       `json:"moduleId"`
	Tag                 string          `json:"tag"`
	Description         string          `json:"description"`
	ConfigSchema        string          `json:"configSchema"`
	UISchema            string          `json:"uiSchema"`
	SystemConfigSchema  string          `json:"systemConfigSchema"`
	DefaultSystemConfig *map[string]any `json:"defaultSystemConfig"`
	Commands            []Command       `json:"commands"`
	Hooks               []Hook          `json:"hooks"`
	CronJobs            []CronJob       `json:"cronJobs"`
	Functions           []Function      `json:"functions"`
	Permissions         []Permission    `json:"permissions"`
}

// Complete fills in the derived system config schema.
func (v *ModuleVersion) Complete() {
	v.SystemConfigSchema = string(SystemConfigSchema(v.Commands, v.Hooks, v.CronJobs))
}

// ModulePermissionInput defines one permission of a module version.
type ModulePermissionInput struct {
	Permission   string `json:"permission"`
	FriendlyName string `json:"friendlyName"`
	Description  string `json:"description"`
	CanHaveCount *bool  `json:"canHaveCount,omitempty"`
}

var permissionCodePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,99}$`)

func validateModulePermissions(field string, perms []ModulePermissionInput) error {
	seen := map[string]bool{}
	for i, p := range perms {
		f := field + "[" + strconv.Itoa(i) + "]"
		if !permissionCodePattern.MatchString(p.Permission) {
			return Invalid(f+".permission", "must be 1 to 100 letters, digits and underscores, starting with a letter")
		}
		if seen[p.Permission] {
			return Invalid(f+".permission", "is defined twice")
		}
		seen[p.Permission] = true
		if err := validateLength(f+".friendlyName", p.FriendlyName, 1, 255); err != nil {
			return err
		}
		if err := validateLength(f+".description", p.Description, 1, 10000); err != nil {
			return err
		}
	}
	return nil
}

// ModuleVersionInput sets the fields of a module's latest version; nil
// fields are left as they are (or get their defaults on creation).
type ModuleVersionInput struct {
	Description         *string                  `json:"description,omitempty"`
	ConfigSchema        *string                  `json:"configSchema,omitempty"`
	UISchema            *string                  `json:"uiSchema,omitempty"`
	DefaultSystemConfig *string                  `json:"defaultSystemConfig,omitempty"`
	Permissions         *[]ModulePermissionInput `json:"permissions,omitempty"`
}

// Validate checks the input; the default system config can only be checked
// against the version's parts, by the service.
func (in *ModuleVersionInput) Validate() error {
	if in == nil {
		return nil
	}
	if in.Description != nil {
		if err := validateLength("latestVersion.description", *in.Description, 0, 500000); err != nil {
			return err
		}
	}
	if in.ConfigSchema != nil {
		if err := ValidateConfigSchema("latestVersion.configSchema", *in.ConfigSchema); err != nil {
			return err
		}
	}
	if in.UISchema != nil {
		if err := validateJSONObject("latestVersion.uiSchema", *in.UISchema); err != nil {
			return err
		}
	}
	if in.DefaultSystemConfig != nil {
		if err := validateJSONObject("latestVersion.defaultSystemConfig", *in.DefaultSystemConfig); err != nil {
			return err
		}
	}
	if in.Permissions != nil {
		return validateModulePermissions("latestVersion.permissions", *in.Permissions)
	}
	return nil
}

// ModuleCreate is the input for creating a module with its latest version.
type ModuleCreate struct {
	Name           string              `json:"name"`
	Author         *string             `json:"author,omitempty"`
	SupportedGames []string            `json:"supportedGames,omitempty"`
	LatestVersion  *ModuleVersionInput `json:"latestVersion,omitempty"`
}

// Validate checks the input.
func (c ModuleCreate) Validate() error {
	return validateModule(&c.Name, c.Author, c.SupportedGames, c.LatestVersion)
}

// ModuleUpdate changes a module and its latest version; nil fields are left
// as they are.
type ModuleUpdate struct {
	Name           *string             `json:"name,omitempty"`
	Author         *string             `json:"author,omitempty"`
	SupportedGames *[]string           `json:"supportedGames,omitempty"`
	LatestVersion  *ModuleVersionInput `json:"latestVersion,omitempty"`
}

// Validate checks the input.
func (u ModuleUpdate) Validate() error {
	var games []string
	if u.SupportedGames != nil {
		games = *u.SupportedGames
	}
	return validateModule(u.Name, u.Author, games, u.LatestVersion)
}

func validateModule(name, author *string, games []string, latest *ModuleVersionInput) error {
	if name != nil {
		if err := validateLength("name", *name, 3, 50); err != nil {
			return err
		}
	}
	if author != nil {
		if err := validateLength("author", *author, 0, 255); err != nil {
			return err
		}
	}
	for i, g := range games {
		if err := validateLength("supportedGames["+strconv.Itoa(i)+"]", g, 1, 100); err != nil {
			return err
		}
	}
	return latest.Validate()
}

// ModuleVersionTag is the input for tagging a module's latest version.
type ModuleVersionTag struct {
	Tag      string    `json:"tag"`
	ModuleID uuid.UUID `json:"moduleId"`
}

// semverPattern is a semantic version (semver.org 2.0.0), optionally with
// a leading v, as the reference's semver check accepts.
var semverPattern = regexp.MustCompile(`^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// Validate checks the input.
func (t ModuleVersionTag) Validate() error {
	if err := validateLength("tag", t.Tag, 1, 100); err != nil {
		return err
	}
	if t.Tag != TagLatest && !semverPattern.MatchString(t.Tag) {
		return Errorf(CodeBadRequest, "Invalid version tag, please use semver. Eg 1.0.0 or 2.0.4")
	}
	return nil
}

// CompareTags orders tags: latest above everything, semantic versions by
// precedence (a pre-release below its release), anything else below them.
func CompareTags(a, b string) int {
	if a == b {
		return 0
	}
	switch {
	case a == TagLatest:
		return 1
	case b == TagLatest:
		return -1
	}
	ma, mb := semverPattern.FindStringSubmatch(a), semverPattern.FindStringSubmatch(b)
	switch {
	case ma == nil && mb == nil:
		return strings.Compare(a, b)
	case ma == nil:
		return -1
	case mb == nil:
		return 1
	}
	for i := 1; i <= 3; i++ {
		x, _ := strconv.Atoi(ma[i])
		y, _ := strconv.Atoi(mb[i])
		if x != y {
			return x - y
		}
	}
	switch {
	case ma[4] == mb[4]:
		return strings.Compare(a, b)
	case ma[4] == "":
		return 1
	case mb[4] == "":
		return -1
	}
	return strings.Compare(ma[4], mb[4])
}

// Installation is a module version installed on a game server with its
// configuration: the user config follows the version's config schema, the
// system config its system config schema, both with defaults filled in.
type Installation struct {
	ID           uuid.UUID       `json:"id"`
	CreatedAt    Time            `json:"createdAt"`
	UpdatedAt    Time            `json:"updatedAt"`
	GameServerID uuid.UUID       `json:"gameserverId"`
	ModuleID     uuid.UUID       `json:"moduleId"`
	VersionID    uuid.UUID       `json:"versionId"`
	UserConfig   json.RawMessage `json:"userConfig"`
	SystemConfig json.RawMessage `json:"systemConfig"`
	Version      ModuleVersion   `json:"version"`
	Module       Module          `json:"module"`
}

// Complete fills in what is derived rather than stored.
func (i *Installation) Complete() {
	i.Version.Complete()
	i.Module.Complete()
}

// InstallationCreate installs a module version on a game server. The
// configs are JSON objects encoded as strings, as in the reference API;
// absent means {}.
type InstallationCreate struct {
	VersionID    uuid.UUID `json:"versionId"`
	GameServerID uuid.UUID `json:"gameServerId"`
	UserConfig   *string   `json:"userConfig,omitempty"`
	SystemConfig *string   `json:"systemConfig,omitempty"`
}

// Validate checks the input's form; the configs are checked against the
// version's schemas by the service.
func (c InstallationCreate) Validate() error {
	if c.UserConfig != nil {
		if err := validateJSONObject("userConfig", *c.UserConfig); err != nil {
			return err
		}
	}
	if c.SystemConfig != nil {
		return validateJSONObject("systemConfig", *c.SystemConfig)
	}
	return nil
}

// ModuleExportOptions chooses the versions to export; none means all.
type ModuleExportOptions struct {
	VersionIDs []uuid.UUID `json:"versionIds,omitempty"`
}

// ModuleTransfer is a module with its versions in the reference's export
// format. An older format without versions carries one version's fields
// at the top level; it imports as the latest version.
type ModuleTransfer struct {
	Name           string                  `json:"name"`
	TakaroVersion  *string                 `json:"takaroVersion,omitempty"`
	Author         *string                 `json:"author,omitempty"`
	SupportedGames []string                `json:"supportedGames,omitempty"`
	Versions       []ModuleTransferVersion `json:"versions,omitempty"`

	// The older, single-version format.
	Description  *string                 `json:"description,omitempty"`
	ConfigSchema *string                 `json:"configSchema,omitempty"`
	UISchema     *string                 `json:"uiSchema,omitempty"`
	Commands     []TransferCommand       `json:"commands,omitempty"`
	Hooks        []TransferHook          `json:"hooks,omitempty"`
	CronJobs     []TransferCronJob       `json:"cronJobs,omitempty"`
	Functions    []TransferFunction      `json:"functions,omitempty"`
	Permissions  []ModulePermissionInput `json:"permissions,omitempty"`
}

// VersionsToImport returns the versions of t, with the older format read
// as one latest version.
func (t ModuleTransfer) VersionsToImport() []ModuleTransferVersion {
	if t.Versions != nil {
		return t.Versions
	}
	v := ModuleTransferVersion{Tag: TagLatest, Commands: t.Commands, Hooks: t.Hooks, CronJobs: t.CronJobs,
		Functions: t.Functions, Permissions: t.Permissions}
	if t.Description != nil {
		v.Description = *t.Description
	}
	if t.ConfigSchema != nil {
		v.ConfigSchema = *t.ConfigSchema
	}
	if t.UISchema != nil {
		v.UISchema = *t.UISchema
	}
	return []ModuleTransferVersion{v}
}

// Validate checks everything an import would write.
func (t ModuleTransfer) Validate() error {
	if err := validateModule(&t.Name, t.Author, t.SupportedGames, nil); err != nil {
		return err
	}
	tags := map[string]bool{}
	for i, v := range t.VersionsToImport() {
		field := "versions[" + strconv.Itoa(i) + "]"
		if t.Versions == nil {
			field = ""
		}
		if tags[v.Tag] {
			return Invalid(field+".tag", "is used by another version")
		}
		tags[v.Tag] = true
		if err := v.validate(field); err != nil {
			return err
		}
	}
	return nil
}

// ModuleTransferVersion is one version in an export.
type ModuleTransferVersion struct {
	Tag          string                  `json:"tag"`
	Description  string                  `json:"description"`
	ConfigSchema string                  `json:"configSchema"`
	UISchema     string                  `json:"uiSchema"`
	Commands     []TransferCommand       `json:"commands"`
	Hooks        []TransferHook          `json:"hooks"`
	CronJobs     []TransferCronJob       `json:"cronJobs"`
	Functions    []TransferFunction      `json:"functions"`
	Permissions  []ModulePermissionInput `json:"permissions"`
}

func prefixed(field, name string) string {
	if field == "" {
		return name
	}
	return field + "." + name
}

func (v ModuleTransferVersion) validate(field string) error {
	if err := (ModuleVersionTag{Tag: v.Tag}).Validate(); err != nil {
		return Invalid(prefixed(field, "tag"), "must be latest or a semantic version, for example 1.0.0")
	}
	in := ModuleVersionInput{Description: &v.Description, Permissions: &v.Permissions}
	if v.ConfigSchema != "" {
		in.ConfigSchema = &v.ConfigSchema
	}
	if v.UISchema != "" {
		in.UISchema = &v.UISchema
	}
	if err := in.Validate(); err != nil {
		if e, ok := errors.AsType[*Error](err); ok && len(e.Details) == 1 {
			return Invalid(prefixed(field, strings.TrimPrefix(e.Details[0].Field, "latestVersion.")), "%s", e.Details[0].Message)
		}
		return err
	}
	check := func(kind string, i int, err error) error {
		if e, ok := errors.AsType[*Error](err); ok && len(e.Details) == 1 {
			return Invalid(prefixed(field, kind+"["+strconv.Itoa(i)+"]."+e.Details[0].Field), "%s", e.Details[0].Message)
		}
		return err
	}
	for i, c := range v.Commands {
		if err := check("commands", i, c.Create(uuid.Nil).Validate()); err != nil {
			return err
		}
	}
	for i, h := range v.Hooks {
		if err := check("hooks", i, h.Create(uuid.Nil).Validate()); err != nil {
			return err
		}
	}
	for i, c := range v.CronJobs {
		if err := check("cronJobs", i, c.Create(uuid.Nil).Validate()); err != nil {
			return err
		}
	}
	for i, f := range v.Functions {
		if err := check("functions", i, f.Create(uuid.Nil).Validate()); err != nil {
			return err
		}
	}
	return nil
}

// TransferCommand is a command in an export; Function is its code.
type TransferCommand struct {
	Name                string             `json:"name"`
	Trigger             string             `json:"trigger"`
	HelpText            *string            `json:"helpText,omitempty"`
	Description         *string            `json:"description,omitempty"`
	Function            string             `json:"function"`
	Arguments           []TransferArgument `json:"arguments,omitempty"`
	RequiredPermissions []string           `json:"requiredPermissions,omitempty"`
}

// Create is the command as the input that creates it in a version.
func (c TransferCommand) Create(versionID uuid.UUID) CommandCreate {
	in := CommandCreate{Name: c.Name, Trigger: c.Trigger, VersionID: versionID, HelpText: c.HelpText,
		Description: c.Description, Function: &c.Function, RequiredPermissions: c.RequiredPermissions}
	for i, a := range c.Arguments {
		pos := i
		if a.Position != nil {
			pos = *a.Position
		}
		in.Arguments = append(in.Arguments, CommandArgumentCreate{Name: a.Name, Type: a.Type, HelpText: a.HelpText,
			DefaultValue: a.DefaultValue, Position: pos})
	}
	return in
}

// TransferArgument is a command argument in an export.
type TransferArgument struct {
	Name         string       `json:"name"`
	Type         ArgumentType `json:"type"`
	HelpText     *string      `json:"helpText,omitempty"`
	DefaultValue *string      `json:"defaultValue,omitempty"`
	Position     *int         `json:"position,omitempty"`
}

// TransferHook is a hook in an export; Function is its code.
type TransferHook struct {
	Name        string  `json:"name"`
	EventType   string  `json:"eventType"`
	Regex       *string `json:"regex,omitempty"`
	Description *string `json:"description,omitempty"`
	Function    string  `json:"function"`
}

// Create is the hook as the input that creates it in a version.
func (h TransferHook) Create(versionID uuid.UUID) HookCreate {
	return HookCreate{Name: h.Name, EventType: h.EventType, VersionID: versionID, Regex: h.Regex,
		Description: h.Description, Function: &h.Function}
}

// TransferCronJob is a cron job in an export; Function is its code.
type TransferCronJob struct {
	Name          string  `json:"name"`
	TemporalValue string  `json:"temporalValue"`
	Description   *string `json:"description,omitempty"`
	Function      string  `json:"function"`
}

// Create is the cron job as the input that creates it in a version.
func (c TransferCronJob) Create(versionID uuid.UUID) CronJobCreate {
	return CronJobCreate{Name: c.Name, TemporalValue: c.TemporalValue, VersionID: versionID,
		Description: c.Description, Function: &c.Function}
}

// TransferFunction is a version's shared function in an export; Function
// is its code.
type TransferFunction struct {
	Name        string  `json:"name"`
	Description *string `json:"description,omitempty"`
	Function    string  `json:"function"`
}

// Create is the function as the input that creates it in a version.
func (f TransferFunction) Create(versionID uuid.UUID) FunctionCreate {
	return FunctionCreate{Code: &f.Function, Name: &f.Name, Description: f.Description, VersionID: &versionID}
}

// ExecutionKind names what ran: a command, a hook or a cron job.
type ExecutionKind string

// Kinds of executions, each recorded by its own event.
const (
	ExecutionCommand ExecutionKind = "command"
	ExecutionHook    ExecutionKind = "hook"
	ExecutionCronJob ExecutionKind = "cronjob"
)

// ModuleService manages the modules of the domain in the context's
// Principal: the modules, their versions, installations, export and import.
type ModuleService interface {
	// CreateModule creates a module with its latest version and records
	// module-created. Errors: CodeValidation (also for a default system
	// config the version does not accept), CodeBadRequest when maxModules
	// is reached, CodeConflict for a taken name.
	CreateModule(ctx context.Context, in ModuleCreate) (*Module, error)
	// FindModuleByID returns a module. Errors: CodeNotFound.
	FindModuleByID(ctx context.Context, id uuid.UUID) (*Module, error)
	// FindModules searches modules. Errors: CodeValidation.
	FindModules(ctx context.Context, q Query) (*Page[Module], error)
	// UpdateModule changes a module and its latest version and records
	// module-updated. Errors: CodeValidation, CodeNotFound,
	// CodeBadRequest for a builtin module, CodeConflict.
	UpdateModule(ctx context.Context, id uuid.UUID, upd ModuleUpdate) (*Module, error)
	// DeleteModule deletes a module with its versions and installations,
	// recording module-uninstalled for each and module-deleted. Errors:
	// CodeNotFound, CodeBadRequest for a builtin module.
	DeleteModule(ctx context.Context, id uuid.UUID) error

	// FindModuleVersionByID returns a version. Errors: CodeNotFound.
	FindModuleVersionByID(ctx context.Context, id uuid.UUID) (*ModuleVersion, error)
	// FindModuleVersions searches versions. Errors: CodeValidation.
	FindModuleVersions(ctx context.Context, q Query) (*Page[ModuleVersion], error)
	// TagModuleVersion copies the module's latest version, with all its
	// parts, into a new immutable version with the tag; tag "latest"
	// returns the latest version. Errors: CodeValidation, CodeBadRequest
	// for a tag that is no semantic version, CodeNotFound, CodeConflict
	// for a tag the module has.
	TagModuleVersion(ctx context.Context, in ModuleVersionTag) (*ModuleVersion, error)

	// InstallModule installs a version on a game server, replacing the
	// module's installation there, and records module-installed. Errors:
	// CodeValidation (configs that do not follow the schemas, with the
	// failing paths; an unknown game server), CodeNotFound for the version.
	InstallModule(ctx context.Context, in InstallationCreate) (*Installation, error)
	// UninstallModule removes a module from a game server, records
	// module-uninstalled and returns what was removed. Errors: CodeNotFound.
	UninstallModule(ctx context.Context, moduleID, gameServerID uuid.UUID) (*Installation, error)
	// FindInstallation returns a module's installation on a game server.
	// Errors: CodeNotFound.
	FindInstallation(ctx context.Context, moduleID, gameServerID uuid.UUID) (*Installation, error)
	// FindInstallations searches installations. Errors: CodeValidation.
	FindInstallations(ctx context.Context, q Query) (*Page[Installation], error)

	// ExportModule returns a module with the chosen versions in the
	// transfer format. Errors: CodeNotFound, CodeValidation for a version
	// of another module.
	ExportModule(ctx context.Context, id uuid.UUID, opts ModuleExportOptions) (*ModuleTransfer, error)
	// ImportModule creates a module from the transfer format, in one
	// transaction; a taken name gets the suffix "-imported". Errors as
	// CreateModule.
	ImportModule(ctx context.Context, in ModuleTransfer) (*Module, error)

	// FindExecutions searches the events that recorded runs of a command,
	// hook or cron job, successful ones or failed ones. Errors:
	// CodeValidation.
	FindExecutions(ctx context.Context, kind ExecutionKind, id uuid.UUID, success bool, q Query) (*Page[Event], error)
}
