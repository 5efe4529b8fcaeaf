# massagebot: one flat Makefile.  `make` builds build/massagebot (optimised),
# `make test` builds a sanitized copy under build/san/ and runs every test.
# Missing Debian packages are installed by the `deps` steps (apt-get), each
# target asking only for what it needs.

VERSION    := 0.1.0
CC         ?= cc
PKGS       := libwebsockets libcurl openssl jansson yaml-0.1 libsystemd libutf8proc
# Debian packages, like a package's Build-Depends and Depends.  BUILD_PKGS:
# what `make`, `make run` and `make install` need, and what the installed
# service needs on its host (ca-certificates for TLS to Discord, the word
# lists for typo correction, procps for the unit's ExecReload=/bin/kill).
# TEST_PKGS: what `make test` adds (chromium and its font for the web
# widget's browser test; openssl for the Discord tests' throwaway
# certificates, mount for the private mount namespace that stands a test CA
# in for the system's; clang for the fuzz targets, whose seed corpora every
# `make test` replays); FUZZ_PKGS: `make fuzz`; BENCH_PKGS: `make bench`
# and `make soak`.
BUILD_PKGS := gcc make pkg-config libc6-dev libcurl4-openssl-dev libssl-dev libjansson-dev \
              libwebsockets-dev libyaml-dev libstemmer-dev libsystemd-dev libutf8proc-dev \
              ca-certificates wamerican wbritish procps
TEST_PKGS  := libcmocka-dev python3 python3-websockets systemd valgrind clang-format openssl \
              mount chromium fonts-dejavu-core clang libclang-rt-14-dev
FUZZ_PKGS  := clang libclang-rt-14-dev
BENCH_PKGS := python3 python3-websockets openssl
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

WARN       := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wpointer-arith -Wcast-qual -Wformat=2 -Wundef -Wvla -Werror
# The installed layout (deploy/README.md); the binary knows it, so that its
# commands find the installed answers and log by default.
KB_DIR     := /srv/massagebot/knowledge
STATE_DIR  := /var/lib/massagebot
ENV_FILE   := /etc/massagebot/massagebot.env
TOKEN_FILE := /etc/massagebot/discord-token
BASEFLAGS  := -std=c17 -D_GNU_SOURCE -DMB_VERSION='"$(VERSION)"' -DMB_KB_DIR='"$(KB_DIR)"' \
              -DMB_STATE_DIR='"$(STATE_DIR)"' -DMB_ENV_FILE='"$(ENV_FILE)"' \
              -DMB_TOKEN_FILE='"$(TOKEN_FILE)"' -g $(WARN)
OPT        := -O2
SANFLAGS   := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all

# Sources: the pure core, the edges, the adapters, the wiring.
CORE_SRC   := xmem strbuf problems hmap keysort wordset utf8 term text typo kb_parse clinic match safety distress classify knowledge reply answer followup convo report \
              config_parse discord_proto web_proto
EDGE_SRC   := sys log config kb jlog unanswered feedback watch outbox bot adapter adapter_console linein tty runtime
ADAPTER_SRC := tls ws http adapter_discord adapter_web web_assets
APP_SRC    := cli main
ALL_SRC    := $(CORE_SRC) $(EDGE_SRC) $(ADAPTER_SRC) $(APP_SRC)
LIB_SRC    := $(CORE_SRC) $(EDGE_SRC) $(ADAPTER_SRC) cli

TESTS      := test_hmap test_keysort test_log test_outbox test_tls test_text test_kb_parse test_clinic test_match test_safety test_distress test_classify test_reply test_config \
              test_discord_proto test_regress test_unanswered test_term test_report test_web_proto test_convo test_followup

ifeq ($(filter clean distclean deps deps-% print-deps,$(MAKECMDGOALS)),)
-include build/flags.mk
endif

.PHONY: all run test clean deps deps-test deps-fuzz deps-bench print-deps check-deps
all: build/massagebot

# apt_ensure: install the packages of $(1) that are missing (apt-get update
# first, once); prints nothing when all are there.
define apt_ensure
@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$missing"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

