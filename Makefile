# SPDX-License-Identifier: GPL-2.0
# ktun: the wrapper. The module's object list lives in driver/Kbuild.

KVER	?= $(shell scripts/kver)
KDIR	?= /lib/modules/$(KVER)/build
VERSION	:= $(shell git describe --always --dirty --tags 2>/dev/null || echo unknown)

CC	?= cc
CFLAGS	?= -O2 -g
UCFLAGS	:= -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude/uapi -Ilib $(CFLAGS)
ULDLIBS	:= -pthread

B	:= build
LIB_SRCS	:= $(wildcard lib/*.c)
LIB_OBJS	:= $(patsubst %.c,$(B)/%.o,$(LIB_SRCS))
LIB_HDRS	:= $(wildcard lib/*.h include/uapi/linux/*.h)
PROGS	:= $(patsubst %.c,$(B)/%,$(wildcard tests/*.c bench/*.c tools/*.c))
# ktun-fwd is two files: tools/ktun-fwd.c and its device side in tools/fwd/.
FWD_OBJS	:= $(patsubst %.c,$(B)/%.o,$(wildcard tools/fwd/*.c))

.PHONY: all module tools deps test test-stock test-compat bench demo vm-shell style check clean
.DEFAULT_GOAL := all

all: module tools

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

check:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/driver W=1 C=2 KTUN_VERSION=$(VERSION) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/driver clean 2>/dev/null || true
	rm -rf $(B)
