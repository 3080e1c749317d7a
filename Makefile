# The two commands a user needs: `make run` and `make test`. Everything comes through go.mod.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 30s

.PHONY: run test build lint fuzz clean

## run: start the embedded reference and send it the seed's example request
run:
	$(GO) run -ldflags "$(LDFLAGS)" ./runner example

## test: lint, then every test with the race detector (fuzz tests run their seed corpus)
test: lint
	$(GO) test -race -count=1 ./...

## build: the self-contained binary bin/cipconform
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/cipconform ./runner

## lint: gofmt check and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## fuzz: explore the reference's request handling beyond the seed corpus
fuzz:
	$(GO) test ./fixtures/reference -run '^$$' -fuzz FuzzRequestHandling -fuzztime $(FUZZTIME)

clean:
	rm -rf bin reports
