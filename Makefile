# Builds kedge from core/, lua/ and recipes/ against the static dependencies
# that build.sh prepared under $(DEPS). Run through ./build.sh, which picks
# DEPS and CC; `make` alone is for people iterating on the C code.

BUILD   ?= build
# make's built-in default for CC is cc, which would link against glibc.
ifeq ($(origin CC),default)
CC      = musl-gcc
endif
HOSTCC  ?= gcc
# A cross build (./build.sh arm64) passes its own, and BUILD=build/arm64.
STRIP   ?= strip
CLANG   ?= clang
KEDGE_VERSION := $(shell cat VERSION)
KEDGE_COMMIT  ?= unknown

ifneq ($(MAKECMDGOALS),clean)
ifndef DEPS
$(error DEPS is not set: run ./build.sh, or pass DEPS=<dependency prefix>)
endif
endif

WARN    = -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes
CFLAGS  ?= -O2 -g
CPPFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Icore -I$(DEPS)/include \
	   -DKEDGE_VERSION='"$(KEDGE_VERSION)"' -DKEDGE_COMMIT='"$(KEDGE_COMMIT)"'
ALL_CFLAGS = $(CPPFLAGS) $(WARN) $(CFLAGS) -ffunction-sections -fdata-sections -MMD -MP
LDFLAGS ?=
ALL_LDFLAGS = -static -Wl,--gc-sections $(LDFLAGS)
LIBS    = -L$(DEPS)/lib -lgit2 -lssh2 -lmbedtls -lmbedx509 -lmbedcrypto \
	  -lhttp_parser -lyaml -llua -lsodium -lz -lpthread -lm

