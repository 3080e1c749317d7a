package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// command is the command line of one verb: what its --help says, its flags, its positional
// arguments and the exit codes it can return. parse is the one prologue every verb shares.
type command struct {
	name  string
	args  []string // the positional arguments, exactly these many: "BASELINE", "CURRENT"
	about string   // what the verb does, printed after the usage line
	bind  func(fs *flag.FlagSet)
	notes string     // printed after the flags, e.g. configHelp
	exits []exitCode // the codes this verb can return; parse's own exit 2 is added if missing
}

// exitCode is one exit code of a verb and what it means there.
type exitCode struct {
	code    int
	meaning string
}

// usageError is the exit 2 of a verb whose only usage errors are its command line's.
var usageError = exitCode{exitUsage, "usage error: an unknown flag or a bad value, a missing or extra argument"}

// parse parses a verb's arguments. With -h or --help it prints the verb's help to stdout and
// returns a nil FlagSet and exit 0; on a flag or argument error it says so on stderr and returns
// a nil FlagSet and exit 2. Otherwise it returns the parsed FlagSet.
func (c command) parse(args []string, stdout, stderr io.Writer) (*flag.FlagSet, int) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(stderr) // the flag package's own error messages
	fs.Usage = func() {}
	if c.bind != nil {
		c.bind(fs)
	}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.usage(fs, stdout)
		return nil, exitOK
	case err != nil:
		fmt.Fprintf(stderr, "%s: see cipconform %s --help\n", c.name, c.name)
		return nil, exitUsage
	}
	if fs.NArg() != len(c.args) {
		if len(c.args) == 0 {
			fmt.Fprintf(stderr, "%s: unexpected arguments %q (flags come before arguments; see cipconform %s --help)\n", c.name, fs.Args(), c.name)
		} else {
			hint := ""
			if slices.ContainsFunc(fs.Args()[min(len(c.args), fs.NArg()):], func(a string) bool { return strings.HasPrefix(a, "-") }) {
				hint = "; flags come before " + strings.Join(c.args, " ")
			}
			fmt.Fprintf(stderr, "%s: want %d arguments: %s, got %d%s (see cipconform %s --help)\n", c.name, len(c.args), strings.Join(c.args, " "), fs.NArg(), hint, c.name)
		}
		return nil, exitUsage
	}
	return fs, exitOK
}

// usage prints the verb's help: the usage line, what it does, its flags, the notes and its
// exit codes.
func (c command) usage(fs *flag.FlagSet, w io.Writer) {
	line := "cipconform " + c.name
	hasFlags := false
	fs.VisitAll(func(*flag.Flag) { hasFlags = true })
	if hasFlags {
		line += " [flags]"
	}
	if len(c.args) > 0 {
		line += " " + strings.Join(c.args, " ")
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", line, strings.TrimSpace(c.about))
	if hasFlags {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprint(w, c.notes)
	fmt.Fprint(w, c.exitHelp())
}

// exitHelp lists the verb's exit codes, in order.
func (c command) exitHelp() string {
	exits := slices.Clone(c.exits)
	if !slices.ContainsFunc(exits, func(e exitCode) bool { return e.code == exitUsage }) {
		exits = append(exits, usageError)
	}
	slices.SortStableFunc(exits, func(a, b exitCode) int { return a.code - b.code })
	var b strings.Builder
	b.WriteString("\nExit codes:\n")
	for _, e := range exits {
		fmt.Fprintf(&b, "  %d  %s\n", e.code, strings.ReplaceAll(e.meaning, "\n", "\n     "))
	}
	return b.String()
}
