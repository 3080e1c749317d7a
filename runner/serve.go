package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/suites/config"
)

func serveVerb(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var addr *string
	var machines, perMinute, perHour *int
	var pending, running *time.Duration
	var quiet *bool
	cmd := command{name: "serve", about: `
Runs the reference implementation of the contract until interrupted (SIGINT or SIGTERM), and
prints its base URL, its machine ids and a token per role as CIP_ variables, ready to paste into
the shell that runs the suites against it. Tokens are valid for 12 hours.`,
		bind: func(fs *flag.FlagSet) {
			addr = fs.String("addr", "127.0.0.1:8080", "`HOST:PORT` to listen on (port 0 picks a free one)")
			machines = fs.Int("machines", 64, "how many machines exist on the server")
			pending = fs.Duration("pending", 2*time.Second, "how long a new collection stays Pending")
			running = fs.Duration("running", 20*time.Second, "how long a collection then stays InProgress (a machine takes no new collection meanwhile)")
			perMinute = fs.Int("per-minute", 100, "calls per minute per caller before 429 (documented: 100; -1: no limit)")
			perHour = fs.Int("per-hour", 1500, "calls per hour per caller before 429 (documented: 1500; -1: no limit)")
			quiet = fs.Bool("quiet", false, "do not log each request")
		},
		exits: []exitCode{
			{exitOK, "the server was interrupted and stopped cleanly"},
			{exitUsage, "usage error: an unknown flag or a bad value, an argument, --machines below 1"},
			{exitCannotDo, "the server could not listen on --addr, or did not stop cleanly"},
		},
	}
	if fs, code := cmd.parse(args, stdout, stderr); fs == nil {
		return code
	}
	if *machines < 1 {
		fmt.Fprintf(stderr, "serve: --machines %d: want at least 1\n", *machines)
		return exitUsage
	}
	var logger *slog.Logger
	if !*quiet {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	t, err := embedded.Start(embedded.Options{Addr: *addr, Machines: *machines, PendingFor: *pending, RunningFor: *running, PerMinute: *perMinute, PerHour: *perHour, Log: logger})
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return exitCannotDo
	}
	fmt.Fprintf(stdout, "# The reference implementation is listening. Paste these lines into another shell:\n")
	fmt.Fprintf(stdout, "export CIP_TARGET=%s\n", t.BaseURL)
	fmt.Fprintf(stdout, "export CIP_MACHINE_IDS=%s\n", strings.Join(t.Machines, ","))
	for _, role := range config.Roles {
		fmt.Fprintf(stdout, "export %s=%s\n", role.TokenEnv(), role.Minted(t.Tokens))
	}
	fmt.Fprintf(stdout, "# Press Ctrl-C to stop.\n")
	<-ctx.Done()
	if err := t.Close(); err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return exitCannotDo
	}
	return exitOK
}
