package main

import (
	"fmt"
	"io"

	"github.com/cipconform/cipconform/spec"
)

func versionVerb(stdout io.Writer) int {
	c, err := spec.Load()
	if err != nil {
		fmt.Fprintf(stdout, "cipconform %s (embedded spec invalid: %v)\n", version, err)
		return exitCannotDo
	}
	fmt.Fprintf(stdout, "cipconform %s\nspec %s %s\n", version, c.OpenAPI().Info.Version, c.Digest())
	return exitOK
}
