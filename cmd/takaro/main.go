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
	// badFlags records that a flag set rejected the command line.
	badFlags bool
}

// command is a subcommand: its name, what it does, and how to run it.
type command struct {
	name, summary string
	run           func(ctx context.Context, a *app, args []string) error
}

// commands lists every subcommand, in the order help shows them.
var commands = []command{
	{"serve", "run the REST API server", runServe},
	{"db migrate", "apply every pending migration (alias: db:migrate)", runMigrate},
	{"db rollback", "roll back the latest applied migration (alias: db:rollback)", runRollback},
	{"db status", "list every migration with its state", runStatus},
	{"db distribute", "distribute the tables by domain on a Citus coordinator (reference tables, colocated shards)", runDistribute},
	{"db create", "create a new migration file in the source tree: db create NAME", runCreate},
	{"db rotate-key", "re-encrypt every value still under a previous key with the current key", runRotateKey},
	{"db verify-encryption", "check that every encrypted value can be decrypted", runVerifyEncryption},
	{"db doctor", "check the database's security and configuration", runDoctor},
	{"bench", "measure the API against the same SQL sent directly, over loopback", runBench},
	{"config", "print the configuration, secrets redacted", runConfig},
}

// aliases are the reference platform's script names.
var aliases = map[string][]string{
	"db:migrate":  {"db", "migrate"},
	"db:rollback": {"db", "rollback"},
}

// errUsage marks errors in how takaro was invoked (exit status 2).
var errUsage = errors.New("usage")

func (a *app) run(ctx context.Context, args []string) int {
	if len(args) > 0 {
		if expanded, ok := aliases[args[0]]; ok {
			args = append(expanded, args[1:]...)
		}
	}
	cmd, rest := findCommand(args)
	if cmd == nil {
		a.usage()
		if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			return 0
		}
		return 2
	}
	cfg, err := loadConfig(a.getenv)
	if err != nil {
		fmt.Fprintf(a.stderr, "takaro: configuration: %v\n", err)
		return 1
	}
	a.cfg = cfg
	a.log = newLogger(a.stderr, cfg)
	if err := cmd.run(ctx, a, rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(a.stderr, "takaro %s: %v\n", cmd.name, err)
		if errors.Is(err, errUsage) || a.badFlags {
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
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			return c, args[len(words):]
		}
	}
	return nil, nil
}

func (a *app) usage() {
	fmt.Fprintln(a.stderr, "usage: takaro <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(a.stderr, "  %-22s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(a.stderr, "\nRun takaro <command> -h for the flags of a command. With no database configured,\ntakaro starts and uses its own PostgreSQL cluster (see the README).")
}

// flagSet returns the flag set of a command, writing its help to stderr.
// A command line that it rejects (an unknown flag, a bad value) makes the
// command exit with status 2, like any other usage error.
func (a *app) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("takaro "+name, flag.ContinueOnError)
	fs.SetOutput(a.stderr)
	fs.Usage = func() {
		a.badFlags = true // flag calls Usage on -h too, which then exits 0 (flag.ErrHelp)
		fmt.Fprintf(a.stderr, "Usage of takaro %s:\n", name)
		fs.PrintDefaults()
	}
	return fs
}

func newLogger(w io.Writer, cfg *Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runConfig(_ context.Context, a *app, args []string) error {
	fs := a.flagSet("config")
	a.cfg.registerDBFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: config takes no arguments, not %q", errUsage, fs.Arg(0))
	}
	a.cfg.writeTo(a.stdout)
	return nil
}
