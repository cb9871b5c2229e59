// Command takaro is the data core of a multi-tenant game-server management
// platform: it owns the PostgreSQL schema (migrations, encryption keys)
// and serves the REST API over it.
//
// Run `takaro help` for the commands. Configuration comes from the
// environment (see config.go and the README); flags override it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"

	"github.com/gotakaro/takaro/postgres"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	a := &app{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr, migrations: postgres.Migrations()}
	code := a.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// app is one invocation of the program. Tests build their own, with other
// output streams, environment or migrations.
type app struct {
	getenv     func(string) string
	stdout     io.Writer
	stderr     io.Writer
	migrations fs.FS
	cfg        *Config
	log        *slog.Logger
	cmd        *command // the command being run
}

// command is a subcommand: its name, what it does, what it reads and how
// to run it.
type command struct {
	name, summary string
	// args names the positional arguments in the usage line; a command
	// with none refuses any.
	args string
	// db marks a command that works on a database: it takes the database
	// flags and reads the database variables.
	db bool
	// env lists the variables it reads besides the database's.
	env []string
	// longRunning commands (serve, bench) log the database they use at
	// info level; the others, whose output is their result, at debug.
	longRunning bool
	run         func(ctx context.Context, a *app, args []string) error
}

// The variables that commands read, for their help.
var (
	dbVariables = []string{
		"POSTGRES_CONNECTION_STRING", "POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD",
		"POSTGRES_DB", "POSTGRES_SSL", "POSTGRES_CA", "POSTGRES_CONNECT_TIMEOUT", "POSTGRES_POOL_SIZE",
		"TAKARO_DATA_DIR", "TAKARO_BCRYPT_COST", "LOGGING_LEVEL", "LOGGING_JSON",
	}
	keyVariables   = []string{"POSTGRES_ENCRYPTION_KEY", "POSTGRES_ENCRYPTION_KEY_PREVIOUS", "POSTGRES_ALLOW_INSECURE_TRANSPORT"}
	serveVariables = slices.Concat(keyVariables, []string{"POSTGRES_LISTEN_CONNECTION_STRING", "PORT", "ADMIN_CLIENT_SECRET", "JWT_SECRET", "TAKARO_MIGRATE", "TAKARO_MAINTENANCE_INTERVAL"})
)

// commands lists every subcommand, in the order help shows them.
var commands = []command{
	{name: "serve", summary: "run the REST API server", db: true, env: serveVariables, longRunning: true, run: runServe},
	{name: "db migrate", summary: "apply every pending migration (alias: db:migrate)", db: true, run: runMigrate},
	{name: "db rollback", summary: "roll back the latest applied migration (alias: db:rollback)", db: true, run: runRollback},
	{name: "db status", summary: "list every migration with its state", db: true, run: runStatus},
	{name: "db distribute", summary: "distribute the tables by domain on a Citus coordinator (reference tables, colocated shards)", db: true, run: runDistribute},
	{name: "db create", summary: "create a new migration file in the source tree", args: "NAME", run: runCreate},
	{name: "db rotate-key", summary: "re-encrypt every value still under a previous key with the current key", db: true, env: keyVariables, run: runRotateKey},
	{name: "db verify-encryption", summary: "check that every encrypted value can be decrypted", db: true, env: keyVariables, run: runVerifyEncryption},
	{name: "db maintain", summary: "run one maintenance pass now: retention, expiries, purges (--dry-run: only report)", db: true, run: runMaintain},
	{name: "db doctor", summary: "check the database's security and configuration", db: true, env: keyVariables, run: runDoctor},
	{name: "bench", summary: "measure the API against the same SQL sent directly, over loopback", db: true, env: serveVariables, longRunning: true, run: runBench},
	{name: "config", summary: "print the effective configuration and where each value came from, secrets redacted", db: true, env: serveVariables, run: runConfig},
	{name: "version", summary: "print the version, the commit it was built from and the Go version", run: runVersion},
	{name: "help", summary: "print this list, or the flags and environment variables of one command", args: "[COMMAND]"},
}

// aliases are the reference platform's script names, and the usual
// spellings of help and version.
var aliases = map[string][]string{
	"db:migrate":  {"db", "migrate"},
	"db:rollback": {"db", "rollback"},
	"-h":          {"help"},
	"-help":       {"help"},
	"--help":      {"help"},
	"-version":    {"version"},
	"--version":   {"version"},
}

