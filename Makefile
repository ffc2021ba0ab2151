# p2pmem - peer-to-peer PCI memory and copy offload for Linux.
#
#   make            build the library and the p2pmem command into build/
#   make check      install missing build deps, build, run every test
#                   (host unit tests, fuzz smoke run, VM tests in the rig)
#   make demo       boot the emulated PCIe fabric and show a p2p copy
#   make install    PREFIX=/usr/local DESTDIR=
#   make clean

VERSION    := 0.1
PREFIX     ?= /usr/local
DESTDIR    ?=
CC         ?= gcc
FUZZ_CC    ?= clang
B          := build

WARN       := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-truncation \
              -Wno-format-nonliteral
CFLAGS     ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -Ilib -fPIC \
              -DP2PMEM_VERSION='"$(VERSION)"' $(CFLAGS)
JSON_LIBS  := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
JSON_CFLAGS:= $(shell pkg-config --cflags json-c 2>/dev/null)
URING_LIBS := $(shell pkg-config --libs liburing 2>/dev/null || echo -luring)
LIB_LIBS   := $(URING_LIBS)

LIB_SRCS   := $(wildcard lib/*.c)
LIB_OBJS   := $(LIB_SRCS:%.c=$(B)/%.o)
CLI_SRCS   := $(wildcard cli/*.c) bench/sync_copy.c bench/dd_copy.c
CLI_OBJS   := $(CLI_SRCS:%.c=$(B)/%.o)
TEST_SRCS  := $(wildcard tests/unit/*.c)
TEST_BINS  := $(TEST_SRCS:%.c=$(B)/%)
FUZZ_SRCS  := $(wildcard fuzz/*.c)
FUZZ_BINS  := $(FUZZ_SRCS:%.c=$(B)/%)
SONAME     := libp2pmem.so.0

.PHONY: all check deps test fuzz demo install clean bench
all: $(B)/p2pmem $(B)/libp2pmem.a $(B)/$(SONAME) $(TEST_BINS)

deps:
	@scripts/install-deps

$(B)/%.o: %.c $(wildcard include/*.h lib/*.h cli/*.h bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ibench $(JSON_CFLAGS) -c -o $@ $<

$(B)/libp2pmem.a: $(LIB_OBJS)
	ar rcs $@ $^

$(B)/$(SONAME): $(LIB_OBJS) lib/libp2pmem.map
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libp2pmem.map \
		-o $@ $(LIB_OBJS) $(LIB_LIBS)

$(B)/p2pmem: $(CLI_OBJS) $(B)/libp2pmem.a
	$(CC) -o $@ $(CLI_OBJS) $(B)/libp2pmem.a $(JSON_LIBS) $(LIB_LIBS)

# The kernel module's distance rule, built for userspace against a shim.
$(B)/tests/unit/kmod_distance: tests/unit/kmod_distance.c kmod/distance.c \
		kmod/distance.h kmod/include/p2pmem_client.h $(wildcard tests/kshim/*.h tests/kshim/linux/*.h) \
		tests/unit/unit.h tests/unit/cases.h $(B)/libp2pmem.a
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Iinclude -Itests/unit \
		-Itests/kshim -o $@ tests/unit/kmod_distance.c kmod/distance.c \
		$(B)/libp2pmem.a $(LIB_LIBS)

$(B)/tests/unit/%: tests/unit/%.c tests/unit/unit.h tests/unit/cases.h $(B)/libp2pmem.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/unit -o $@ $< $(B)/libp2pmem.a $(LIB_LIBS)

# libFuzzer targets: the sysfs, config-space and cpuinfo parsers.
$(B)/fuzz/%: fuzz/%.c lib/config_space.c lib/cpuinfo.c lib/sysfs.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -Iinclude -Ilib \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-o $@ $^

fuzz: $(FUZZ_BINS)

test: all fuzz
	tests/run $(TEST_ARGS)

# The one test command (README): dependencies, build, every test.  The
# host's apt sources, /boot and kernel packages are recorded before any
# set-up; the last test checks that they are unchanged.
check:
	@mkdir -p $(B) && scripts/host-state >$(B)/host-state.before
	@scripts/install-deps
	$(MAKE) all fuzz
	tests/run $(TEST_ARGS)

bench: all
	bench/run

demo: deps
	$(MAKE) all
	rig/rig demo

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man3
	install -m 755 $(B)/p2pmem $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(B)/libp2pmem.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/$(SONAME) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libp2pmem.so
	install -m 644 include/p2pmem.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 man/p2pmem.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/p2pmem.3 $(DESTDIR)$(PREFIX)/share/man/man3/

clean:
	rm -rf $(B)
