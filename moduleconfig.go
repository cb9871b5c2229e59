package takaro

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The configuration of a module installation is checked with JSON Schema
// (github.com/santhosh-tekuri/jsonschema/v6): the user config against the
// version's own config schema, the system config against a schema derived
// from the version's commands, hooks and cron jobs. Schemas are draft-07
// unless they name another draft in $schema, and may never load anything:
// a $ref to a URL or a file is refused.

// DefaultConfigSchema is the config schema of a version created without
// one: an object with no properties.
const DefaultConfigSchema = `{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{},"required":[],"additionalProperties":false}`

// schemaPrinter writes the validator's messages in English.
var schemaPrinter = message.NewPrinter(language.English)

// noLoader refuses every external schema, so a config schema can make the
// server fetch neither URLs nor local files.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("loading %s is not allowed; a config schema must be self-contained", url)
}

// compileSchema compiles a JSON Schema given as JSON text.
func compileSchema(text string) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, errors.New("is not valid JSON")
	}
	if _, ok := doc.(map[string]any); !ok {
		return nil, errors.New("must be a JSON object")
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	c.UseLoader(noLoader{})
	const url = "config-schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// ValidateConfigSchema checks that text is a JSON Schema; field names the
// input it came from.
func ValidateConfigSchema(field, text string) error {
	if _, err := compileSchema(text); err != nil {
		return Invalid(field, "is not a valid JSON Schema: %s", schemaErrorText(err))
	}
	return nil
}

// schemaErrorText describes why a schema does not compile, without the
// library's internal URLs.
func schemaErrorText(err error) string {
	var sv *jsonschema.SchemaValidationError
	if errors.As(err, &sv) {
		if ve, ok := errors.AsType[*jsonschema.ValidationError](sv.Err); ok {
			leaves := validationLeaves(ve)
			if len(leaves) > 0 {
				l := leaves[0]
				return "at " + cmpOr(strings.Join(l.InstanceLocation, "/"), "the top") + ": " + l.ErrorKind.LocalizedString(schemaPrinter)
			}
		}
	}
	msg := err.Error()
	msg = strings.ReplaceAll(msg, "file:///", "")
	return msg
}

func cmpOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// validationLeaves returns the innermost errors of a validation error.
func validationLeaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, validationLeaves(c)...)
	}
	return out
}

// ValidateConfig checks config (a JSON object) against schema (JSON text),
// after filling in the schema's defaults, and returns the completed config
// as JSON. A failure is a validation error that names every failing path,
// as field.path.to.value.
func ValidateConfig(field, schema string, config map[string]any) (json.RawMessage, error) {
	sch, err := compileSchema(schema)
	if err != nil {
		return nil, Invalid(field, "cannot be checked: the schema is invalid: %s", schemaErrorText(err))
	}
	var schemaDoc map[string]any
	if err := json.Unmarshal([]byte(schema), &schemaDoc); err != nil {
		return nil, err
	}
	fillDefaults(schemaDoc, config)
	// The validator wants numbers as json.Number or float64; a round trip
	// gives it exactly what a client sent.
	data, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		out := &Error{Code: CodeValidation}
		var msgs []string
		for _, l := range validationLeaves(ve) {
			path := field
			for _, p := range l.InstanceLocation {
				path += "." + p
			}
			msg := l.ErrorKind.LocalizedString(schemaPrinter)
			out.Details = append(out.Details, FieldError{Field: path, Message: msg})
			msgs = append(msgs, path+" "+msg)
		}
		out.Message = "Invalid config: " + strings.Join(msgs, ", ")
		return nil, out
	}
	return data, nil
}

// fillDefaults adds to an object the defaults its schema gives its absent
// properties, at every depth of nested object schemas, as the reference's
// validator does before checking.
func fillDefaults(schema map[string]any, obj map[string]any) {
	props, _ := schema["properties"].(map[string]any)
	for name, p := range props {
		ps, ok := p.(map[string]any)
		if !ok {
			continue
		}
		if _, present := obj[name]; !present {
			if def, has := ps["default"]; has {
				obj[name] = deepCopyJSON(def)
			}
		}
		if child, ok := obj[name].(map[string]any); ok {
			fillDefaults(ps, child)
		}
	}
}

func deepCopyJSON(v any) any {
	data, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(data, &out)
	return out
}

// SystemConfigSchema derives the JSON Schema of an installation's system
// config from a version's parts: enabled for the whole installation, and
// per cron job, hook and command its switches, delays, cooldowns, costs,
// aliases and schedule override. The shape is the reference's.
func SystemConfigSchema(commands []Command, hooks []Hook, cronJobs []CronJob) json.RawMessage {
	type obj = map[string]any
	boolean := func(def bool, desc string) obj { return obj{"type": "boolean", "default": def, "description": desc} }
	number := func(max float64, desc string) obj {
		o := obj{"type": "number", "default": 0, "minimum": 0, "description": desc}
		if max > 0 {
			o["maximum"] = max
		}
		return o
	}
	group := func(desc string, entries obj) obj {
		return obj{"type": "object", "default": obj{}, "required": []string{}, "description": desc, "properties": entries}
	}
	required := []string{}
	props := obj{"enabled": boolean(true, "Enable or disable the module on this game server.")}
	if len(cronJobs) > 0 {
		entries := obj{}
		for _, c := range cronJobs {
			entries[c.Name] = obj{"type": "object", "default": obj{}, "required": []string{}, "properties": obj{
				"enabled":       boolean(true, "Enable or disable this cron job."),
				"temporalValue": obj{"type": "string", "default": c.TemporalValue, "description": "When the cron job runs, as a cron expression."},
			}}
		}
		props["cronJobs"] = group("Cron jobs of the module.", entries)
		required = append(required, "cronJobs")
	}
	if len(hooks) > 0 {
		entries := obj{}
		discord := false
		for _, h := range hooks {
			hp := obj{
				"enabled":      boolean(true, "Enable or disable this hook."),
				"delay":        number(86400, "Seconds to wait before the hook runs."),
				"cooldown":     number(86400, "Seconds before the hook can run again."),
				"cooldownType": obj{"type": "string", "enum": []string{"player", "server", "global"}, "default": "player", "description": "Whom the cooldown applies to."},
			}
			req := []string{}
			if h.EventType == HookEventDiscordMessage {
				hp["discordChannelId"] = obj{"type": "string", "description": "The Discord channel the hook listens to."}
				req = append(req, "discordChannelId")
				discord = true
			}
			entries[h.Name] = obj{"type": "object", "default": obj{}, "required": req, "properties": hp}
		}
		props["hooks"] = group("Hooks of the module.", entries)
		if discord {
			required = append(required, "hooks")
		}
	}
	if len(commands) > 0 {
		entries := obj{}
		for _, c := range commands {
			entries[c.Name] = obj{"type": "object", "default": obj{}, "required": []string{}, "properties": obj{
				"enabled":       boolean(true, "Enable or disable this command."),
				"delay":         number(86400, "Seconds to wait before the command runs."),
				"announceDelay": boolean(true, "Tell the player about the delay."),
				"cooldown":      number(604800, "Seconds before a player can run the command again."),
				"cost":          number(0, "Currency the command costs."),
				"aliases":       obj{"type": "array", "items": obj{"type": "string"}, "description": "Other triggers of the command."},
			}}
		}
		props["commands"] = group("Commands of the module.", entries)
		required = append(required, "commands")
	}
	out, _ := json.Marshal(obj{ // maps of strings, numbers and booleans always marshal
		"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": false,
		"required": required, "properties": props,
	})
	return out
}