// errUsage marks errors in how takaro was invoked (exit status 2).
var errUsage = errors.New("usage")

func (a *app) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		args = []string{"help"}
	}
	if expanded, ok := aliases[args[0]]; ok {
		args = append(slices.Clone(expanded), args[1:]...)
	}
	help := args[0] == "help"
	if help {
		if len(args) == 1 {
			a.usage()
			return 0
		}
		args = args[1:]
	}
	cmd, rest := findCommand(args)
	if cmd == nil || (help && len(rest) > 0) {
		fmt.Fprintf(a.stderr, "takaro: unknown command %q; run takaro help for the list\n", strings.Join(args, " "))
		return 2
	}
	if help { // the command's own -h, before any other work
		rest = []string{"-h"}
	}
	cfg, err := loadConfig(a.getenv)
	if err != nil && !help {
		fmt.Fprintf(a.stderr, "takaro: configuration: %v\n", err)
		return 1
	}
	a.cfg, a.cmd = cfg, cmd
	a.log = newLogger(a.stderr, cfg)
	if err := cmd.run(ctx, a, rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(a.stderr, "takaro %s: %v\n", cmd.name, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

// findCommand matches the longest command name at the start of args.
func findCommand(args []string) (*command, []string) {
	for i := range commands {
		c := &commands[i]
		words := strings.Fields(c.name)
		if c.run != nil && len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return c, args[len(words):]
		}
	}
	return nil, nil
}

// usage prints the commands, one line each.
func (a *app) usage() {
	fmt.Fprintln(a.stdout, "usage: takaro <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(a.stdout, "  %-22s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintln(a.stdout, "\nRun takaro help <command> (or takaro <command> -h) for its flags and environment variables.\n"+
		"With no database configured, takaro starts and uses its own PostgreSQL cluster (see the README).")
}

// help prints a command's usage, flags and environment variables.
func (c *command) help(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: takaro %s [flags] %s\n\n%s\n", c.name, c.args, c.summary)
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		fmt.Fprintln(w, "\nflags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	env := c.env
	if c.db {
		env = slices.Concat(dbVariables, env)
	}
	if len(env) > 0 {
		slices.Sort(env)
		env = slices.Compact(env)
		fmt.Fprintf(w, "\nenvironment (flags override it; a secret may also be read from the file named by <NAME>_FILE):\n  %s\n",
			strings.Join(env, "\n  "))
	}
}

// parseFlags parses the command line of a.cmd, wherever its flags are:
// the database flags if the command takes them, those define adds, then
// the configuration is validated, all before any database work. It
// returns the positional arguments, refusing any for a command that takes
// none. With -h it prints the command's help to stdout and returns
// flag.ErrHelp.
func (a *app) parseFlags(args []string, define func(fs *flag.FlagSet)) ([]string, error) {
	c := a.cmd
	fs := flag.NewFlagSet("takaro "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, help goes to stdout
	if c.db {
		a.cfg.registerDBFlags(fs)
	}
	if define != nil {
		define(fs)
	}
	rest, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		c.help(a.stdout, fs)
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w (takaro help %s lists the flags)", errUsage, err, c.name)
	}
	if c.args == "" && len(rest) > 0 {
		return nil, fmt.Errorf("%w: %s takes no arguments, not %q", errUsage, c.name, rest[0])
	}
	fs.Visit(func(f *flag.Flag) {
		if name, ok := flagVariables[f.Name]; ok {
			a.cfg.sources[name] = "flag -" + f.Name
		}
	})
	if err := a.cfg.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	return rest, nil
}

func runVersion(_ context.Context, a *app, args []string) error {
	if _, err := a.parseFlags(args, nil); err != nil {
		return err
	}
	version, commit, built := "unknown", "unknown", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				built = " (" + s.Value + ")"
			case "vcs.modified":
				if s.Value == "true" {
					built += ", with uncommitted changes"
				}
			}
		}
	}
	fmt.Fprintf(a.stdout, "takaro %s\ncommit %s%s\n%s %s/%s\n", version, commit, built, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

func newLogger(w io.Writer, cfg *Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runConfig(_ context.Context, a *app, args []string) error {
	if _, err := a.parseFlags(args, nil); err != nil {
		return err
	}
	a.cfg.writeTo(a.stdout)
	return nil
}
