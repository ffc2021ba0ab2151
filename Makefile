# p2pmem - peer-to-peer PCI memory and copy offload for Linux.
#
#   make            build the library and the p2pmem command into build/
#   make check      install missing build deps, build, run every test
#                   (host unit tests, fuzz smoke run, VM tests in the rig)
#   make demo       boot the emulated PCIe fabric and show a p2p copy
#   make install    the command, library, header, pkg-config file, man pages:
#                   PREFIX=/usr/local DESTDIR= (and BINDIR, LIBDIR, INCLUDEDIR,
#                   MANDIR, PKGCONFIGDIR); ldconfig when DESTDIR is empty
#   make uninstall  the same variables: removes what install put there
#   make clean
# CFLAGS, CPPFLAGS and LDFLAGS are honoured (a distribution's hardening
# flags reach every compile and link); WERROR=1 (make check, CI) turns
# warnings into errors.

# The one version source: VERSION (the module's Kbuild reads it too).
VERSION    := $(shell cat VERSION)
# libp2pmem.so.0.MINOR.PATCH: the ABI is LIBP2PMEM_0.x symbol versions under
# one soname.
SOVERSION  := 0
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
CC         ?= gcc
FUZZ_CC    ?= clang
B          := build

WERROR     ?=
WARN       := -Wall -Wextra $(if $(WERROR),-Werror) -Wshadow -Wstrict-prototypes -Wformat=2 \
              -Wno-format-truncation -Wno-format-nonliteral
CFLAGS     ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -Ilib -fPIC \
              -DP2PMEM_VERSION='"$(VERSION)"' $(CPPFLAGS) $(CFLAGS)
JSON_LIBS  := $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
JSON_CFLAGS:= $(shell pkg-config --cflags json-c 2>/dev/null)
URING_LIBS := $(shell pkg-config --libs liburing 2>/dev/null || echo -luring)
LIB_LIBS   := $(URING_LIBS)

