// Command cipconform is the conformance harness for the Collect investigation package API.
// See `cipconform --help`.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes. They are documented in README.md and in --help.
const (
	exitOK       = 0 // the job was done and passed
	exitFailed   = 1 // conformance failures
	exitUsage    = 2 // usage or configuration error
	exitCannotDo = 3 // the job could not be done (target unreachable, server failed)
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type verb struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func verbs() []verb {
	return []verb{
		{"run", "run the checks against a target (default: the embedded reference) and write reports", runVerb},
		{"plan", "show what run would do with this configuration: each check and its requests; sends nothing", planVerb},
		{"checks", "print the check catalogue as Markdown (CHECKS.md)", checksVerb},
		{"settings", "print every setting, its CIP_ variable and flag, as Markdown (CONFIG.md)", settingsVerb},
		{"diff", "compare two results.json offline: regressions, fixes, changes explained by the spec", diffVerb},
		{"spec-diff", "print the changes between two versions of the spec, breaking first", specDiffVerb},
		{"selftest", "prove every check can fail: the suite against the reference, conformant variants and mutants", selftestVerb},
		{"proxy", "a reverse proxy that judges a client's real traffic against the contract, and reports it", proxyVerb},
		{"observe", "judge recorded traffic (a HAR file) against the contract, offline, and report it", observeVerb},
		{"serve", "run the reference implementation and print the CIP_ variables to test it", serveVerb},
		{"version", "print the version and the digest of the embedded spec", versionVerb},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return exitOK
	case "--version":
		return versionVerb(ctx, nil, stdout, stderr)
	}
	for _, v := range verbs() {
		if v.name == args[0] {
			return v.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "cipconform: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "cipconform - conformance harness for the Defender ATP \"Collect investigation package\" API")
	fmt.Fprintln(w, "\nUsage: cipconform COMMAND [flags]   (cipconform COMMAND --help for a command's flags)")
	fmt.Fprintln(w, "\nCommands:")
	for _, v := range verbs() {
		fmt.Fprintf(w, "  %-10s %s\n", v.name, v.summary)
	}
	fmt.Fprint(w, exitCodesHelp)
}

const exitCodesHelp = `
Exit codes (COMMAND --help says which a command returns, and what they mean for it):
  0  done, and every MUST check passed
  1  conformance failures
  2  usage or configuration error
  3  the job could not be done (target unreachable, every check errored or skipped, a server failed)
`
