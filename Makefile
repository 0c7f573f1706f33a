# SPDX-License-Identifier: GPL-2.0
# ktun: the wrapper. The module's object list lives in driver/Kbuild.

# KVER goes to the environment too, so that vm/run boots the kernel the
# module was built for: `make test KVER=6.1.0-57-amd64`.
KVER	?= $(shell scripts/kver)
KDIR	?= /lib/modules/$(KVER)/build
export KVER
VERSION	:= $(shell scripts/version)

CC	?= cc
CFLAGS	?= -O2 -g
UCFLAGS	:= -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude/uapi -Ilib \
	   $(CPPFLAGS) $(CFLAGS)
ULDLIBS	:= -pthread -lmnl

B	:= build
LIB_SRCS	:= $(wildcard lib/*.c)
LIB_OBJS	:= $(patsubst %.c,$(B)/%.o,$(LIB_SRCS))
LIB_HDRS	:= $(wildcard lib/*.h include/uapi/linux/*.h)
PROGS	:= $(patsubst %.c,$(B)/%,$(wildcard tests/*.c bench/*.c tools/*.c))
# ktun-fwd is two files: tools/ktun-fwd.c and its device side in tools/fwd/.
FWD_OBJS	:= $(patsubst %.c,$(B)/%.o,$(wildcard tools/fwd/*.c))
TOOL_OBJS_ktun-fwd	:= $(FWD_OBJS)
TOOL_CFLAGS_ktun-fwd	:= -Itools/fwd

# libktun as a shared library: soname libktun.so.$(LIB_MAJOR), symbols
# versioned by lib/libktun.map. Bump LIB_MAJOR (and the Debian package
# libktun$(LIB_MAJOR)) when an exported function changes incompatibly.
LIB_MAJOR	:= 0
LIB_SONAME	:= libktun.so.$(LIB_MAJOR)
# The headers a program outside the tree includes (<ktun.h>, <linux/ktun.h>).
LIB_PUB_HDRS	:= lib/ktun.h lib/ktun_ring.h
UAPI_HDRS	:= $(wildcard include/uapi/linux/*.h)

# The tools that get installed (package ktun-tools), each with its man page
# man/<tool>.1. A tool is meant for users when it is listed here; one whose
# tools/<tool>.c does not exist (yet) is left out.
INSTALL_TOOLS	:= ktun-open ktunctl ktun-fwd
INST_TOOLS	:= $(foreach t,$(INSTALL_TOOLS),$(if $(wildcard tools/$(t).c),$(t)))

# Where `make install` puts things (the Debian packages set these).
PREFIX		?= /usr/local
BINDIR		?= $(PREFIX)/bin
LIBDIR		?= $(PREFIX)/lib
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
DKMSDIR		?= /usr/src/ktun-$(VERSION)
INSTALL		?= install

.PHONY: all module driver-kver tools userspace deps test test-stock test-compat \
	test-pkg test-debug bench demo vm-shell style check clean install install-lib \
	install-tools install-dkms deb
.DEFAULT_GOAL := all

all: module tools

# KTUN_GCOV=1: with gcov (a kernel with CONFIG_GCOV_KERNEL: test-debug).
# driver/ holds one kernel's objects at a time; driver/.kver says which.
# A different KVER cleans them first, so nothing built for one kernel is
# linked into a module for another.
driver-kver:
	@if [ "$$(cat driver/.kver 2>/dev/null)" != "$(KVER)" ]; then \
		echo "module: driver/ was built for '$$(cat driver/.kver 2>/dev/null)', cleaning for $(KVER)"; \
		$(MAKE) -s -C $(KDIR) M=$(CURDIR)/driver clean; \
		echo "$(KVER)" > driver/.kver; \
	fi

module: driver-kver
	$(MAKE) -C $(KDIR) M=$(CURDIR)/driver W=1 KTUN_WERROR=y KTUN_VERSION=$(VERSION) modules

tools: $(PROGS) $(B)/lib/$(LIB_SONAME) $(B)/lib/ktun.pc

# What the packages ship: the library and the installed tools only.
userspace: $(B)/lib/$(LIB_SONAME) $(B)/lib/libktun.a $(B)/lib/ktun.pc \
	   $(patsubst %,$(B)/inst/%,$(INST_TOOLS))

# One set of objects, position-independent, for the archive and the .so.
$(B)/lib/%.o: lib/%.c $(LIB_HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -fPIC -c -o $@ $<

$(B)/lib/libktun.a: $(LIB_OBJS)
	ar rcs $@ $^

$(B)/lib/$(LIB_SONAME): $(LIB_OBJS) lib/libktun.map
	$(CC) $(CFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script=lib/libktun.map -Wl,--no-undefined \
		-o $@ $(LIB_OBJS) $(ULDLIBS)

$(B)/lib/ktun.pc: lib/ktun.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@VERSION@|$(VERSION)|' -e 's|@PREFIX@|$(PREFIX)|' \
	    -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@LIBS_PRIVATE@|$(ULDLIBS)|' $< > $@

$(B)/lib/libktun.so: $(B)/lib/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $@

# Programs run from the tree (tests, bench, tools in the VM) link the
# archive; the installed tools are linked again, against the .so. A tool
# made of more than tools/<tool>.c names its other objects and flags in
# TOOL_OBJS_<tool> and TOOL_CFLAGS_<tool>.
.SECONDEXPANSION:
$(B)/inst/%: tools/%.c $(B)/lib/libktun.so $(LIB_HDRS) $$(TOOL_OBJS_$$*)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) $(TOOL_CFLAGS_$*) $(LDFLAGS) -o $@ $< $(TOOL_OBJS_$*) \
		-L$(B)/lib -lktun $(ULDLIBS)

$(B)/%: %.c $(B)/lib/libktun.a $(LIB_HDRS) $(wildcard tests/*.h bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) $(LDFLAGS) -o $@ $< $(B)/lib/libktun.a $(ULDLIBS)

install: install-lib install-tools

install-lib: userspace
	$(INSTALL) -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/linux \
		$(DESTDIR)$(MANDIR)/man3
	$(INSTALL) -m 0644 $(B)/lib/$(LIB_SONAME) $(DESTDIR)$(LIBDIR)/
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/libktun.so
	$(INSTALL) -m 0644 $(B)/lib/libktun.a $(DESTDIR)$(LIBDIR)/
	$(INSTALL) -m 0644 $(B)/lib/ktun.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	$(INSTALL) -m 0644 $(LIB_PUB_HDRS) $(DESTDIR)$(INCLUDEDIR)/
	$(INSTALL) -m 0644 $(UAPI_HDRS) $(DESTDIR)$(INCLUDEDIR)/linux/
	$(INSTALL) -m 0644 man/libktun.3 man/libktun-ring.3 $(DESTDIR)$(MANDIR)/man3/

# Each installed tool has its man page, man/<tool>.1 (or .8 for a tool
# only root runs).
install-tools: userspace
	$(INSTALL) -d $(DESTDIR)$(BINDIR)
	$(if $(INST_TOOLS),$(INSTALL) -m 0755 $(patsubst %,$(B)/inst/%,$(INST_TOOLS)) $(DESTDIR)$(BINDIR)/)
	@for t in $(INST_TOOLS); do \
		m=$$(ls man/$$t.1 man/$$t.8 2>/dev/null | head -n 1); \
		[ -n "$$m" ] || { echo "install: tools/$$t.c is in INSTALL_TOOLS but has no man/$$t.1 or .8" >&2; exit 1; }; \
		d=$(DESTDIR)$(MANDIR)/man$${m##*.}; \
		echo "$(INSTALL) -m 0644 $$m $$d/"; \
		$(INSTALL) -d $$d && $(INSTALL) -m 0644 $$m $$d/ || exit 1; \
	done

# The module's sources as DKMS wants them: flat, with dkms.conf beside.
install-dkms:
	$(INSTALL) -d $(DESTDIR)$(DKMSDIR)
	$(INSTALL) -m 0644 driver/Kbuild $(filter-out %.mod.c,$(wildcard driver/*.c driver/*.h)) \
		$(DESTDIR)$(DKMSDIR)/
	$(INSTALL) -d $(DESTDIR)$(DKMSDIR)/include/uapi/linux
	$(INSTALL) -m 0644 $(UAPI_HDRS) $(DESTDIR)$(DKMSDIR)/include/uapi/linux/

# build/deb/: ktun-dkms, libktun$(LIB_MAJOR), libktun-dev and ktun-tools,
# versioned $(VERSION), checked by lintian (scripts/deb).
deb:
	scripts/deb

# The fuzzer is more than one file: tests/fuzz.c and tests/fuzz/*.c.
FUZZ_SRCS	:= $(wildcard tests/fuzz/*.c)
$(B)/tests/fuzz: tests/fuzz.c $(FUZZ_SRCS) $(wildcard tests/fuzz/*.h) $(B)/lib/libktun.a $(LIB_HDRS) $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -Itests -o $@ $< $(FUZZ_SRCS) $(B)/lib/libktun.a $(ULDLIBS)

$(B)/tools/fwd/%.o: tools/fwd/%.c tools/fwd/fwd.h $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -Itools/fwd -c -o $@ $<

$(B)/tools/ktun-fwd: tools/ktun-fwd.c tools/fwd/fwd.h $(FWD_OBJS) $(B)/lib/libktun.a $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -Itools/fwd -o $@ $< $(FWD_OBJS) $(B)/lib/libktun.a $(ULDLIBS)

deps:
	scripts/deps

test: deps
	$(MAKE) all
	tests/check

# The same suite against the stock driver, and against ktun serving
# /dev/net/tun: how compatibility is checked.
test-stock test-compat: deps
	$(MAKE) all
	KTUN_TEST_DRIVER=$(@:test-%=%) tests/check

# The suite, a fuzzer, a fail-nth sweep, a soak and coverage on debug
# kernels (KASAN, lockdep, kmemleak, fault injection; KCSAN): debug/run.
test-debug: deps
	$(MAKE) tools
	debug/run

# Builds and installs the packages on this machine, checks DKMS and
# modprobe in the VM on every kernel, purges them again (tests/pkg).
test-pkg: deps
	tests/pkg

bench: deps
	$(MAKE) all
	bench/run

demo: deps
	$(MAKE) all
	vm/run tools/demo

vm-shell: deps
	$(MAKE) all
	vm/run -i

style:
	@for f in $(filter-out %.mod.c,$(wildcard driver/*.c driver/*.h)) include/uapi/linux/*.h; do \
		scripts/checkpatch $$f || exit 1; done

# checkpatch, then sparse on every installed kernel's headers (6.1, 6.12).
check:
	scripts/check

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/driver clean 2>/dev/null || true
	rm -rf $(B) driver/.kver
