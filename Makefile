# Thin wrapper around Meson. `make run` and `make test` are the README's
# two set-up commands; each installs what it needs first (scripts/deps:
# `run` only what builds and runs petrel, `test` and `bench` their peers).

PYTHON  ?= /usr/bin/python3
BUILD   ?= build
ASAN    ?= build-asan
FUZZ    ?= build-fuzz
FUZZ_SECONDS ?= 20

.PHONY: all install deps run test unit integration asan fuzz fuzz-smoke bench docs format clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

$(ASAN)/build.ninja:
	meson setup $(ASAN) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dtest_hooks=true \
	  -Dc_args=-fno-sanitize-recover=undefined

$(FUZZ)/build.ninja:
	CC=clang meson setup $(FUZZ) --buildtype=debug -Dfuzz=true -Db_lundef=false

# build/petrel to /usr/local/bin/petrel (meson's prefix, /usr/local by default)
install: all
	meson install -C $(BUILD) --no-rebuild --tags runtime

deps:
	./scripts/deps all

run:
	./scripts/deps run
	$(MAKE) all
	./$(BUILD)/petrel serve

asan: $(ASAN)/build.ninja
	ninja -C $(ASAN)

unit: all
	meson test -C $(BUILD) --print-errorlogs

integration: all
	PETREL_BIN=$(CURDIR)/$(BUILD)/petrel $(PYTHON) -m pytest -q tests/integration

# The whole suite: the folder layering, unit + integration on the normal
# build, the same again under AddressSanitizer + UBSan, then every fuzz
# target briefly.
test:
	./scripts/deps test
	$(MAKE) all asan fuzz
	./scripts/check-layers
	meson test -C $(BUILD) --print-errorlogs
	PETREL_BIN=$(CURDIR)/$(BUILD)/petrel $(PYTHON) -m pytest -q tests/integration
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN) --print-errorlogs
	PETREL_SANITIZED=1 PETREL_BIN=$(CURDIR)/$(ASAN)/petrel \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(PYTHON) -m pytest -q tests/integration
	./tests/fuzz/run-all $(FUZZ) $(FUZZ_SECONDS)

# The key reference in docs/configuration.md, from the configuration
# tables (meson's config-docs test fails while the two differ).
docs: all
	./scripts/check-config-docs $(BUILD)/config-reference docs/configuration.md --write

fuzz: $(FUZZ)/build.ninja
	ninja -C $(FUZZ)

bench:
	./scripts/deps bench
	$(MAKE) all
	./bench/smtp-in
	./bench/smtp-out
	./bench/dns
	./bench/auth
	./bench/memory
	./bench/imap
	./bench/mime

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
