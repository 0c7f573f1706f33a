/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * The test harness each test program includes; it supplies main().
 *
 *   TEST(name) { ... }                   a test
 *   FIXTURE(f) { fields };               state shared by TEST_F(f, ...) tests
 *   FIXTURE_SETUP(f) { self->... }       runs before each TEST_F(f, name)
 *   FIXTURE_TEARDOWN(f) { ... }          runs after it, also when an ASSERT
 *                                        in the test's main thread ends it
 *   ASSERT_*(...)  setup: on failure record it and end the test
 *   EXPECT_*(...)  checks: on failure record it and carry on
 *   SKIP(fmt, ...) end the test as skipped
 *
 * Every test runs in a forked child that leads its own process group, with
 * an alarm() hang guard (KTUN_TEST_GUARD seconds, default 60): a crash or a
 * hang is reported against that test and the program goes on. Results live
 * in a shared mapping, so threads and forked helpers of a test can fail it
 * too. After the test the runner kills what is left of the group, reaps it
 * (it is the subreaper), deletes the interfaces the test registered with
 * kt_cleanup_dev(), and fails the test if any other new interface is left.
 *
 * Output, one line per test, then one per program:
 *   ok - <prog>.<test>
 *   not ok - <prog>.<test>: <first failure>
 *   skip - <prog>.<test>: <reason>
 *   # <prog>: N passed, N failed, N skipped
 * Diagnostics start with '#'. Exit status 1 if anything failed.
 * Arguments (or KTUN_TEST_FILTER, comma-separated) are fnmatch() patterns
 * over "<prog>.<test>", "<test>" and "<prog>"; a test runs if any matches.
 */
#ifndef KT_HARNESS_H
#define KT_HARNESS_H

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "nl.h"

#define KT_MAX_DEVS	128
#define KT_MAX_IFS	256

struct kt_test {
	const char *name;
	void (*fn)(void);
	struct kt_test *next;
};

/* Shared between the runner, the test child and anything the child forks. */
struct kt_result {
	int failed;
	int skipped;
	int why_taken;
	char why[512];
	int ndevs;
	char devs[KT_MAX_DEVS][IFNAMSIZ];
};

static struct kt_test *kt_head, **kt_tail = &kt_head;
static struct kt_result *kt_res;
static const char *kt_prog = "test";
static pid_t kt_test_pid;			/* the test child, in every test process */
static void (*kt_td_fn)(void *);
static void *kt_td_arg;

static inline void kt_register(struct kt_test *t)
{
	*kt_tail = t;
	kt_tail = &t->next;
}

