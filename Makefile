# The two commands a user needs: `make run` and `make test`. Everything comes through go.mod.
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 30s

.PHONY: run test build lint bench fuzz docs selftest clean

## run: build, run every check against the embedded reference, write the reports to reports/
run: build
	bin/cipconform run --report-dir reports

## test: lint, every test with the race detector (CIP_ variables unset: the tests never reach an
## exported target) (fuzz tests run their seed corpus), then the
## self-test, which prints its mutant x check matrix and writes it to reports/selftest/
test: lint
	unset $$(env | sed -n 's/^\(CIP_[A-Za-z0-9_]*\)=.*/\1/p'); $(GO) test -race -count=1 ./...
	$(GO) run ./runner selftest --report-dir reports/selftest

## build: the self-contained binary bin/cipconform
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/cipconform ./runner

## lint: gofmt check and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## bench: the Go benchmarks (performance is measured here, never by timed tests)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: run each fuzz test beyond its seed corpus for FUZZTIME: the reference's request
## handling, response validation, path matching, configuration loading, results.json's indenting,
## the redactor, HAR reading and the proxy's request targets
fuzz:
	$(GO) test ./fixtures/reference -run '^$$' -fuzz FuzzRequestHandling -fuzztime $(FUZZTIME)
	$(GO) test ./spec -run '^$$' -fuzz FuzzValidateResponse -fuzztime $(FUZZTIME)
	$(GO) test ./spec -run '^$$' -fuzz FuzzPathParams -fuzztime $(FUZZTIME)
	$(GO) test ./suites/config -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME)
	$(GO) test ./runner/results -run '^$$' -fuzz FuzzIndent -fuzztime $(FUZZTIME)
	$(GO) test ./suites/redact -run '^$$' -fuzz FuzzFragments -fuzztime $(FUZZTIME)
	$(GO) test ./suites/redact -run '^$$' -fuzz FuzzMatcherIsBruteForce -fuzztime $(FUZZTIME)
	$(GO) test ./suites/observe -run '^$$' -fuzz FuzzReadHAR -fuzztime $(FUZZTIME)
	$(GO) test ./runner -run '^$$' -fuzz FuzzRequestTarget -fuzztime $(FUZZTIME)

## selftest: prove every check can fail (mutants) and raises no false alarm (conformant variants)
selftest:
	$(GO) run ./runner selftest --report-dir reports/selftest

## docs: regenerate CHECKS.md (the catalogue) and CONFIG.md (the settings); tests fail when they are stale
docs:
	$(GO) run ./runner checks > CHECKS.md
	$(GO) run ./runner settings > CONFIG.md

clean:
	rm -rf bin reports
