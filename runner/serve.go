package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/fixtures/identity"
	"github.com/cipconform/cipconform/fixtures/mutants"
	"github.com/cipconform/cipconform/suites/config"
)

func serveVerb(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var addr, fault *string
	var machines, perMinute, perHour *int
	var pending, running *time.Duration
	var quiet *bool
	var clients []identity.Client
	cmd := command{name: "serve", about: `
Runs the reference implementation until interrupted (SIGINT or SIGTERM): a local stand-in for
Microsoft Defender for Endpoint. It serves two contracts from one machine state:
  {addr}/testwdatppreview   the 2017 preview contract (the seed; profile preview-2017)
  {addr}/api                today's API (profile mde): POST machines/{id}/collectInvestigationPackage,
                            GET machineactions/{id}, POST machineactions/{id}/cancel, GET machines
and a client-credentials token endpoint, as Microsoft Entra ID's:
  POST {addr}/{tenant}/oauth2/token       (resource=https://api.securitycenter.microsoft.com)
  POST {addr}/{tenant}/oauth2/v2.0/token  (scope=https://api.securitycenter.microsoft.com/.default)
issuing tokens whose roles claim holds the permissions of a client given by --client or
--client-file (Machine.CollectForensics to collect and cancel, Machine.Read.All to read).

It prints the base URLs, the token endpoint, and its machine ids and a token per role as CIP_
variables, ready to paste into the shell that runs the suites against it. Printed tokens are
valid for 12 hours, those of the token endpoint for an hour.

Example:
  cipconform serve --client my-app:my-secret-123:Machine.CollectForensics,Machine.Read.All \
                   --pending 5s --running 1m`,
		bind: func(fs *flag.FlagSet) {
			addr = fs.String("addr", "127.0.0.1:8080", "`HOST:PORT` to listen on (port 0 picks a free one)")
			machines = fs.Int("machines", 64, "how many machines exist on the server")
			pending = fs.Duration("pending", 2*time.Second, "how long a new collection stays Pending")
			running = fs.Duration("running", 20*time.Second, "how long a collection then stays InProgress (a machine takes no new collection meanwhile)")
			perMinute = fs.Int("per-minute", 100, "calls per minute per caller before 429 (documented: 100; -1: no limit)")
			perHour = fs.Int("per-hour", 1500, "calls per hour per caller before 429 (documented: 1500; -1: no limit)")
			quiet = fs.Bool("quiet", false, "do not log each request")
			fault = fs.String("fault", "", "serve a faulty (or conformant) variant `NAME` of the reference instead (names: fixtures/mutants/mutants.go, or the self-test's matrix)")
			fs.Func("client", "a client of the token endpoint (repeatable): `ID:SECRET:ROLE[,ROLE...][:DISPLAY NAME]`, the secret of 8+ characters without ':', ID:SECRET: for an app without permission", func(v string) error {
				c, err := identity.ParseClient(v)
				clients = append(clients, c)
				return err
			})
			fs.Func("client-file", "read clients from `FILE`, one --client value a line (# comments); keeps secrets off the command line", func(path string) error {
				f, err := os.Open(path)
				if err != nil {
					return err
				}
				defer f.Close()
				more, err := identity.ParseClients(f)
				clients = append(clients, more...)
				return err
			})
		},
		exits: []exitCode{
			{exitOK, "the server was interrupted and stopped cleanly"},
			{exitUsage, "usage error: an unknown flag or a bad value, an argument, --machines below 1, a bad --client or --fault"},
			{exitCannotDo, "the server could not listen on --addr, or did not stop cleanly"},
		},
	}
	if fs, code := cmd.parse(args, stdout, stderr); fs == nil {
		return code
	}
	seen := map[string]bool{}
	for _, c := range clients {
		if seen[c.ID] {
			fmt.Fprintf(stderr, "serve: client %s is given twice\n", c.ID)
			return exitUsage
		}
		seen[c.ID] = true
	}
	if *machines < 1 {
		fmt.Fprintf(stderr, "serve: --machines %d: want at least 1\n", *machines)
		return exitUsage
	}
	var logger *slog.Logger
	if !*quiet {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	opts := embedded.Options{Addr: *addr, Machines: *machines, PendingFor: *pending, RunningFor: *running, PerMinute: *perMinute, PerHour: *perHour, Log: logger, Clients: clients}
	if *fault != "" {
		m, ok := mutants.Find(*fault)
		if !ok {
			var names []string
			for _, m := range append(mutants.Conformant(), mutants.All()...) {
				names = append(names, m.Name)
			}
			fmt.Fprintf(stderr, "serve: --fault %q: no such variant; the variants are: %s\n", *fault, strings.Join(names, ", "))
			return exitUsage
		}
		opts.Fault = m.Fault
		fmt.Fprintf(stdout, "# Serving the variant %s: %s\n", m.Name, m.Description)
	}
	t, err := embedded.Start(opts)
	if err != nil {
		fmt.Fprintf(stderr, "serve: %v\n", err)
		return exitCannotDo
	}
	fmt.Fprintf(stdout, "# The reference implementation is listening.\n")
	fmt.Fprintf(stdout, "# Preview contract (2017): %s\n", t.BaseURL)
	fmt.Fprintf(stdout, "# Today's API:             %s\n", t.APIBaseURL)
	fmt.Fprintf(stdout, "# Token endpoint (any tenant; authority %s):\n", strings.TrimSuffix(t.TokenURL, "/oauth2/token"))
	fmt.Fprintf(stdout, "#   v1 %s  resource=%s\n", t.TokenURL, identity.DefaultAudience)
	fmt.Fprintf(stdout, "#   v2 %s  scope=%s/.default\n", t.TokenURLv2, identity.DefaultAudience)
	for _, c := range clients {
		fmt.Fprintf(stdout, "#   client %s (%s): roles %s\n", c.ID, c.Name, strings.Join(c.Roles, ","))
	}
	if len(clients) == 0 {
		fmt.Fprintf(stdout, "#   no clients yet: give --client 'ID:SECRET:ROLE[,ROLE...][:NAME]' (or --client-file) to get tokens from it\n")
	}
	fmt.Fprintf(stdout, "# Tokens for today's API: an app with Machine.CollectForensics, then one with Machine.Read.All only:\n")
	fmt.Fprintf(stdout, "#   %s\n#   %s\n", t.Tokens.APIAdmin, t.Tokens.APIReader)
	fmt.Fprintf(stdout, "# Paste these lines into another shell to run the suites against the preview:\n")
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