#define KT_REGISTER(str, fn_)						\
	static struct kt_test kt_t_##fn_ = { .name = str, .fn = fn_ };	\
	__attribute__((constructor)) static void kt_reg_##fn_(void)	\
	{								\
		kt_register(&kt_t_##fn_);				\
	}

#define TEST(name)							\
	static void kt_test_##name(void);				\
	KT_REGISTER(#name, kt_test_##name)				\
	static void kt_test_##name(void)

#define FIXTURE(f)		struct kt_fx_##f
#define FIXTURE_SETUP(f)	static void kt_setup_##f(struct kt_fx_##f *self)
#define FIXTURE_TEARDOWN(f)	static void kt_teardown_##f(struct kt_fx_##f *self)

#define TEST_F(f, name)							\
	static void kt_body_##f##_##name(struct kt_fx_##f *self);	\
	static void kt_td_##f##_##name(void *p)				\
	{								\
		kt_teardown_##f(p);					\
	}								\
	static void kt_fx_##f##_##name(void)				\
	{								\
		static struct kt_fx_##f fx;				\
									\
		kt_setup_##f(&fx);					\
		kt_td_arg = &fx;					\
		kt_td_fn = kt_td_##f##_##name;				\
		kt_body_##f##_##name(&fx);				\
	}								\
	KT_REGISTER(#f "_" #name, kt_fx_##f##_##name)			\
	static void kt_body_##f##_##name(struct kt_fx_##f *self)

static inline const char *kt_errname(int e)
{
	const char *n = e ? strerrorname_np(e) : "0";

	return n ? n : "E?";
}

static inline int kt_is_test_main(void)
{
	return getpid() == kt_test_pid && gettid() == kt_test_pid;
}

/* Ends the calling process; the test's main thread runs the teardown first. */
__attribute__((noreturn)) static inline void kt_end(int status)
{
	void (*td)(void *) = kt_td_fn;

	if (kt_is_test_main() && td) {
		kt_td_fn = NULL;	/* an ASSERT in the teardown ends here */
		td(kt_td_arg);
	}
	_exit(status);
}

__attribute__((format(printf, 3, 4)))
static inline void kt_fail(const char *file, int line, const char *fmt, ...)
{
	const char *base = strrchr(file, '/');
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	base = base ? base + 1 : file;
	dprintf(STDOUT_FILENO, "#   %s:%d: %s\n", base, line, msg);
	__atomic_add_fetch(&kt_res->failed, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_exchange_n(&kt_res->why_taken, 1, __ATOMIC_SEQ_CST))
		snprintf(kt_res->why, sizeof(kt_res->why), "%s:%d: %s",
			 base, line, msg);
}

/* A diagnostic line, for context around a failure. */
#define kt_note(...)	dprintf(STDOUT_FILENO, "#   " __VA_ARGS__)

#define KT_FAILED(fatal, ...) do {					\
	kt_fail(__FILE__, __LINE__, __VA_ARGS__);			\
	if (fatal)							\
		kt_end(1);						\
} while (0)

#define KT_CMP(kind, fatal, a, op, b) do {				\
	long long kt_a_ = (long long)(a), kt_b_ = (long long)(b);	\
	if (!(kt_a_ op kt_b_))						\
		KT_FAILED(fatal, "%s(%s, %s): %lld, expected %s %lld",	\
			  kind, #a, #b, kt_a_, #op, kt_b_);		\
} while (0)

#define KT_BOOL(kind, fatal, c, want) do {				\
	if (!(c) != !(want))						\
		KT_FAILED(fatal, "%s(%s) does not hold", kind, #c);	\
} while (0)

/* @expr returns -1 and sets errno to @err. */
#define KT_ERRNO(kind, fatal, expr, err) do {				\
	long long kt_r_;						\
	int kt_e_;							\
	errno = 0;							\
	kt_r_ = (long long)(expr);					\
	kt_e_ = errno;							\
	if (kt_r_ != -1 || kt_e_ != (err))				\
		KT_FAILED(fatal, "%s(%s): returned %lld (%s), expected -1 (%s)", \
			  kind, #expr, kt_r_, kt_r_ == -1 ? kt_errname(kt_e_) : "no error", \
			  kt_errname(err));				\
} while (0)

/* @expr returns >= 0; a negative value is reported with errno, or as -errno. */
#define KT_OK(kind, fatal, expr) do {					\
	long long kt_r_;						\
	int kt_e_;							\
	errno = 0;							\
	kt_r_ = (long long)(expr);					\
	kt_e_ = errno;							\
	if (kt_r_ < 0)							\
		KT_FAILED(fatal, "%s(%s): returned %lld (%s)", kind, #expr, \
			  kt_r_, kt_errname(kt_r_ == -1 ? kt_e_ : (int)-kt_r_)); \
} while (0)

#define KT_STREQ(kind, fatal, a, b) do {				\
	const char *kt_sa_ = (a), *kt_sb_ = (b);			\
	if (strcmp(kt_sa_, kt_sb_))					\
		KT_FAILED(fatal, "%s(%s, %s): \"%s\", expected \"%s\"",	\
			  kind, #a, #b, kt_sa_, kt_sb_);		\
} while (0)

#define ASSERT_EQ(a, b)		KT_CMP("ASSERT_EQ", 1, a, ==, b)
#define ASSERT_NE(a, b)		KT_CMP("ASSERT_NE", 1, a, !=, b)
#define ASSERT_LT(a, b)		KT_CMP("ASSERT_LT", 1, a, <, b)
#define ASSERT_LE(a, b)		KT_CMP("ASSERT_LE", 1, a, <=, b)
#define ASSERT_GT(a, b)		KT_CMP("ASSERT_GT", 1, a, >, b)
#define ASSERT_GE(a, b)		KT_CMP("ASSERT_GE", 1, a, >=, b)
#define ASSERT_TRUE(c)		KT_BOOL("ASSERT_TRUE", 1, c, 1)
#define ASSERT_FALSE(c)		KT_BOOL("ASSERT_FALSE", 1, c, 0)
#define ASSERT_ERRNO(e, err)	KT_ERRNO("ASSERT_ERRNO", 1, e, err)
#define ASSERT_OK(e)		KT_OK("ASSERT_OK", 1, e)
#define ASSERT_STREQ(a, b)	KT_STREQ("ASSERT_STREQ", 1, a, b)