LIB_SRCS   := $(wildcard lib/*.c)
LIB_OBJS   := $(LIB_SRCS:%.c=$(B)/%.o)
CLI_SRCS   := $(wildcard cli/*.c) bench/sync_copy.c bench/dd_copy.c bench/fio_copy.c
CLI_OBJS   := $(CLI_SRCS:%.c=$(B)/%.o)
TEST_SRCS  := $(wildcard tests/unit/*.c)
TEST_BINS  := $(TEST_SRCS:%.c=$(B)/%)
FUZZ_SRCS  := $(wildcard fuzz/*.c)
FUZZ_BINS  := $(FUZZ_SRCS:%.c=$(B)/%)
SONAME     := libp2pmem.so.$(SOVERSION)
# man3: one page per group of functions, each function's page a link to it
MAN3_GROUPS := p2pmem_ctx p2pmem_pci_dev p2pmem_provider p2pmem_verdict p2pmem_pool p2pmem_copy
SOFILE     := libp2pmem.so.$(SOVERSION).$(patsubst $(SOVERSION).%,%,$(VERSION))

.PHONY: all check deps test fuzz demo install install-dkms uninstall clean bench deb
all: $(B)/p2pmem $(B)/libp2pmem.a $(B)/$(SONAME) $(TEST_BINS)

deps:
	@scripts/install-deps

$(B)/%.o: %.c $(wildcard include/*.h lib/*.h cli/*.h bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Ibench $(JSON_CFLAGS) -c -o $@ $<

$(B)/libp2pmem.a: $(LIB_OBJS)
	ar rcs $@ $^

$(B)/$(SOFILE): $(LIB_OBJS) lib/libp2pmem.map
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) \
		-Wl,--version-script=lib/libp2pmem.map -o $@ $(LIB_OBJS) $(LIB_LIBS)

$(B)/$(SONAME): $(B)/$(SOFILE)
	ln -sf $(SOFILE) $@

# pkg-config: written at install time, with the directories installed to;
# a static link needs liburing too (Requires.private).
PC_SED := -e 's|@VERSION@|$(VERSION)|' -e 's|@PREFIX@|$(PREFIX)|' \
	  -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|'

$(B)/p2pmem: $(CLI_OBJS) $(B)/libp2pmem.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(B)/libp2pmem.a $(JSON_LIBS) $(LIB_LIBS)

# The kernel module's distance rule, built for userspace against a shim.
$(B)/tests/unit/kmod_distance: tests/unit/kmod_distance.c kmod/distance.c \
		kmod/distance.h kmod/include/p2pmem_client.h $(wildcard tests/kshim/*.h tests/kshim/linux/*.h) \
		tests/unit/unit.h tests/unit/cases.h $(B)/libp2pmem.a
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -D_GNU_SOURCE $(WARN) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -Iinclude -Itests/unit \
		-Itests/kshim -o $@ tests/unit/kmod_distance.c kmod/distance.c \
		$(B)/libp2pmem.a $(LIB_LIBS)

$(B)/tests/unit/%: tests/unit/%.c tests/unit/unit.h tests/unit/cases.h $(B)/libp2pmem.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -Itests/unit -o $@ $< $(B)/libp2pmem.a $(LIB_LIBS)

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
	$(MAKE) WERROR=1 all fuzz
	tests/run $(TEST_ARGS)

bench: all
	bench/run

# The host's apt sources, /boot and kernel packages are compared before
# and after: the demo may install build tools, never a kernel.
demo:
	@mkdir -p $(B) && scripts/host-state >$(B)/host-state.demo
	@scripts/install-deps
	$(MAKE) all
	rig/rig demo
	@scripts/host-state | diff -u $(B)/host-state.demo - >$(B)/host-state.demo.diff || \
		{ echo "make demo changed the host's apt sources, /boot or kernel packages:" >&2; \
		  cat $(B)/host-state.demo.diff >&2; exit 1; }
	@echo "make demo: the host's apt sources, /boot and kernel packages are unchanged"

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man4 \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(INCLUDEDIR)/linux \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(B)/p2pmem $(DESTDIR)$(BINDIR)/
	install -m 644 completions/p2pmem.bash $(DESTDIR)$(BASHCOMPDIR)/p2pmem
	install -m 644 completions/_p2pmem $(DESTDIR)$(ZSHCOMPDIR)/_p2pmem
	install -m 644 $(B)/libp2pmem.a $(DESTDIR)$(LIBDIR)/
	install -m 644 $(B)/$(SOFILE) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SOFILE) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libp2pmem.so
	install -m 644 include/p2pmem.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 kmod/uapi/p2pmem.h $(DESTDIR)$(INCLUDEDIR)/linux/p2pmem.h
	sed $(PC_SED) lib/libp2pmem.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/libp2pmem.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/libp2pmem.pc
	sed '1s/"p2pmem [0-9.]*"/"p2pmem $(VERSION)"/' man/p2pmem.1 >$(DESTDIR)$(MANDIR)/man1/p2pmem.1
	sed '1s/"libp2pmem [0-9.]*"/"libp2pmem $(VERSION)"/' man/p2pmem.3 >$(DESTDIR)$(MANDIR)/man3/p2pmem.3
	for page in $(MAN3_GROUPS); do \
		sed '1s/"libp2pmem [0-9.]*"/"libp2pmem $(VERSION)"/' man/$$page.3 \
			>$(DESTDIR)$(MANDIR)/man3/$$page.3 && chmod 644 $(DESTDIR)$(MANDIR)/man3/$$page.3; \
	done
	grep -v '^#' man/man3-links | while read -r fn page; do \
		[ "$$fn" = "$$page" ] || echo ".so man3/$$page.3" >$(DESTDIR)$(MANDIR)/man3/$$fn.3; \
		chmod 644 $(DESTDIR)$(MANDIR)/man3/$$fn.3; \
	done
	sed '1s/"p2pmem [0-9.]*"/"p2pmem $(VERSION)"/' man/p2pmem.4 >$(DESTDIR)$(MANDIR)/man4/p2pmem.4
	chmod 644 $(DESTDIR)$(MANDIR)/man1/p2pmem.1 $(DESTDIR)$(MANDIR)/man3/p2pmem.3 \
		$(DESTDIR)$(MANDIR)/man4/p2pmem.4
	$(if $(DESTDIR),,ldconfig)

# The module's sources for DKMS: /usr/src/p2pmem-VERSION with dkms.conf.
DKMS_SRC := /usr/src/p2pmem-$(VERSION)
install-dkms:
	install -d $(DESTDIR)$(DKMS_SRC)/include $(DESTDIR)$(DKMS_SRC)/uapi $(DESTDIR)$(DKMS_SRC)/test
	install -m 644 kmod/*.c kmod/*.h kmod/Kbuild kmod/Makefile VERSION $(DESTDIR)$(DKMS_SRC)/
	install -m 644 kmod/include/*.h $(DESTDIR)$(DKMS_SRC)/include/
	install -m 644 kmod/uapi/*.h $(DESTDIR)$(DKMS_SRC)/uapi/
	install -m 644 kmod/test/*.c $(DESTDIR)$(DKMS_SRC)/test/
	sed 's|@VERSION@|$(VERSION)|' kmod/dkms.conf.in >$(DESTDIR)$(DKMS_SRC)/dkms.conf

# Debian packages (debian/): built in a copy of the tracked sources under
# build/deb, where the .deb files land; lintian must find no error.
DEB_DIR := $(B)/deb
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/p2pmem-$(VERSION)
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | \
			tar --null -T - -cf - | tar -xf - -C $(DEB_DIR)/p2pmem-$(VERSION); \
	else \
		tar --exclude=./$(B) -cf - . | tar -xf - -C $(DEB_DIR)/p2pmem-$(VERSION); \
	fi
	cd $(DEB_DIR)/p2pmem-$(VERSION) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error --suppress-tags-from-file debian/lintian-suppressed \
		$(DEB_DIR)/*.changes

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/p2pmem $(DESTDIR)$(LIBDIR)/libp2pmem.a \
		$(DESTDIR)$(LIBDIR)/$(SOFILE) $(DESTDIR)$(LIBDIR)/$(SONAME) \
		$(DESTDIR)$(LIBDIR)/libp2pmem.so $(DESTDIR)$(INCLUDEDIR)/p2pmem.h \
		$(DESTDIR)$(PKGCONFIGDIR)/libp2pmem.pc $(DESTDIR)$(MANDIR)/man1/p2pmem.1 \
		$(DESTDIR)$(MANDIR)/man3/p2pmem.3 $(DESTDIR)$(MANDIR)/man4/p2pmem.4 \
		$(MAN3_GROUPS:%=$(DESTDIR)$(MANDIR)/man3/%.3) \
		$(shell grep -v '^#' man/man3-links | cut -d' ' -f1 | sed 's|.*|$(DESTDIR)$(MANDIR)/man3/&.3|') \
		$(DESTDIR)$(INCLUDEDIR)/linux/p2pmem.h $(DESTDIR)$(BASHCOMPDIR)/p2pmem \
		$(DESTDIR)$(ZSHCOMPDIR)/_p2pmem
	$(if $(DESTDIR),,ldconfig)

clean:
	rm -rf $(B)
