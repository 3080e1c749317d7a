package main

import (
	"context"
	"fmt"
	"io"

	"github.com/cipconform/cipconform/spec"
)

func versionVerb(_ context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := command{name: "version", about: "Prints the version of cipconform and the version and digest of the embedded spec.",
		exits: []exitCode{{exitOK, "the version was printed"}, usageError, {exitCannotDo, "the embedded spec is invalid"}}}
	if fs, code := cmd.parse(args, stdout, stderr); fs == nil {
		return code
	}
	fmt.Fprintf(stdout, "cipconform %s\n", version)
	for _, p := range spec.Profiles() {
		c, err := p.Contract()
		if err != nil {
			fmt.Fprintf(stdout, "profile %s: embedded spec invalid: %v\n", p.Name, err)
			return exitCannotDo
		}
		fmt.Fprintf(stdout, "profile %s: spec %s %s\n", p.Name, c.OpenAPI().Info.Version, c.Digest())
	}
	return exitOK
}