CORE_SRC  := $(sort $(filter-out core/main.c,$(wildcard core/*/*.c)))
CORE_OBJ  := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
LUA_SRC   := $(sort $(wildcard lua/*.lua lua/*/*.lua lua/*/*/*.lua recipes/*.lua))
EMBED_C   := $(BUILD)/gen/embedded.c
EMBED_OBJ := $(BUILD)/obj/gen/embedded.o
# core/regex's Unicode tables, written from Perl's Unicode database.
UNICODE_C   := $(BUILD)/gen/unicode.c
UNICODE_OBJ := $(BUILD)/obj/gen/unicode.o
LIBKEDGE  := $(BUILD)/libkedge.a

UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%)
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
REPLAY_BIN := $(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/tests/fuzz/replay_%)
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

# valgrind cannot follow malloc inside a static musl binary, so the unit
# tests of the data core are built a second time with the host's gcc and
# glibc, over the same sources and libyaml's pinned source, for
# tests/unit/t0100-valgrind.sh.
HOST_UNIT     := test_base test_json test_yaml test_semver test_tmpl test_sprig
HOST_UNIT_BIN := $(HOST_UNIT:%=$(BUILD)/tests/host/%)
# core/tmpl/crypto.c: the host's copies of mbedTLS (Debian's 2.28, the
# version kedge pins) and libsodium (libmbedtls-dev, libsodium-dev).
HOST_CRYPTO_LIBS = -lmbedx509 -lmbedcrypto -lsodium
HOST_SRC       = core/base/*.c core/json/*.c core/yaml/*.c core/semver/*.c core/regex/*.c core/tmpl/*.c core/sprig/*.c core/chart/funcs.c core/chart/files.c core/age/*.c $(UNICODE_C)
# The template engine stands alone: its tests link base, json (for their
# data) and tmpl only, so a dependency on sprig or chart fails the build.
HOST_SRC_test_tmpl = core/base/*.c core/json/*.c core/tmpl/*.c

# libFuzzer builds: clang with sanitizers over all of core/ and libyaml's
# source (the copy kept in the dependency prefix), not the musl archives,
# since the sanitizer runtimes need glibc. The other libraries come from
# Debian's -dev packages of the versions vendor/pins names (build.sh
# installs them); the shipped binary never links them.
YAML_SRC ?= $(DEPS)/src/libyaml
FUZZ_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer-no-link,address,undefined -Icore
# A missing prototype here once truncated a pointer to an int (memmem).
FUZZ_CFLAGS += -Werror=implicit-function-declaration
# Undefined behaviour stops the fuzzer like a crash, with the input saved.
FUZZ_CFLAGS += -fno-sanitize-recover=undefined
YAML_LIB_SRC = $(wildcard $(YAML_SRC)/src/*.c)
YAML_DEFS = -I$(YAML_SRC)/include -DYAML_VERSION_MAJOR=0 -DYAML_VERSION_MINOR=2 \
	    -DYAML_VERSION_PATCH=5 -DYAML_VERSION_STRING='"0.2.5"'
# Debian's liblua5.4-dev, configured as vendor/recipes/lua5.4.sh builds it.
GLIBC_DEFS = -I/usr/include/lua5.4 -DLUA_COMPAT_5_3 -DLUA_USE_POSIX \
	     -DKEDGE_VERSION='"$(KEDGE_VERSION)"' -DKEDGE_COMMIT='"$(KEDGE_COMMIT)"'
GLIBC_LIBS = -lgit2 -lssh2 -lhttp_parser -llua5.4 -lz -lmbedtls $(HOST_CRYPTO_LIBS) -lpthread -lm
# Every source of the product (no main), generated ones included, and libyaml.
GLIBC_SRC = $(CORE_SRC) $(UNICODE_C) $(EMBED_C) $(YAML_LIB_SRC)
GLIBC_OBJ = $(patsubst %.c,%.o,$(subst $(YAML_SRC)/,yaml/,$(subst $(BUILD)/gen/,gen/,$(GLIBC_SRC))))

.PHONY: all tests fuzz san oom clean
all: $(BUILD)/kedge

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# embed compiles the Lua library with Debian's liblua5.4 (tools/embed.c).
$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=c11 -O2 -Wall -Wextra -I/usr/include/lua5.4 $< -o $@ -llua5.4 -lm

# The generated file is rewritten only when its content changes, so the
# list of Lua files can be re-read on every make without relinking.
$(EMBED_C): $(BUILD)/tools/embed $(LUA_SRC) FORCE
	@mkdir -p $(dir $@)
	@$(BUILD)/tools/embed $@.tmp $(LUA_SRC)
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(EMBED_OBJ): $(EMBED_C)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(UNICODE_C): tools/gen_unicode.pl
	@mkdir -p $(dir $@)
	perl tools/gen_unicode.pl >$@.tmp
	@mv $@.tmp $@

$(UNICODE_OBJ): $(UNICODE_C)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIBKEDGE): $(CORE_OBJ) $(EMBED_OBJ) $(UNICODE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# A new dependency prefix (another cache key) relinks: its stamp is a prerequisite.
DEPS_STAMP = $(wildcard $(DEPS)/.kedge-deps)

$(BUILD)/kedge.debug: $(BUILD)/obj/core/main.o $(LIBKEDGE) $(DEPS_STAMP)
	$(CC) $(ALL_LDFLAGS) $(filter %.o %.a,$^) $(LIBS) -o $@

# What ships is stripped; kedge.debug keeps the symbols for gdb.
$(BUILD)/kedge: $(BUILD)/kedge.debug
	$(STRIP) -o $@ $<

tests: $(BUILD)/kedge $(UNIT_BIN) $(REPLAY_BIN) $(HOST_UNIT_BIN)

$(BUILD)/tests/unit/%: tests/unit/%.c $(LIBKEDGE) $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(LIBKEDGE) $(ALL_LDFLAGS) $(LIBS) -o $@

$(BUILD)/tests/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(LIBKEDGE) $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -DFUZZ_NAME='"$*"' $< tests/fuzz/replay.c \
		$(LIBKEDGE) $(ALL_LDFLAGS) $(LIBS) -o $@

$(BUILD)/tests/host/test_tmpl: tests/unit/test_tmpl.c tests/render.h $(wildcard $(HOST_SRC_test_tmpl))
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=c11 -D_DEFAULT_SOURCE -O1 -g -w -Werror=implicit-function-declaration \
		-Icore -Itests $< $(HOST_SRC_test_tmpl) -lm -o $@

$(BUILD)/tests/host/%: tests/unit/%.c $(wildcard $(HOST_SRC)) $(UNICODE_C)
	@mkdir -p $(dir $@)
	$(HOSTCC) -std=c11 -D_DEFAULT_SOURCE -O1 -g -w -Icore -Itests $(YAML_DEFS) \
		$< $(HOST_SRC) $(YAML_LIB_SRC) -lm $(HOST_CRYPTO_LIBS) -o $@

# AddressSanitizer and UndefinedBehaviorSanitizer builds (clang, glibc) of
# the data core's unit tests and of every fuzz target's corpus replay, for
# tests/unit/t0110-sanitizers.sh: the same sources compiled once into
# $(BUILD)/san/, any report stops the run.
SAN_CFLAGS = -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-Werror=implicit-function-declaration -w -Icore -Itests $(YAML_DEFS) $(GLIBC_DEFS)
SAN_OBJ  = $(GLIBC_OBJ:%=$(BUILD)/san/obj/%)
SAN_LIB  = $(BUILD)/san/libsan.a
SAN_BIN  = $(addprefix $(BUILD)/tests/san/,$(HOST_UNIT) test_regex) \
	$(FUZZ_SRC:tests/fuzz/fuzz_%.c=$(BUILD)/tests/san/replay_%)

san: $(SAN_BIN)
tests: $(SAN_BIN)

$(BUILD)/san/obj/yaml/%.o: $(YAML_SRC)/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(SAN_CFLAGS) -c $< -o $@

$(BUILD)/san/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(SAN_CFLAGS) -c $< -o $@

$(BUILD)/san/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(SAN_CFLAGS) -MMD -MP -c $< -o $@

$(SAN_LIB): $(SAN_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/tests/san/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(SAN_LIB)
	@mkdir -p $(dir $@)
	$(CLANG) $(SAN_CFLAGS) -DFUZZ_NAME='"$*"' $< tests/fuzz/replay.c $(SAN_LIB) $(GLIBC_LIBS) -o $@

$(BUILD)/tests/san/%: tests/unit/%.c $(SAN_LIB)
	@mkdir -p $(dir $@)
	$(CLANG) $(SAN_CFLAGS) $< $(SAN_LIB) $(GLIBC_LIBS) -o $@

# Allocation-failure mode (tests/unit/oom.c, run by tests/unit/t0120-oom.sh):
# the sanitizer objects again, every allocation through the test's own
# wrappers so that the N-th one can fail.
OOM_WRAP = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=strdup
$(BUILD)/tests/san/oom: tests/unit/oom.c $(SAN_LIB)
	@mkdir -p $(dir $@)
	$(CLANG) $(SAN_CFLAGS) $< $(SAN_LIB) $(OOM_WRAP) $(GLIBC_LIBS) -o $@

oom: $(BUILD)/tests/san/oom
tests: $(BUILD)/tests/san/oom

# The fuzzers: core compiled once with libFuzzer's coverage into
# $(BUILD)/fuzz/libfuzz.a, each target linked against it.
FUZZ_OBJ = $(GLIBC_OBJ:%=$(BUILD)/fuzz/obj/%)
FUZZ_LIB = $(BUILD)/fuzz/libfuzz.a
FUZZ_ALL_CFLAGS = $(FUZZ_CFLAGS) -w $(YAML_DEFS) $(GLIBC_DEFS)

fuzz: $(FUZZ_BIN)

$(BUILD)/fuzz/obj/yaml/%.o: $(YAML_SRC)/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_ALL_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_ALL_CFLAGS) -c $< -o $@

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_ALL_CFLAGS) -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_ALL_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_LIB) $(GLIBC_LIBS) -o $@

clean:
	rm -rf $(BUILD)

FORCE:

-include $(shell find $(BUILD)/obj $(BUILD)/san/obj -name '*.d' 2>/dev/null)
