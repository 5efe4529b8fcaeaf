# massagebot: one flat Makefile.  `make` builds build/massagebot (optimised),
# `make test` builds a sanitized copy under build/san/ and runs every test.
# Missing Debian packages are installed by the `deps` step (apt-get).

VERSION    := 0.1.0
CC         ?= cc
PKGS       := libwebsockets libcurl jansson yaml-0.1 libsystemd
DEB_PKGS   := gcc make pkg-config libc6-dev libcurl4-openssl-dev libjansson-dev \
              libwebsockets-dev libcmocka-dev libyaml-dev libstemmer-dev \
              libsystemd-dev python3 python3-websockets ca-certificates \
              wamerican wbritish
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

WARN       := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wpointer-arith -Wcast-qual -Wformat=2 -Wundef -Wvla -Werror
BASEFLAGS  := -std=c17 -D_GNU_SOURCE -DMB_VERSION='"$(VERSION)"' -g $(WARN)
OPT        := -O2
SANFLAGS   := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all

# Sources: the pure core, the edges, the adapters, the wiring.
CORE_SRC   := xmem strbuf hmap utf8 text kb_parse match safety knowledge reply answer \
              config_parse discord_proto
EDGE_SRC   := log config kb bot adapter adapter_console
APP_SRC    := cli main
ALL_SRC    := $(CORE_SRC) $(EDGE_SRC) $(APP_SRC)
LIB_SRC    := $(CORE_SRC) $(EDGE_SRC) cli

TESTS      := test_text test_kb_parse test_match test_safety test_reply test_config \
              test_discord_proto

ifeq ($(filter clean distclean deps,$(MAKECMDGOALS)),)
-include build/flags.mk
endif

.PHONY: all run test clean deps check-deps
all: build/massagebot

# Installs the Debian packages that are missing (apt-get update once).
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

build/flags.mk: Makefile
	@$(MAKE) --no-print-directory deps
	@mkdir -p build/san build/tests
	@test -f /usr/include/libstemmer.h || { echo "libstemmer.h missing"; exit 1; }
	@{ echo "PKG_CFLAGS := $$(pkg-config --cflags $(PKGS))"; \
	   echo "PKG_LIBS := $$(pkg-config --libs $(PKGS)) -lstemmer -lpthread -lm"; \
	   echo "CMOCKA_LIBS := $$(pkg-config --libs cmocka)"; } > $@

CFLAGS_OPT := $(BASEFLAGS) $(OPT) $(PKG_CFLAGS)
CFLAGS_SAN := $(BASEFLAGS) $(SANFLAGS) $(PKG_CFLAGS)

build/%.o: bot/%.c bot/*.h build/flags.mk
	$(CC) $(CFLAGS_OPT) -c -o $@ $<

build/san/%.o: bot/%.c bot/*.h build/flags.mk
	$(CC) $(CFLAGS_SAN) -c -o $@ $<

build/massagebot: $(ALL_SRC:%=build/%.o)
	$(CC) $(CFLAGS_OPT) -o $@ $^ $(PKG_LIBS)

build/san/massagebot: $(ALL_SRC:%=build/san/%.o)
	$(CC) $(CFLAGS_SAN) -o $@ $^ $(PKG_LIBS)

build/tests/%: tests/%.c $(LIB_SRC:%=build/san/%.o) tests/*.h
	$(CC) $(CFLAGS_SAN) -Ibot -o $@ $< $(LIB_SRC:%=build/san/%.o) $(PKG_LIBS) $(CMOCKA_LIBS)

# Starts the bot: Discord when a token is configured, else the console chat.
run: build/massagebot
	./build/massagebot run

test: build/san/massagebot $(TESTS:%=build/tests/%)
	@rc=0; for t in $(TESTS); do \
	  echo "== $$t"; ./build/tests/$$t || { echo "FAIL $$t"; rc=1; }; \
	done; \
	for s in tests/*.sh; do \
	  echo "== $$s"; MB=build/san/massagebot bash $$s || { echo "FAIL $$s"; rc=1; }; \
	done; \
	if [ $$rc -eq 0 ]; then echo "all tests passed"; else echo "some tests FAILED"; fi; \
	exit $$rc

# The pure core must not include I/O-layer headers.
check-deps:
	@! grep -lE '#include "(log|config|kb|cli)\.h"|libwebsockets|curl/' \
	  $(CORE_SRC:%=bot/%.c) || { echo "core module includes an edge header"; exit 1; }

clean:
	rm -rf build

# Development: search the matcher constants on the eval set (see bench/tune.c).
build/tune: bench/tune.c $(LIB_SRC:%=build/%.o)
	$(CC) $(CFLAGS_OPT) -Ibot -o $@ $< $(LIB_SRC:%=build/%.o) $(PKG_LIBS)

tune: build/tune
	./build/tune knowledge tests/data/questions.tsv