#define EXPECT_EQ(a, b)		KT_CMP("EXPECT_EQ", 0, a, ==, b)
#define EXPECT_NE(a, b)		KT_CMP("EXPECT_NE", 0, a, !=, b)
#define EXPECT_LT(a, b)		KT_CMP("EXPECT_LT", 0, a, <, b)
#define EXPECT_LE(a, b)		KT_CMP("EXPECT_LE", 0, a, <=, b)
#define EXPECT_GT(a, b)		KT_CMP("EXPECT_GT", 0, a, >, b)
#define EXPECT_GE(a, b)		KT_CMP("EXPECT_GE", 0, a, >=, b)
#define EXPECT_TRUE(c)		KT_BOOL("EXPECT_TRUE", 0, c, 1)
#define EXPECT_FALSE(c)		KT_BOOL("EXPECT_FALSE", 0, c, 0)
#define EXPECT_ERRNO(e, err)	KT_ERRNO("EXPECT_ERRNO", 0, e, err)
#define EXPECT_OK(e)		KT_OK("EXPECT_OK", 0, e)
#define EXPECT_STREQ(a, b)	KT_STREQ("EXPECT_STREQ", 0, a, b)

/* Fails the test with a message of its own; FAIL ends it, FAIL_CHECK does not. */
#define FAIL(...)		KT_FAILED(1, __VA_ARGS__)
#define FAIL_CHECK(...)		KT_FAILED(0, __VA_ARGS__)

#define SKIP(...) do {							\
	if (!__atomic_exchange_n(&kt_res->why_taken, 1, __ATOMIC_SEQ_CST)) \
		snprintf(kt_res->why, sizeof(kt_res->why), __VA_ARGS__); \
	__atomic_store_n(&kt_res->skipped, 1, __ATOMIC_SEQ_CST);	\
	kt_end(0);							\
} while (0)

/*
 * Registers @name to be deleted after the test, whatever its outcome: the
 * backstop for persistent devices when a test ends early.
 */
static inline void kt_cleanup_dev(const char *name)
{
	int i = __atomic_fetch_add(&kt_res->ndevs, 1, __ATOMIC_SEQ_CST);

	if (i < KT_MAX_DEVS)
		snprintf(kt_res->devs[i], IFNAMSIZ, "%.15s", name);
}

static int kt_guard(void)
{
	const char *g = getenv("KTUN_TEST_GUARD");
	int s = g ? atoi(g) : 0;

	return s > 0 ? s : 60;
}

static int kt_selected(const char *full, const char *name, char **pats, int npats)
{
	int i;

	if (!npats)
		return 1;
	for (i = 0; i < npats; i++)
		if (!fnmatch(pats[i], full, 0) || !fnmatch(pats[i], name, 0) ||
		    !fnmatch(pats[i], kt_prog, 0))
			return 1;
	return 0;
}

/* Interface names, sorted by nothing; returns how many, at most KT_MAX_IFS. */
static int kt_ifnames(char (*names)[IFNAMSIZ])
{
	struct if_nameindex *ifs = if_nameindex(), *p;
	int n = 0;

	for (p = ifs; p && p->if_index && n < KT_MAX_IFS; p++)
		snprintf(names[n++], IFNAMSIZ, "%s", p->if_name);
	if (ifs)
		if_freenameindex(ifs);
	return n;
}

static void kt_del_link(const char *name)
{
	int ret;

	if (!if_nametoindex(name))
		return;
	ret = kt_nl_link_del(name);
	if (ret && ret != -ENODEV)
		dprintf(STDOUT_FILENO, "#   could not delete %s: %s\n", name, kt_errname(-ret));
}

