# SPDX-License-Identifier: ISC
# latch: one GNU Makefile for the device library and CLI, the admin server,
# the offline CA and the tests. Every dependency comes through pkg-config, so
# a cross PKG_CONFIG (see docs/cross-building.md) just works.

BUILD      ?= build
CC         ?= cc
PKG_CONFIG ?= pkg-config
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
BINDIR     ?= $(PREFIX)/bin
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR    ?=
# The license root certificate compiled into the device side (PEM).
LATCH_ROOT_CA ?=
# 1: ASan + UBSan.
SANITIZE   ?=
# -Werror in development and CI; release builds pass WERROR=0.
WERROR     ?= 1
V          ?= 0

# Cross builds of the device side (docs/cross-building.md):
#   make cross ARCH=aarch64      Debian multiarch toolchain, into build/aarch64
# ARCH counts only on the command line (kernel builds export ARCH=arm64); it
# picks CROSS_COMPILE=$(ARCH)-linux-gnu- and from it CC, AR, PKG_CONFIG and
# BUILD=build/$(ARCH), each unless given on the command line too. Yocto and
# Buildroot instead pass their own CC, AR, PKG_CONFIG, CFLAGS and LDFLAGS.
ifeq ($(origin ARCH),command line)
CROSS_COMPILE ?= $(ARCH)-linux-gnu-
ifneq ($(origin CC),command line)
CC := $(CROSS_COMPILE)gcc
endif
ifneq ($(origin AR),command line)
AR := $(CROSS_COMPILE)ar
endif
ifneq ($(origin PKG_CONFIG),command line)
PKG_CONFIG := $(CROSS_COMPILE)pkg-config
endif
ifneq ($(origin BUILD),command line)
BUILD := build/$(ARCH)
endif
endif
# The machine CC builds for, e.g. x86_64-linux-gnu, aarch64-poky-linux.
TARGET_MACHINE := $(shell $(CC) -dumpmachine 2>/dev/null)

VERSION    := 0.1.0

ifeq ($(V),1)
Q :=
else
Q := @
endif

DEV_PKGS  := libcrypto tss2-esys tss2-mu tss2-tctildr tss2-rc jansson
SRV_PKGS  := libmicrohttpd sqlite3 libpq libcurl libargon2 inih
TEST_PKGS := cmocka

WARN := -Wall -Wextra -Wpedantic -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wmissing-declarations -Wpointer-arith \
	-Wcast-qual -Wwrite-strings -Wvla -Wundef -Wimplicit-fallthrough \
	-Wswitch-enum
ifneq ($(shell $(CC) --version 2>/dev/null | grep -c clang),0)
WARN += -Wshorten-64-to-32 -Wconditional-uninitialized
else
WARN += -Wduplicated-cond -Wduplicated-branches -Wlogical-op -Wrestrict \
	-Wstringop-overflow=4
endif
ifeq ($(WERROR),1)
WARN += -Werror
endif

HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDHARDEN := -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack
# AArch64: pointer authentication and BTI landing pads (PAC is kept; BTI
# only marks the output when every linked object, crt files too, has it).
ifneq ($(filter aarch64%,$(TARGET_MACHINE)),)
HARDEN_ARCH := -mbranch-protection=standard
endif
ifeq ($(SANITIZE),1)
HARDEN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
LDHARDEN += -fsanitize=address,undefined
endif

OPT ?= -O2 -g
CFLAGS ?=
LDFLAGS ?=
ALL_CFLAGS := -std=c17 -D_GNU_SOURCE -DLATCH_VERSION=\"$(VERSION)\" \
	-fPIC $(OPT) $(WARN) $(HARDEN) \
	$(HARDEN_ARCH) \
	-Iinclude -Ilib -I$(BUILD)/gen -Iserver $(CFLAGS)
ALL_LDFLAGS := $(LDHARDEN) $(LDFLAGS)

# Evaluated once, on first use in a recipe: `make check` and `make demo`
# parse this file before scripts/install-deps.sh has run, and pkg-config
# must not complain then about packages that are about to be installed.
DEV_CFLAGS   = $(eval DEV_CFLAGS := $(shell $(PKG_CONFIG) --cflags \
	$(DEV_PKGS)))$(DEV_CFLAGS)
DEV_LIBS     = $(eval DEV_LIBS := $(shell $(PKG_CONFIG) --libs \
	$(DEV_PKGS)))$(DEV_LIBS)
SRV_CFLAGS   = $(shell $(PKG_CONFIG) --cflags $(SRV_PKGS))
SRV_LIBS     = $(shell $(PKG_CONFIG) --libs $(SRV_PKGS)) -lpthread
TEST_CFLAGS  = $(shell $(PKG_CONFIG) --cflags $(TEST_PKGS))
TEST_LIBS    = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