# `make deps` installs what building and running need, plus what the other
# targets named with it need (`make deps test`); `make test`, `make fuzz`
# and `make bench` install their own extra packages by themselves.
DEPS_FOR   := $(BUILD_PKGS) \
              $(if $(filter test valgrind,$(MAKECMDGOALS)),$(TEST_PKGS)) \
              $(if $(filter fuzz fuzz-smoke fuzz-build,$(MAKECMDGOALS)),$(FUZZ_PKGS)) \
              $(if $(filter bench soak,$(MAKECMDGOALS)),$(BENCH_PKGS))
deps:
	$(call apt_ensure,$(sort $(DEPS_FOR)))
deps-test:
	$(call apt_ensure,$(TEST_PKGS))
deps-fuzz:
	$(call apt_ensure,$(FUZZ_PKGS))
deps-bench:
	$(call apt_ensure,$(BENCH_PKGS))
# The package lists, one per line (tests/unit.sh checks the unit's tools).
print-deps:
	@echo "build: $(BUILD_PKGS)"; echo "test: $(TEST_PKGS)"; \
	 echo "fuzz: $(FUZZ_PKGS)"; echo "bench: $(BENCH_PKGS)"

build/flags.mk: Makefile
	@$(MAKE) --no-print-directory deps
	@mkdir -p build/san build/tests
	@test -f /usr/include/libstemmer.h || { echo "libstemmer.h missing"; exit 1; }
	@{ echo "PKG_CFLAGS := $$(pkg-config --cflags $(PKGS))"; \
	   echo "PKG_LIBS := $$(pkg-config --libs $(PKGS)) -lstemmer -lpthread -lm"; } > $@

CFLAGS_OPT := $(BASEFLAGS) $(OPT) $(PKG_CFLAGS)
CFLAGS_SAN := $(BASEFLAGS) $(SANFLAGS) $(PKG_CFLAGS)

build/%.o: bot/%.c bot/*.h build/flags.mk
	$(CC) $(CFLAGS_OPT) -c -o $@ $<

build/san/%.o: bot/%.c bot/*.h build/flags.mk
	$(CC) $(CFLAGS_SAN) -c -o $@ $<

# The web chat's files (bot/web/) as C arrays, so that the binary needs no
# file beside it: od from coreutils, nothing to install.
WEB_FILES  := bot/web/index.html bot/web/widget.js
build/web_assets.c: $(WEB_FILES) Makefile
	@mkdir -p build
	@{ echo '/* generated by the Makefile from $(WEB_FILES): do not edit */'; \
	   echo '#include "web_assets.h"'; \
	   for f in $(WEB_FILES); do \
	     echo "static const unsigned char $$(basename $$f | tr '.-' '__')[] = {"; \
	     od -An -v -tx1 "$$f" | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	     echo '};'; \
	   done; \
	   echo 'const struct web_asset web_assets[] = {'; \
	   for f in $(WEB_FILES); do n=$$(basename $$f | tr '.-' '__'); \
	     echo "    {\"$$(basename $$f)\", $$n, sizeof $$n},"; done; \
	   echo '};'; \
	   echo 'const size_t web_nassets = sizeof web_assets / sizeof web_assets[0];'; \
	 } > $@.tmp && mv $@.tmp $@

build/web_assets.o: build/web_assets.c bot/web_assets.h build/flags.mk
	$(CC) $(CFLAGS_OPT) -Ibot -c -o $@ $<

build/san/web_assets.o: build/web_assets.c bot/web_assets.h build/flags.mk
	$(CC) $(CFLAGS_SAN) -Ibot -c -o $@ $<

build/tsan/web_assets.o: build/web_assets.c bot/web_assets.h build/flags.mk
	@mkdir -p build/tsan
	$(CC) $(BASEFLAGS) $(TSANFLAGS) $(PKG_CFLAGS) -Ibot -c -o $@ $<

# GnuTLS, which libcurl loads, looks up this function of ours (bot/http.c)
EXPORTS    := -Wl,--export-dynamic-symbol=_gnutls_global_init_skip

build/massagebot: $(ALL_SRC:%=build/%.o)
	$(CC) $(CFLAGS_OPT) $(EXPORTS) -o $@ $^ $(PKG_LIBS)

build/san/massagebot: $(ALL_SRC:%=build/san/%.o)
	$(CC) $(CFLAGS_SAN) $(EXPORTS) -o $@ $^ $(PKG_LIBS)