/* Waits for every process the test left behind: children and orphans alike. */
static void kt_reap(pid_t pgrp)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	kill(-pgrp, SIGKILL);
	for (i = 0; i < 3000; i++) {
		pid_t p = waitpid(-1, NULL, WNOHANG);

		if (p < 0 && errno == ECHILD)
			return;
		if (p == 0)
			nanosleep(&ts, NULL);
	}
	dprintf(STDOUT_FILENO, "#   processes of the test did not die in 30 s\n");
}

static int kt_run(struct kt_test *t, const char *full)
{
	static char before[KT_MAX_IFS][IFNAMSIZ], after[KT_MAX_IFS][IFNAMSIZ];
	int nbefore, nafter, i, j, st, guard = kt_guard();
	char leaked[128] = "";
	pid_t pid;

	memset(kt_res, 0, sizeof(*kt_res));
	nbefore = kt_ifnames(before);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (!pid) {
		setpgid(0, 0);
		kt_test_pid = getpid();
		signal(SIGPIPE, SIG_IGN);
		alarm(guard);
		t->fn();
		kt_end(0);
	}
	setpgid(pid, pid);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	kt_reap(pid);

	for (i = 0; i < kt_res->ndevs && i < KT_MAX_DEVS; i++)
		kt_del_link(kt_res->devs[i]);
	nafter = kt_ifnames(after);
	for (i = 0; i < nafter; i++) {
		for (j = 0; j < nbefore; j++)
			if (!strcmp(after[i], before[j]))
				break;
		if (j < nbefore)
			continue;
		snprintf(leaked + strlen(leaked), sizeof(leaked) - strlen(leaked),
			 " %.15s", after[i]);
		kt_del_link(after[i]);
	}

	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM) {
		printf("not ok - %s: hang guard: no result after %d s%s%s\n", full,
		       guard, kt_res->failed ? "; first failure: " : "",
		       kt_res->failed ? kt_res->why : "");
		return 1;
	}
	if (WIFSIGNALED(st)) {
		printf("not ok - %s: killed by signal %d (%s)\n", full,
		       WTERMSIG(st), strsignal(WTERMSIG(st)));
		return 1;
	}
	if (kt_res->failed) {
		printf("not ok - %s: %s%s%s\n", full, kt_res->why,
		       kt_res->failed > 1 ? " (and more, see above)" : "",
		       *leaked ? "; left behind:" : "");
		if (*leaked)
			printf("#   %s\n", leaked);
		return 1;
	}
	if (WEXITSTATUS(st)) {
		printf("not ok - %s: exited with status %d\n", full, WEXITSTATUS(st));
		return 1;
	}
	if (*leaked) {
		printf("not ok - %s: interfaces left behind:%s\n", full, leaked);
		return 1;
	}
	if (kt_res->skipped) {
		printf("skip - %s: %s\n", full, kt_res->why);
		return 2;
	}
	printf("ok - %s\n", full);
	return 0;
}

int main(int argc, char **argv)
{
	int npass = 0, nfail = 0, nskip = 0, npats = argc - 1;
	char **pats = argv + 1, *filter = getenv("KTUN_TEST_FILTER");
	char *fpats[64];
	struct kt_test *t;
	char full[256];

	kt_prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (!npats && filter && *filter) {
		filter = strdup(filter);
		for (char *s = strtok(filter, ", "); s && npats < 64; s = strtok(NULL, ", "))
			fpats[npats++] = s;
		pats = fpats;
	}
	/* The stock driver's node, unless told otherwise. */
	if (getenv("KTUN_TEST_DRIVER") && !strcmp(getenv("KTUN_TEST_DRIVER"), "stock"))
		setenv("KTUN_DEV", "/dev/net/tun", 0);

	kt_res = mmap(NULL, sizeof(*kt_res), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (kt_res == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (t = kt_head; t; t = t->next) {
		snprintf(full, sizeof(full), "%.100s.%.100s", kt_prog, t->name);
		if (!kt_selected(full, t->name, pats, npats))
			continue;
		switch (kt_run(t, full)) {
		case 0:
			npass++;
			break;
		case 2:
			nskip++;
			break;
		default:
			nfail++;
		}
	}
	printf("# %s: %d passed, %d failed, %d skipped\n", kt_prog, npass, nfail, nskip);
	return nfail ? 1 : 0;
}

#endif
