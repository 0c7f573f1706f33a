# SPDX-License-Identifier: GPL-2.0
# ktun: the wrapper. The module's object list lives in driver/Kbuild.

KVER	?= $(shell scripts/kver)
KDIR	?= /lib/modules/$(KVER)/build
VERSION	:= $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)

CC	?= cc
CFLAGS	?= -O2 -g
UCFLAGS	:= -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude/uapi -Ilib $(CFLAGS)
ULDLIBS	:= -pthread -lmnl

B	:= build
LIB_SRCS	:= $(wildcard lib/*.c)
LIB_OBJS	:= $(patsubst %.c,$(B)/%.o,$(LIB_SRCS))
LIB_HDRS	:= $(wildcard lib/*.h include/uapi/linux/*.h)
PROGS	:= $(patsubst %.c,$(B)/%,$(wildcard tests/*.c bench/*.c tools/*.c))

.PHONY: all module tools deps test test-stock test-compat test-debug bench demo vm-shell style check clean
.DEFAULT_GOAL := all

all: module tools

# KTUN_GCOV=1: with gcov (a kernel with CONFIG_GCOV_KERNEL: test-debug).
module:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/driver W=1 KTUN_VERSION=$(VERSION) modules

tools: $(PROGS)

$(B)/lib/%.o: lib/%.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -c -o $@ $<

$(B)/lib/libktun.a: $(LIB_OBJS)
	ar rcs $@ $^

$(B)/%: %.c $(B)/lib/libktun.a $(LIB_HDRS) $(wildcard tests/*.h bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -o $@ $< $(B)/lib/libktun.a $(ULDLIBS)

# The fuzzer is more than one file: tests/fuzz.c and tests/fuzz/*.c.
FUZZ_SRCS	:= $(wildcard tests/fuzz/*.c)
$(B)/tests/fuzz: tests/fuzz.c $(FUZZ_SRCS) $(wildcard tests/fuzz/*.h) $(B)/lib/libktun.a $(LIB_HDRS) $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(UCFLAGS) -Itests -o $@ $< $(FUZZ_SRCS) $(B)/lib/libktun.a $(ULDLIBS)

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
	rm -rf $(B)