build/tests/%: tests/%.c $(LIB_SRC:%=build/san/%.o) tests/*.h | deps-test
	$(CC) $(CFLAGS_SAN) -Ibot -o $@ $< $(LIB_SRC:%=build/san/%.o) $(PKG_LIBS) -lcmocka

# Starts the bot: Discord when a token is configured, else the console chat.
run: build/massagebot
	./build/massagebot run

# The pure core's tests once more without sanitizers, under valgrind.
VG_TESTS   := test_hmap test_keysort test_log test_outbox test_tls test_text test_kb_parse test_clinic test_match test_safety test_distress test_classify test_reply test_config \
              test_discord_proto test_regress test_unanswered test_term test_report test_web_proto test_convo test_followup
build/vg/%: tests/%.c $(LIB_SRC:%=build/%.o) tests/*.h | deps-test
	@mkdir -p build/vg
	$(CC) $(CFLAGS_OPT) -Ibot -o $@ $< $(LIB_SRC:%=build/%.o) $(PKG_LIBS) -lcmocka

.PHONY: valgrind
valgrind: $(VG_TESTS:%=build/vg/%) | deps-test
	@rc=0; for t in $(VG_TESTS); do \
	  echo "== valgrind $$t"; \
	  valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect ./build/vg/$$t >/dev/null 2>build/vg/$$t.log \
	    || { cat build/vg/$$t.log; echo "FAIL valgrind $$t"; rc=1; }; \
	done; exit $$rc

# the fuzz targets (fuzz/README.md); `make test` replays their seed corpora
FUZZ_TARGETS := kb gateway answer dotenv web
test: build/san/massagebot $(TESTS:%=build/tests/%) $(VG_TESTS:%=build/vg/%) \
      $(FUZZ_TARGETS:%=build/fuzz/fuzz_%) | deps-test
	@rc=0; $(MAKE) --no-print-directory check-deps || rc=1; \
	$(MAKE) --no-print-directory format-check || rc=1; \
	$(MAKE) --no-print-directory fuzz-corpus || rc=1; \
	for t in $(TESTS); do \
	  echo "== $$t"; ./build/tests/$$t || { echo "FAIL $$t"; rc=1; }; \
	done; \
	$(MAKE) --no-print-directory valgrind || rc=1; \
	for s in $(filter-out $(SLOW_TESTS),$(wildcard tests/*.sh)); do \
	  echo "== $$s"; MB=build/san/massagebot bash $$s || { echo "FAIL $$s"; rc=1; }; \
	done; \
	if [ $$rc -eq 0 ]; then echo "all tests passed"; else echo "some tests FAILED"; fi; \
	exit $$rc

# Too slow for every `make test`: the README's commands on a freshly
# bootstrapped minimal Debian 12 (root, Debian mirror; minutes).
SLOW_TESTS := tests/minimal-root.sh
.PHONY: minimal-root
minimal-root:
	bash tests/minimal-root.sh

# ThreadSanitizer: a copy built with -fsanitize=thread runs the Discord
# scenarios (the loop, the REST workers, the resolver threads, the knowledge
# watcher publishing while questions are answered: reload_storm); any report
# fails the scenario.  Not part of `make test` (TSan and ASan do not mix).
TSANFLAGS  := -O1 -fsanitize=thread -fno-omit-frame-pointer
build/tsan/%.o: bot/%.c bot/*.h build/flags.mk
	@mkdir -p build/tsan
	$(CC) $(BASEFLAGS) $(TSANFLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/tsan/massagebot: $(ALL_SRC:%=build/tsan/%.o)
	$(CC) $(BASEFLAGS) $(TSANFLAGS) $(EXPORTS) -o $@ $^ $(PKG_LIBS)

.PHONY: tsan
tsan: build/tsan/massagebot
	TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1" MB=build/tsan/massagebot \
	  DISCORD_TEST_JOBS=2 bash tests/discord.sh

# The pure core must not include I/O-layer headers.
check-deps:
	@! grep -lE '#include "(log|config|kb|cli|sys|bot|watch|unanswered|outbox|runtime|adapter|ws|http)\.h"|libwebsockets|curl/' \
	  $(CORE_SRC:%=bot/%.c) $(CORE_SRC:%=bot/%.h) || { echo "core module includes an edge header"; exit 1; }
	@! grep -lE '#include "cli\.h"' bot/*.c bot/*.h | grep -vE '^bot/(cli|main)\.c$$' \
	  || { echo "only cli.c and main.c include cli.h (exit statuses live in bot.h)"; exit 1; }
	@! grep -lE '#include "(adapter|runtime|ws|http|tls)\.h"' bot/*.c bot/*.h | \
	  grep -vE '^bot/(adapter|adapter_[a-z]+|runtime|ws|http|tls|cli)\.[ch]$$' \
	  || { echo "only the platform layer includes adapter.h, runtime.h, ws.h, http.h, tls.h"; exit 1; }
	@! grep -lE '#include *<libwebsockets' bot/*.c bot/*.h | grep -v '^bot/ws\.c$$' \
	  || { echo "only bot/ws.c may include libwebsockets.h"; exit 1; }
	@! grep -lE '#include *<curl/' bot/*.c bot/*.h | grep -v '^bot/http\.c$$' \
	  || { echo "only bot/http.c may include curl/curl.h"; exit 1; }
	@! grep -lE '#include *<openssl/' bot/*.c bot/*.h | grep -v '^bot/tls\.c$$' \
	  || { echo "only bot/tls.c may include OpenSSL's headers"; exit 1; }

clean:
	rm -rf build

# Layout (.clang-format, Debian 12's clang-format 14): `make format` rewrites
# every C file, `make format-check` (part of `make test`) lists the files
# that differ and fails.
FORMAT_FILES = $(wildcard bot/*.c bot/*.h tests/*.c tests/*.h fuzz/*.c fuzz/*.h bench/*.c)
.PHONY: format format-check
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@bad=""; for f in $(FORMAT_FILES); do \
	  clang-format --dry-run -Werror "$$f" >/dev/null 2>&1 || bad="$$bad $$f"; \
	done; \
	if [ -n "$$bad" ]; then echo "not formatted (run make format):$$bad"; exit 1; fi

build/bench: bench/bench.c $(LIB_SRC:%=build/%.o)
	$(CC) $(CFLAGS_OPT) -Ibot -o $@ $< $(LIB_SRC:%=build/%.o) $(PKG_LIBS)

# Benchmarks (figures, not pass/fail): see bench/RESULTS.md.
.PHONY: bench
bench: build/bench build/massagebot | deps-bench
	@echo "== matcher + safety, one core"
	./build/bench knowledge tests/data/questions.tsv tests/data/holdout.tsv tests/data/safety.tsv
	@echo "== memory of massagebot run (console)"
	/usr/bin/python3 bench/rss.py build/massagebot
	@echo "== report on the largest unanswered log (20,000 distinct questions)"
	/usr/bin/python3 bench/report.py build/massagebot
	@echo "== against the code before issue 12, side by side (bench/speed.sh)"
	bash bench/speed.sh
	@echo "== end-to-end through the fake Discord"
	/usr/bin/python3 bench/e2e.py build/massagebot
	@echo "== a hash flood through ask (keyed hash)"
	/usr/bin/python3 bench/flood.py build/massagebot
	@echo "== the web chat: 1,000 concurrent chats x 10 questions, then with hostile clients"
	/usr/bin/python3 bench/web_load.py build/massagebot
	@if [ -x bench/compare.sh ]; then echo "== against NLP.js"; bash bench/compare.sh; fi

# Soak through the fake Discord with faults, the web chat beside it (minutes,
# not part of `make test`): see bench/soak.py; figures in bench/RESULTS.md,
# bot logs in build/soak/.
.PHONY: soak
soak: build/san/massagebot build/massagebot | deps-bench
	/usr/bin/python3 bench/soak.py --san build/san/massagebot --opt build/massagebot

# Development: search the matcher constants on the tuning sets, the check sets
# beside (see bench/tune.c).
build/tune: bench/tune.c bench/trainer.h $(LIB_SRC:%=build/%.o)
	$(CC) $(CFLAGS_OPT) -Ibot -o $@ $< $(LIB_SRC:%=build/%.o) $(PKG_LIBS)

# Development: the rule words (knowledge/safety/rule-words.txt), the learned
# net under every safety rule, made again from the tables of tests/data (see
# bench/distress.c); run after they change.
build/distress: bench/distress.c bench/trainer.h $(LIB_SRC:%=build/%.o)
	$(CC) $(CFLAGS_OPT) -Ibot -o $@ $< $(LIB_SRC:%=build/%.o) $(PKG_LIBS)

.PHONY: rulewords
rulewords: build/distress
	./build/distress knowledge knowledge/safety/rule-words.txt tests/data/*.tsv

# Development: the classifier (knowledge/classifier.txt) made again from the
# answers and the tables of tests/data (see bench/classify.c).
build/classify: bench/classify.c bench/trainer.h $(LIB_SRC:%=build/%.o)
	$(CC) $(CFLAGS_OPT) -Ibot -o $@ $< $(LIB_SRC:%=build/%.o) $(PKG_LIBS)

build/context: bench/context.c bench/trainer.h $(LIB_SRC:%=build/%.o)
	$(CC) $(CFLAGS_OPT) -Ibot -o $@ $< $(LIB_SRC:%=build/%.o) $(PKG_LIBS)

.PHONY: classifier
classifier: build/classify build/context
	./build/classify knowledge knowledge/classifier.txt tests/data/*.tsv
	./build/context knowledge knowledge/classifier.txt tests/data/*.tsv

tune: build/tune
	./build/tune knowledge tests/data/questions.tsv,tests/data/chat.tsv,tests/data/match-r1.tsv,tests/data/match-r2.tsv tests/data/holdout.tsv tests/data/chat-holdout.tsv tests/data/own-r2.tsv

# --- Install (see deploy/README.md) -----------------------------------------
# `make install` puts the binary (stripped), the systemd unit and the
# sysusers.d file under $(PREFIX), the shipped answers into $(KB_DIR) (only files that are
# missing: a file staff have edited is never overwritten), the staff guide
# beside them ($(STAFF_GUIDE)) and, if there are none yet, the settings
# file $(ENV_FILE) (0600) made from .env.example and the empty token file
# $(TOKEN_FILE) (0600).
# Everything honours DESTDIR.  Only with an empty DESTDIR and as root does it
# touch the running system: the Debian packages the service needs
# (BUILD_PKGS, like a package's Depends), systemd-sysusers (users and
# groups), ownership of the knowledge folder, and `systemctl daemon-reload`
# when systemd is PID 1.
PREFIX      ?= /usr/local
BINDIR      := $(PREFIX)/bin
UNITDIR     := $(PREFIX)/lib/systemd/system
STAFF_GUIDE := $(dir $(KB_DIR))STAFF-GUIDE.md
SYSUSERSDIR := $(PREFIX)/lib/sysusers.d

.PHONY: install uninstall
install: build/massagebot
	@set -e; d="$(DESTDIR)"; real=; \
	if [ -z "$$d" ] && [ "$$(id -u)" = 0 ]; then real=1; fi; \
	install -d -m 0755 "$$d$(BINDIR)" "$$d$(UNITDIR)" "$$d$(SYSUSERSDIR)"; \
	if [ -n "$$real" ]; then $(MAKE) --no-print-directory deps; fi; \
	install -m 0755 -s build/massagebot "$$d$(BINDIR)/massagebot"; \
	sed 's|^ExecStart=/usr/local/bin/massagebot |ExecStart=$(BINDIR)/massagebot |' \
	  deploy/massagebot.service > "$$d$(UNITDIR)/massagebot.service.tmp"; \
	chmod 0644 "$$d$(UNITDIR)/massagebot.service.tmp"; \
	mv -f "$$d$(UNITDIR)/massagebot.service.tmp" "$$d$(UNITDIR)/massagebot.service"; \
	install -m 0644 deploy/massagebot-sysusers.conf "$$d$(SYSUSERSDIR)/massagebot.conf"; \
	echo "install: $$d$(BINDIR)/massagebot, $$d$(UNITDIR)/massagebot.service, $$d$(SYSUSERSDIR)/massagebot.conf"; \
	if [ -n "$$real" ]; then \
	  if command -v systemd-sysusers >/dev/null 2>&1; then \
	    systemd-sysusers "$(SYSUSERSDIR)/massagebot.conf" || \
	      echo "install: systemd-sysusers failed; create the users by hand (deploy/README.md)" >&2; \
	  else echo "install: no systemd-sysusers; create the users by hand (deploy/README.md)" >&2; fi; \
	fi; \
	own=; \
	if [ -n "$$real" ] && getent group massagebot-staff >/dev/null 2>&1; then \
	  own="-o root -g massagebot-staff"; fi; \
	install -d -m 0755 "$$d$(dir $(KB_DIR))"; \
	install -d $$own -m 2775 "$$d$(KB_DIR)"; \
	(cd knowledge && find . -mindepth 1 -name '.*' -prune -o -type d -print) | \
	while IFS= read -r f; do install -d $$own -m 2775 "$$d$(KB_DIR)/$${f#./}"; done; \
	(cd knowledge && find . -mindepth 1 -name '.*' -prune -o -type f -print) | \
	while IFS= read -r f; do \
	  t="$$d$(KB_DIR)/$${f#./}"; \
	  if [ ! -e "$$t" ] && [ ! -L "$$t" ]; then \
	    install $$own -m 0664 "knowledge/$${f#./}" "$$t"; echo "install: $$t"; fi; \
	done; \
	echo "install: $$d$(KB_DIR) (existing files kept)"; \
	e="$$d$(ENV_FILE)"; install -d -m 0755 "$$(dirname "$$e")"; \
	if [ -e "$$e" ] || [ -L "$$e" ]; then echo "install: kept $$e"; else \
	  ( umask 077; \
	    { echo "# massagebot service settings, read by systemd (EnvironmentFile=) as root"; \
	      echo "# before the bot starts: plain KEY=value lines.  Keep this file 0600."; \
	      echo "# The bot token goes in $(TOKEN_FILE) (the unit hands it over as a"; \
	      echo "# credential, out of the environment); DISCORD_TOKEN= here works too."; \
	      echo "# After editing: systemctl restart massagebot.  Never overwritten by"; \
	      echo "# make install."; \
	      echo; \
	      sed -e 's|^BOT_PLATFORM=.*|BOT_PLATFORM=discord|' \
	          -e 's|^KNOWLEDGE_DIR=.*|KNOWLEDGE_DIR=$(KB_DIR)|' .env.example; \
	    } > "$$e.tmp" ); \
	  chmod 0600 "$$e.tmp"; mv -f "$$e.tmp" "$$e"; \
	  echo "install: $$e (0600)"; \
	fi; \
	t="$$d$(TOKEN_FILE)"; \
	if [ -e "$$t" ] || [ -L "$$t" ]; then echo "install: kept $$t"; else \
	  ( umask 077; : > "$$t.tmp" ); chmod 0600 "$$t.tmp"; mv -f "$$t.tmp" "$$t"; \
	  echo "install: $$t (0600, empty): put the bot token in it"; \
	fi; \
	install -m 0644 deploy/STAFF-GUIDE.md "$$d$(STAFF_GUIDE)"; \
	echo "install: $$d$(STAFF_GUIDE) (the guide for staff who edit the answers)"; \
	if [ -n "$$real" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then \
	  systemctl daemon-reload || echo "install: systemctl daemon-reload failed" >&2; fi

# Removes the binary, the unit and the sysusers.d file.  Leaves the answers
# ($(KB_DIR)) and the staff guide, the secrets ($(ENV_FILE), $(TOKEN_FILE)),
# the state (/var/lib/massagebot) and the users alone.
uninstall:
	@set -e; d="$(DESTDIR)"; sd=; \
	if [ -z "$$d" ] && [ "$$(id -u)" = 0 ] && [ -d /run/systemd/system ] && \
	   command -v systemctl >/dev/null 2>&1; then sd=1; fi; \
	if [ -n "$$sd" ]; then systemctl disable --now massagebot.service 2>/dev/null || true; fi; \
	rm -f "$$d$(BINDIR)/massagebot" "$$d$(UNITDIR)/massagebot.service" \
	      "$$d$(SYSUSERSDIR)/massagebot.conf"; \
	if [ -n "$$sd" ]; then systemctl daemon-reload || true; fi; \
	echo "uninstall: removed $$d$(BINDIR)/massagebot, $$d$(UNITDIR)/massagebot.service, $$d$(SYSUSERSDIR)/massagebot.conf"; \
	echo "uninstall: kept $$d$(KB_DIR), $$d$(ENV_FILE), $$d$(TOKEN_FILE), /var/lib/massagebot and the users"

# --- Fuzzing (see fuzz/README.md) -------------------------------------------
# libFuzzer harnesses, built with clang and ASan+UBSan from the same bot/*.c
# into build/fuzz/.  `make fuzz` runs each target for FUZZ_SECONDS (default
# 600; `make -j2 fuzz` runs two at once), `make fuzz-smoke` 30 s each.  Any
# crash, leak, timeout (5 s per input) or broken invariant fails the run: the
# log is build/fuzz/<target>.log, the reproducer build/fuzz/artifacts/<target>-*.
# New inputs go to build/fuzz/corpus/<target>; the seeds in fuzz/corpus/ stay.
FUZZ_CC      := clang
FUZZ_SECONDS ?= 600
FUZZ_SRC     := $(CORE_SRC) kb
FUZZ_CFLAGS  := $(BASEFLAGS) -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer $(PKG_CFLAGS)
# bytes per input: a knowledge folder, a frame with 16 KB content, a
# question past the 4 KB cut, a .env file, a web chat frame past the 4 KiB limit
FUZZ_MAXLEN_kb      := 16384
FUZZ_MAXLEN_gateway := 24576
FUZZ_MAXLEN_answer  := 6000
FUZZ_MAXLEN_dotenv  := 4096
FUZZ_MAXLEN_web     := 8192

.PHONY: fuzz fuzz-smoke fuzz-build
.SECONDARY: $(FUZZ_SRC:%=build/fuzz/%.o) $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
fuzz-build: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)

build/fuzz/%.o: bot/%.c bot/*.h build/flags.mk | deps-fuzz
	@mkdir -p build/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_SRC:%=build/fuzz/%.o)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Ibot -o $@ $< $(FUZZ_SRC:%=build/fuzz/%.o) \
	  $(PKG_LIBS)

fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)
	@echo "fuzz: all targets ran $(FUZZ_SECONDS) s without a crash, leak or timeout"

fuzz-smoke:
	@$(MAKE) --no-print-directory FUZZ_SECONDS=30 fuzz

# Every target once over its seed corpus, without fuzzing (part of `make
# test`): the harnesses' checks hold on the inputs they were seeded with.
.PHONY: fuzz-corpus
fuzz-corpus: $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)
	@rc=0; for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz corpus $$t"; \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ./build/fuzz/fuzz_$$t -runs=0 fuzz/corpus/$$t \
	    > build/fuzz/$$t-corpus.log 2>&1 \
	    || { tail -n 40 build/fuzz/$$t-corpus.log; echo "FAIL fuzz corpus $$t"; rc=1; }; \
	done; exit $$rc

.PHONY: $(FUZZ_TARGETS:%=fuzz-run-%)
$(FUZZ_TARGETS:%=fuzz-run-%): fuzz-run-%: build/fuzz/fuzz_%
	@mkdir -p build/fuzz/corpus/$* build/fuzz/artifacts
	@echo "fuzz: $* for $(FUZZ_SECONDS) s (log build/fuzz/$*.log)"
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1 \
	 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	 ./build/fuzz/fuzz_$* -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAXLEN_$*) \
	  -timeout=5 -detect_leaks=1 -rss_limit_mb=2048 -print_final_stats=1 \
	  $(addprefix -dict=,$(wildcard fuzz/$*.dict)) -artifact_prefix=build/fuzz/artifacts/$*- \
	  build/fuzz/corpus/$* fuzz/corpus/$* > build/fuzz/$*.log 2>&1; \
	 rc=$$?; \
	 if [ $$rc -ne 0 ]; then tail -n 60 build/fuzz/$*.log; echo "FAIL fuzz $* (exit $$rc)"; exit 1; fi; \
	 grep -aE '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|cov: ' build/fuzz/$*.log | \
	  tail -n 4 | sed 's/^/fuzz: $*: /'