LIB_SRCS := $(sort $(wildcard lib/*.c))
CLI_SRCS := $(sort $(wildcard cli/*.c))
SRV_SRCS := $(sort $(filter-out server/main.c,$(wildcard server/*.c)))
CA_SRCS  := $(sort $(wildcard ca/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
EX_SRCS  := $(sort $(wildcard examples/*.c))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))

OBJ := $(BUILD)/obj
LIB_OBJS := $(LIB_SRCS:%.c=$(OBJ)/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(OBJ)/%.o)
SRV_OBJS := $(SRV_SRCS:%.c=$(OBJ)/%.o)
CA_OBJS  := $(CA_SRCS:%.c=$(OBJ)/%.o)
ROOT_OBJ := $(OBJ)/gen/root_ca.o
ASSET_OBJ := $(OBJ)/gen/assets.o
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
EX_BINS  := $(EX_SRCS:examples/%.c=$(BUILD)/examples/%)
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/tools/%)

SRV_EXTRA_OBJS := $(ASSET_OBJ)
# Schema migrations (sql/NNN_name.sql) embedded into latchd.
MIGR_OBJ := $(OBJ)/gen/migrations.o
SRV_EXTRA_OBJS += $(MIGR_OBJ)

.PHONY: all device server ca tests clean install check demo deps \
	format format-check unit e2e relink cross check-arm64 bench fuzz FORCE \
	install-device

all: device server ca tests $(EX_BINS)

device: $(BUILD)/latch $(BUILD)/liblatch.so $(BUILD)/liblatch.a \
	$(BUILD)/latch.pc
server: $(BUILD)/latchd
ca: $(BUILD)/latch-ca
tests: $(UNIT_BINS) $(TOOL_BINS)

# --- the embedded root -------------------------------------------------
# root_ca.c is rewritten only when the chosen PEM (or its path) changes.
$(BUILD)/gen/root_ca.c: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)scripts/embed-root.sh "$(LATCH_ROOT_CA)" > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(ROOT_OBJ): $(BUILD)/gen/root_ca.c
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# --- web assets embedded into latchd -----------------------------------
$(BUILD)/gen/assets.c: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)scripts/embed-assets.sh web > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(ASSET_OBJ): $(BUILD)/gen/assets.c
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# --- schema migrations embedded into latchd ----------------------------
$(BUILD)/gen/migrations.c: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)scripts/embed-sql.sh sql > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(MIGR_OBJ): $(BUILD)/gen/migrations.c
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -Iserver -c $< -o $@

# --- objects -----------------------------------------------------------
$(OBJ)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -fvisibility=hidden $(DEV_CFLAGS) \
		-MMD -MP -c $< -o $@

$(OBJ)/cli/%.o: cli/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(DEV_CFLAGS) -MMD -MP -c $< -o $@

$(OBJ)/server/%.o: server/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Iserver $(DEV_CFLAGS) $(SRV_CFLAGS) \
		-MMD -MP -c $< -o $@

$(OBJ)/ca/%.o: ca/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(DEV_CFLAGS) -MMD -MP -c $< -o $@

$(OBJ)/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Iserver -Wno-missing-prototypes \
		-Wno-missing-declarations $(DEV_CFLAGS) $(SRV_CFLAGS) \
		$(TEST_CFLAGS) -MMD -MP -c $< -o $@

$(OBJ)/tests/tools/%.o: tests/tools/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Iserver $(DEV_CFLAGS) $(SRV_CFLAGS) \
		-MMD -MP -c $< -o $@

# Test tools (license makers, fault injectors) link like the unit tests.
$(BUILD)/tests/tools/%: $(OBJ)/tests/tools/%.o $(BUILD)/libsrv.a \
	$(BUILD)/liblatch.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libsrv.a \
		$(BUILD)/liblatch.a $(SRV_LIBS) $(DEV_LIBS)

$(OBJ)/examples/%.o: examples/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# --- libraries and programs -------------------------------------------
$(BUILD)/liblatch.a: $(LIB_OBJS) $(ROOT_OBJ)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/liblatch.so: $(LIB_OBJS) $(ROOT_OBJ)
	@echo "  LD      $@"
	$(Q)$(CC) -shared -Wl,-soname,liblatch.so.0 -Wl,-z,defs \
		$(ALL_LDFLAGS) -o $@ $^ $(DEV_LIBS)
	$(Q)ln -sf liblatch.so $(@D)/liblatch.so.0

$(BUILD)/latch: $(CLI_OBJS) $(BUILD)/liblatch.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/liblatch.a \
		$(DEV_LIBS)

$(BUILD)/libsrv.a: $(SRV_OBJS) $(SRV_EXTRA_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/latchd: $(OBJ)/server/main.o $(BUILD)/libsrv.a $(BUILD)/liblatch.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(OBJ)/server/main.o $(BUILD)/libsrv.a \
		$(BUILD)/liblatch.a $(SRV_LIBS) $(DEV_LIBS)

$(BUILD)/latch-ca: $(CA_OBJS) $(BUILD)/liblatch.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CA_OBJS) $(BUILD)/liblatch.a \
		$(DEV_LIBS)

$(BUILD)/tests/%: $(OBJ)/tests/unit/%.o $(BUILD)/libsrv.a $(BUILD)/liblatch.a
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libsrv.a \
		$(BUILD)/liblatch.a $(TEST_LIBS) $(SRV_LIBS) $(DEV_LIBS)

# Examples link the shared library, as an application would.
$(BUILD)/examples/%: $(OBJ)/examples/%.o $(BUILD)/liblatch.so
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< -L$(BUILD) -l:liblatch.so \
		-Wl,-rpath,'$$ORIGIN/..'

# Rewritten only when PREFIX, LIBDIR, ... change, so install gets the
# paths it was asked for.
$(BUILD)/latch.pc: latch.pc.in FORCE
	@mkdir -p $(@D)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@PRIVLIBS@|$(DEV_PKGS)|' $< > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# Re-link the device side against another root, reusing every object:
#   make relink OUT=dir LATCH_ROOT_CA=root.pem
# Tests and the demo use this to trust the root they just made.
relink: $(LIB_OBJS) $(CLI_OBJS) $(EX_SRCS:examples/%.c=$(OBJ)/examples/%.o)
	@test -n "$(OUT)" && test -n "$(LATCH_ROOT_CA)" || \
		{ echo "relink: needs OUT=DIR LATCH_ROOT_CA=PEM"; exit 2; }
	$(Q)mkdir -p $(OUT)
	$(Q)scripts/embed-root.sh "$(LATCH_ROOT_CA)" > $(OUT)/root_ca.c
	$(Q)$(CC) $(ALL_CFLAGS) -c $(OUT)/root_ca.c -o $(OUT)/root_ca.o
	$(Q)rm -f $(OUT)/liblatch.a && $(AR) rcs $(OUT)/liblatch.a \
		$(LIB_OBJS) $(OUT)/root_ca.o
	$(Q)$(CC) $(ALL_LDFLAGS) -o $(OUT)/latch $(CLI_OBJS) \
		$(OUT)/liblatch.a $(DEV_LIBS)
	$(Q)$(CC) -shared -Wl,-soname,liblatch.so.0 -Wl,-z,defs \
		$(ALL_LDFLAGS) -o $(OUT)/liblatch.so $(LIB_OBJS) \
		$(OUT)/root_ca.o $(DEV_LIBS)
	$(Q)ln -sf liblatch.so $(OUT)/liblatch.so.0
	@echo "  RELINK  $(OUT) (root: $(LATCH_ROOT_CA))"

# --- cross builds ------------------------------------------------------
# The device side only: the server, CA and tests need -dev packages that a
# target sysroot does not carry.
ifneq ($(filter cross,$(MAKECMDGOALS)),)
ifneq ($(origin ARCH),command line)
$(error cross: needs ARCH=aarch64 on the command line)
endif
ifeq ($(filter $(ARCH)%,$(TARGET_MACHINE)),)
$(error cross: CC=$(CC) builds for '$(TARGET_MACHINE)', not $(ARCH))
endif
endif
cross: device $(EX_BINS)
	@echo "  CROSS   $(BUILD) ($(TARGET_MACHINE))"

check-arm64:
	$(Q)scripts/check-arm64.sh

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)

# --- install -----------------------------------------------------------
install: install-device server ca
	install -m 0755 $(BUILD)/latchd $(BUILD)/latch-ca $(DESTDIR)$(BINDIR)/

# The device side alone: what a target image (Yocto, Buildroot) installs.
install-device: device
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)
	install -m 0755 $(BUILD)/latch $(DESTDIR)$(BINDIR)/
	install -m 0755 $(BUILD)/liblatch.so \
		$(DESTDIR)$(LIBDIR)/liblatch.so.$(VERSION)
	ln -sf liblatch.so.$(VERSION) $(DESTDIR)$(LIBDIR)/liblatch.so.0
	ln -sf liblatch.so.0 $(DESTDIR)$(LIBDIR)/liblatch.so
	install -m 0644 $(BUILD)/liblatch.a $(DESTDIR)$(LIBDIR)/
	install -m 0644 include/latch.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 $(BUILD)/latch.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	@test -n "$(LATCH_ROOT_CA)" || echo "WARNING: installed a device" \
		"build with NO embedded root: latch activate will refuse" \
		"every license (rebuild with LATCH_ROOT_CA=root.pem)"

# --- checks ------------------------------------------------------------
deps:
	$(Q)scripts/install-deps.sh

C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

format:
	clang-format -i $(C_FILES)

format-check:
	$(Q)scripts/format-check.sh $(C_FILES)

unit: tests
	$(Q)scripts/run-unit.sh $(UNIT_BINS)

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/check.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

fuzz:
	$(Q)scripts/fuzz.sh smoke

clean:
	rm -rf $(BUILD)
