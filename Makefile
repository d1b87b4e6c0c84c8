# rhizoflex: `make run` starts a demo server, `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := build

GO            ?= go
BIN           := bin/rhizoflex
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS       := -s -w -X github.com/rhizoflex/rhizoflex/server.Version=$(VERSION)
GOLANGCI_VER  := v2.15.0
GOLANGCI      := bin/golangci-lint-$(GOLANGCI_VER)
TEST_POSTGRES ?= postgres://127.0.0.1:5432/test?sslmode=disable
FUZZTIME      ?= 5s
MIGRATION     ?= change
RUN_DIR       ?= data
PORT          ?= 8080
GOBUILD       := $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) .

.PHONY: build run frontend test test-go test-e2e fuzz lint generate check-generate bench clean

node_modules/.package-lock.json: package.json package-lock.json
	@echo "rhizoflex: installing the web app's npm packages (npm ci)"
	npm ci --no-audit --no-fund
	@touch $@

frontend: node_modules/.package-lock.json ## build the SPA into frontend/dist
	@echo "rhizoflex: building the web app (frontend/dist)"
	npm run build

build: frontend ## build bin/rhizoflex with the SPA embedded
	@echo "rhizoflex: building the server ($(BIN)); the first build compiles a few hundred packages and takes a few minutes, later builds take seconds"
	@echo "$(GOBUILD)"
	@start=$$SECONDS; $(GOBUILD) && echo "rhizoflex: built $(BIN) in $$((SECONDS - start)) s"
	@$(GO) build -trimpath -ldflags '-s -w' -o bin/rhizoflex-das ./cmd/rhizoflex-das && echo "rhizoflex: built bin/rhizoflex-das (the das tools alone)"
	@$(GO) build -trimpath -ldflags '-s -w' -o bin/genreader ./examples/sources/genreader && echo "rhizoflex: built bin/genreader (the example reader of examples/sources)"

# `make run` serves on :$(PORT) whatever rhizoflex.yaml or RHIZOFLEX_LISTEN say, so the
# address it prints is the one it listens on: PORT=8081 make run.
run: build ## start with the embedded database and demo data on PORT (default 8080)
	@mkdir -p $(RUN_DIR)
	@echo "rhizoflex: loading the demo data into $(RUN_DIR)/rhizoflex.db"
	RHIZOFLEX_DATABASE_URL=sqlite:$(RUN_DIR)/rhizoflex.db RHIZOFLEX_DATA_DIR=$(RUN_DIR) $(BIN) demo
	@echo "rhizoflex: starting on http://localhost:$(PORT)/  (log in as demo@example.com / demo-password; another port: PORT=8081 make run)"
	RHIZOFLEX_DATABASE_URL=sqlite:$(RUN_DIR)/rhizoflex.db RHIZOFLEX_DATA_DIR=$(RUN_DIR) RHIZOFLEX_SOURCES_DIR=examples/sources $(BIN) serve --listen :$(PORT) --demo-live-interval 1s

test: lint check-generate test-e2e test-go fuzz ## everything CI runs

test-e2e: build ## browser tests of the web pages (Playwright driving /usr/bin/chromium)
	npm run e2e

test-go: frontend
	RHIZOFLEX_TEST_POSTGRES='$(TEST_POSTGRES)' $(GO) test -race -count=1 -timeout 20m ./...

fuzz: ## run every fuzz target briefly
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

$(GOLANGCI):
	@mkdir -p bin
	GOBIN=$(CURDIR)/bin/golangci-tmp $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VER)
	mv bin/golangci-tmp/golangci-lint $@ && rm -rf bin/golangci-tmp

lint: $(GOLANGCI) ## go vet, gofmt, golangci-lint, go mod tidy check
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GOLANGCI) run ./...
	@cp go.mod /tmp/rhizoflex-go.mod.bak; cp go.sum /tmp/rhizoflex-go.sum.bak; $(GO) mod tidy; \
	  if ! git diff --quiet -- go.mod go.sum; then echo "go mod tidy changes go.mod/go.sum"; git diff -- go.mod go.sum | head -20; \
	  cp /tmp/rhizoflex-go.mod.bak go.mod; cp /tmp/rhizoflex-go.sum.bak go.sum; exit 1; fi

generate: node_modules/.package-lock.json ## regenerate ent, gqlgen, the web app's operation types and (if the schema changed) migrations
	$(GO) generate ./ent
	$(GO) tool gqlgen generate
	npm run --silent generate -- --silent
	RHIZOFLEX_DEV_POSTGRES='$(TEST_POSTGRES)' $(GO) run ent/migrate/plan.go $(MIGRATION)

check-generate: generate ## fail if generated code is stale
	@if [ -n "$$(git status --porcelain -- ent graph gqlgen.yml schema.graphql frontend/src/gql codegen.yml)" ]; then \
	  echo "generated code is stale; run 'make generate' and commit:"; git status --porcelain -- ent graph frontend/src/gql; exit 1; fi

bench: ## benchmarks (see docs/BENCHMARKS.md)
	RHIZOFLEX_TEST_POSTGRES='$(TEST_POSTGRES)' $(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

clean:
	rm -rf bin frontend/dist/assets frontend/dist/index.html
