package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cipconform/cipconform/fixtures/embedded"
	"github.com/cipconform/cipconform/fixtures/seed"
	"github.com/cipconform/cipconform/spec"
)

func exampleVerb(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `Usage: cipconform example

Starts the reference implementation on a free loopback port, sends it the seed's example request
with a Security Administrator token, prints the exchange (token redacted) and checks the
response against the spec.`)
		fmt.Fprint(fs.Output(), exitCodesHelp)
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	contract, err := spec.Load()
	if err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		return exitCannotDo
	}
	op, err := contract.Operation(spec.OperationID)
	if err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		return exitCannotDo
	}
	t, err := embedded.Start(embedded.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		return exitCannotDo
	}
	defer t.Close()
	url, err := op.URL(t.BaseURL, map[string]string{"id": t.Machines[0]})
	if err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		return exitCannotDo
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(seed.ExampleRequest()))
	if err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		return exitCannotDo
	}
	req.Header.Set("Content-Type", seed.ExampleContentType)
	req.Header.Set("Authorization", "Bearer "+t.Tokens.Admin)
	fmt.Fprintf(stdout, "POST %s\nAuthorization: Bearer [REDACTED]\nContent-Type: %s\n%s\n", url, seed.ExampleContentType, seed.ExampleRequest())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "example: %v\n", err)
		return exitCannotDo
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		fmt.Fprintf(stderr, "example: read response: %v\n", err)
		return exitCannotDo
	}
	fmt.Fprintf(stdout, "HTTP/1.1 %s\nContent-Type: %s\n%s\n\n", resp.Status, resp.Header.Get("Content-Type"), body)
	violations := op.ValidateResponse(ctx, req, resp.StatusCode, resp.Header, body)
	if resp.StatusCode != http.StatusCreated {
		violations = append(violations, spec.Violation{Where: spec.InStatus, Reason: fmt.Sprintf("status %d, want 201", resp.StatusCode)})
	}
	for _, v := range violations {
		fmt.Fprintf(stdout, "violation: %s\n", v)
	}
	if len(violations) > 0 {
		return exitFailed
	}
	fmt.Fprintln(stdout, "The response conforms to the spec.")
	return exitOK
}
