package spec_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/cipconform/cipconform/fixtures/seed"
)

// BenchmarkValidateResponse measures judging one 201 response, the work every check does.
func BenchmarkValidateResponse(b *testing.B) {
	op := operation(&testing.T{})
	h := http.Header{"Content-Type": {seed.ExampleContentType}}
	body := seed.ExampleResponse()
	for b.Loop() {
		if v := op.ValidateResponse(context.Background(), nil, 201, h, body); len(v) > 0 {
			b.Fatal(v)
		}
	}
}
