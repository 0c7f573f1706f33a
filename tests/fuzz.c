// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * A structured fuzzer of every entry point of the driver: seeded and
 * reproducible from its seed, multi-threaded so that its operations race,
 * bounded in time and in count, inside network namespaces of its own so
 * that no packet leaves. This file runs the show: configuration, the
 * namespaces, the shared fd pool, the worker threads and the watchdog, the
 * end checks and the report. The operations live in tests/fuzz/: fd.c
 * (open, close, TUNSETIFF, TUNSETQUEUE, persist, owner, write, read, poll,
 * fork), ioctl.c (every other ioctl, unknown numbers), net.c (rtnetlink,
 * netns moves, addresses, stack-side senders, what tools read) and frame.c
 * (the frames written). The ring API, once it exists, gets its own file
 * there and an FZ_RING kind.
 *
 * What must hold: every system call succeeds or fails with an errno its
 * operation allows (fuzz.h's sets), nothing hangs (a watchdog), and at the
 * end, with every fd closed, no device is left but persistent ones, which
 * are then deleted, leaving both namespaces with nothing but lo.
 *
 * Budget and seed, from the environment or the command line:
 *   KTUN_FUZZ_SEED / --seed=N      default: from the clock
 *   KTUN_FUZZ_OPS / --ops=N        at most N operations (default 20000)
 *   KTUN_FUZZ_SECONDS / --seconds=S  at most S seconds (default 3)
 *   KTUN_FUZZ_THREADS / --threads=N  worker threads (default 4)
 *   KTUN_FUZZ_KINDS=write,read,... only these operation kinds
 *   KTUN_FUZZ_VERBOSE=1            one line per operation (minimising)
 *   KTUN_FUZZ_HANG=S               an op running S seconds is a hang (60)
 * With one thread, the same seed replays the same operations.
 */
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <sched.h>
#include <linux/filter.h>

#include "util.h"
#include "fuzz/fuzz.h"

#define FZ_MAX_ERRNO	134

const char *const fz_kind_names[FZ_NKINDS] = {
	"open", "close", "setiff", "setqueue", "persist", "owner", "ioctl",
	"badioctl", "write", "read", "poll", "fork", "link", "netns", "addr",
	"send", "info",
};

static struct {
	uint64_t seed;
	long ops;
	double seconds;
	int threads, verbose, hang;
	unsigned int kinds;	/* bit per enum fz_kind */
} cfg;

struct fz_slot fz_slots[FZ_SLOTS];
static unsigned long counts[FZ_NKINDS][FZ_MAX_ERRNO];
static long total_started;
static int unexpected;
static uint64_t deadline_ns;
void *fz_hole, *fz_edge;	/* an unmapped page; the last bytes before one */
int fz_ns[2] = { -1, -1 };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

fz_eset fz_ebit(int err)
{
	static const int map[] = {
		[FZB_EPERM] = EPERM, [FZB_ENOENT] = ENOENT, [FZB_EIO] = EIO,
		[FZB_ENXIO] = ENXIO, [FZB_E2BIG] = E2BIG, [FZB_EBADF] = EBADF,
		[FZB_EAGAIN] = EAGAIN, [FZB_ENOMEM] = ENOMEM,
		[FZB_EFAULT] = EFAULT, [FZB_EBUSY] = EBUSY,
		[FZB_EEXIST] = EEXIST, [FZB_ENODEV] = ENODEV,
		[FZB_EINVAL] = EINVAL, [FZB_ENFILE] = ENFILE,
		[FZB_ENOSPC] = ENOSPC, [FZB_ERANGE] = ERANGE,
		[FZB_EMSGSIZE] = EMSGSIZE, [FZB_EOPNOTSUPP] = EOPNOTSUPP,
		[FZB_EADDRNOTAVAIL] = EADDRNOTAVAIL, [FZB_ENETDOWN] = ENETDOWN,
		[FZB_ENETUNREACH] = ENETUNREACH, [FZB_ENOBUFS] = ENOBUFS,
		[FZB_EHOSTUNREACH] = EHOSTUNREACH, [FZB_EBADFD] = EBADFD,
		[FZB_ECONNREFUSED] = ECONNREFUSED,
		[FZB_EAFNOSUPPORT] = EAFNOSUPPORT, [FZB_ENOTTY] = ENOTTY,
		[FZB_EDESTADDRREQ] = EDESTADDRREQ, [FZB_ENOTSUP] = 524,
		[FZB_EPROTONOSUPPORT] = EPROTONOSUPPORT, [FZB_EACCES] = EACCES,
	};
	unsigned int i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i] == err)
			return (fz_eset)1 << i;
	return 0;
}

void fz_what(struct fz_thread *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->what, sizeof(t->what), fmt, ap);
	va_end(ap);
}

void fz_done(struct fz_thread *t, enum fz_kind kind, int err, fz_eset allowed)
{
	int e = err > 0 && err < FZ_MAX_ERRNO ? err : err ? FZ_MAX_ERRNO - 1 : 0;

	__atomic_add_fetch(&counts[kind][e], 1, __ATOMIC_RELAXED);
	if (cfg.verbose)
		kt_note("t%d #%lu %s: %s -> %s\n", t->idx, t->opno,
			fz_kind_names[kind], t->what, kt_errname(err));
	if (!err || (allowed & fz_ebit(err)))
		return;
	if (__atomic_add_fetch(&unexpected, 1, __ATOMIC_SEQ_CST) <= 20)
		FAIL_CHECK("seed %llu, thread %d, op #%lu, %s: %s: unexpected %s",
			   (unsigned long long)cfg.seed, t->idx, t->opno,
			   fz_kind_names[kind], t->what, kt_errname(err));
}

/* ---- the shared pools ---------------------------------------------------- */

const char *fz_pool_name(struct fz_rng *r)
{
	static const char *const pool[FZ_NAMES] = {
		"fz0", "fz1", "fz2", "fz3", "fz4", "fz5",
	};
	static const char *const odd[] = {
		"", "fz%d", "tun%d", "tap%d", "lo", "fz%d%d", "a b", "x/y", ".",
		"..", "fz0123456789abcd", "\xff\xfe", "%s%n", "fzmoved",
	};

	return fz_chance(r, 90) ? FZ_PICK(r, pool) : FZ_PICK(r, odd);
}

int fz_pool_index(const char *name)
{
	if (!strncmp(name, "fz", 2) && name[2] >= '0' &&
	    name[2] < '0' + FZ_NAMES && !name[3])
		return name[2] - '0';
	return -1;
}

int fz_load(const int *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* A pointer the kernel must refuse to touch, or touches only in part. */
void *fz_bad_ptr(struct fz_rng *r)
{
	switch (fz_below(r, 5)) {
	case 0:
		return NULL;
	case 1:
		return (void *)1;
	case 2:
		return fz_hole;
	case 3:
		return (void *)0xffffffff81000000UL;
	default:
		return (char *)fz_edge - 1 - fz_below(r, 8);
	}
}

/*
 * Takes a random non-empty slot shared, preferring one attached (@want 1)
 * or not (@want 0) as far as its hint knows; NULL if it drew only empty ones.
 */
struct fz_slot *fz_slot_get(struct fz_thread *t, int want)
{
	struct fz_slot *s, *found = NULL;
	int i;

	for (i = 0; i < 4; i++) {
		s = &fz_slots[fz_below(&t->rng, FZ_SLOTS)];
		if (s == found)
			continue;
		pthread_rwlock_rdlock(&s->lock);
		if (s->fd < 0) {
			pthread_rwlock_unlock(&s->lock);
			continue;
		}
		if (want < 0 || !fz_load(&s->flags) == !want) {
			if (found)
				pthread_rwlock_unlock(&found->lock);
			return s;
		}
		if (found)
			pthread_rwlock_unlock(&found->lock);
		found = s;
	}
	return found;
}

void fz_slot_put(struct fz_slot *s)
{
	pthread_rwlock_unlock(&s->lock);
}

/* ---- the run ---------------------------------------------------------------- */

struct fz_op {
	enum fz_kind kind;
	void (*fn)(struct fz_thread *t);
	int weight;
};

static const struct fz_op ops[] = {
	{ FZ_OPEN, fz_op_open, 6 },	{ FZ_CLOSE, fz_op_close, 3 },
	{ FZ_SETIFF, fz_op_setiff, 10 },	{ FZ_SETQUEUE, fz_op_setqueue, 5 },
	{ FZ_PERSIST, fz_op_persist, 3 },	{ FZ_OWNER, fz_op_owner, 2 },
	{ FZ_IOCTL, fz_op_ioctl, 12 },	{ FZ_BADIOCTL, fz_op_badioctl, 3 },
	{ FZ_WRITE, fz_op_write, 18 },	{ FZ_READ, fz_op_read, 12 },
	{ FZ_POLL, fz_op_poll, 5 },	{ FZ_FORK, fz_op_fork, 1 },
	{ FZ_LINK, fz_op_link, 6 },	{ FZ_NETNS, fz_op_netns, 1 },
	{ FZ_ADDR, fz_op_addr, 3 },	{ FZ_SEND, fz_op_send, 10 },
	{ FZ_INFO, fz_op_info, 2 },
	/* FZ_RING: the ring API's operations, once it exists (issue 8). */
};

static struct fz_thread **threads;
static int threads_done;

static void *worker(void *arg)
{
	struct fz_thread *t = arg;
	int total = 0, i, w;
	long n;

	for (i = 0; i < (int)(sizeof(ops) / sizeof(ops[0])); i++)
		if (cfg.kinds & (1u << ops[i].kind))
			total += ops[i].weight;
	while (total) {
		n = __atomic_fetch_add(&total_started, 1, __ATOMIC_RELAXED);
		if (n >= cfg.ops || now_ns() > deadline_ns)
			break;
		w = fz_below(&t->rng, total);
		for (i = 0; ; i++) {
			if (!(cfg.kinds & (1u << ops[i].kind)))
				continue;
			if (w < ops[i].weight)
				break;
			w -= ops[i].weight;
		}
		t->opno = n;
		t->kind = ops[i].kind;
		t->what[0] = '\0';
		__atomic_store_n(&t->start_ns, now_ns(), __ATOMIC_RELEASE);
		ops[i].fn(t);
		__atomic_store_n(&t->start_ns, 0, __ATOMIC_RELEASE);
	}
	__atomic_add_fetch(&threads_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static uint64_t env_num(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : dflt;
}

/*
 * --seed=, --ops=, --seconds=, --threads= on the command line become the
 * environment variables (glibc hands constructors argc and argv); the
 * harness then sees them as patterns that select every test (when no
 * other pattern was given) or none.
 */
__attribute__((constructor)) static void fz_args(int argc, char **argv)
{
	static const char *const names[] = { "seed", "ops", "seconds", "threads" };
	static char all[] = "*", none[] = "\x01";
	int i, j, flags = 0;
	char env[64];

	for (i = 1; i < argc; i++)
		for (j = 0; j < 4; j++) {
			size_t l = strlen(names[j]);

			if (strncmp(argv[i], "--", 2) || strncmp(argv[i] + 2, names[j], l) ||
			    argv[i][2 + l] != '=')
				continue;
			snprintf(env, sizeof(env), "KTUN_FUZZ_%s", names[j]);
			for (char *p = env + 10; *p; p++)
				*p = *p - 'a' + 'A';
			setenv(env, argv[i] + 3 + l, 1);
			argv[i] = NULL;
			flags++;
		}
	for (i = 1; i < argc; i++)
		if (!argv[i])
			argv[i] = flags == argc - 1 ? all : none;
}

static void config(void)
{
	const char *kinds = getenv("KTUN_FUZZ_KINDS");
	const char *sec = getenv("KTUN_FUZZ_SECONDS");
	int k;

	cfg.seed = env_num("KTUN_FUZZ_SEED", 0);
	if (!cfg.seed)
		cfg.seed = (now_ns() ^ (uint64_t)getpid() << 32) % 1000000007ULL + 1;
	cfg.ops = env_num("KTUN_FUZZ_OPS", 20000);
	cfg.seconds = sec && *sec ? atof(sec) : 3;
	cfg.threads = env_num("KTUN_FUZZ_THREADS", 4);
	cfg.threads = cfg.threads < 1 ? 1 : cfg.threads > 64 ? 64 : cfg.threads;
	cfg.verbose = env_num("KTUN_FUZZ_VERBOSE", 0);
	cfg.hang = env_num("KTUN_FUZZ_HANG", 60);
	cfg.kinds = (1u << FZ_NKINDS) - 1;
	if (kinds && *kinds) {
		cfg.kinds = 0;
		for (k = 0; k < FZ_NKINDS; k++) {
			const char *p = strstr(kinds, fz_kind_names[k]);
			size_t l = strlen(fz_kind_names[k]);

			if (p && (p == kinds || p[-1] == ',') && (!p[l] || p[l] == ','))
				cfg.kinds |= 1u << k;
		}
	}
}

/* The fuzzer's own namespaces: A, where it runs, and B, where devices go. */
static void setup_namespaces(void)
{
	ASSERT_OK(unshare(CLONE_NEWNET | CLONE_NEWNS));
	/* A sysfs of namespace A, so /sys/class/net shows its devices. */
	ASSERT_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	if (mount("sysfs", "/sys", "sysfs", 0, NULL))
		kt_note("no sysfs of our own (%s): info reads none\n", kt_errname(errno));
	fz_ns[0] = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fz_ns[0], 0);
	kt_up("lo");
	ASSERT_OK(unshare(CLONE_NEWNET));
	fz_ns[1] = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_GE(fz_ns[1], 0);
	kt_up("lo");
	ASSERT_OK(setns(fz_ns[0], CLONE_NEWNET));
}

/*
 * With every fd closed, only persistent devices may be left: delete them;
 * then nothing but lo may be there. Returns how many devices it deleted.
 */
static int check_namespace(int ns)
{
	static char names[KT_MAX_IFS][IFNAMSIZ];
	struct ktun_link_info info;
	int n, i, ret, deleted = 0;

	ASSERT_OK(setns(fz_ns[ns], CLONE_NEWNET));
	n = kt_ifnames(names);
	for (i = 0; i < n; i++) {
		if (!strcmp(names[i], "lo"))
			continue;
		ret = ktun_link_info(names[i], &info);
		if (ret) {
			FAIL_CHECK("netns %c: %s: %s", "AB"[ns], names[i], kt_errname(-ret));
			continue;
		}
		if (strcmp(info.kind, kt_link_kind()))
			FAIL_CHECK("netns %c: %s is a %s", "AB"[ns], names[i], info.kind);
		else if (info.persist != 1)
			FAIL_CHECK("netns %c: %s outlived its last fd and is not persistent",
				   "AB"[ns], names[i]);
		ret = kt_nl_link_del(names[i]);
		if (ret)
			FAIL_CHECK("netns %c: deleting %s: %s", "AB"[ns], names[i],
				   kt_errname(-ret));
		deleted++;
	}
	n = kt_ifnames(names);
	for (i = 0; i < n; i++)
		if (strcmp(names[i], "lo"))
			FAIL_CHECK("netns %c: %s is still there after its delete",
				   "AB"[ns], names[i]);
	ASSERT_OK(setns(fz_ns[0], CLONE_NEWNET));
	return deleted;
}

static void report(double secs, int persistent)
{
	unsigned long ran = 0, kinds_n;
	int k, e;
	char line[1024];

	for (k = 0; k < FZ_NKINDS; k++) {
		size_t o;

		kinds_n = 0;
		for (e = 0; e < FZ_MAX_ERRNO; e++)
			kinds_n += counts[k][e];
		if (!kinds_n)
			continue;
		ran += kinds_n;
		o = snprintf(line, sizeof(line), "%-9s %7lu:", fz_kind_names[k], kinds_n);
		for (e = 0; e < FZ_MAX_ERRNO && o < sizeof(line) - 40; e++)
			if (counts[k][e])
				o += snprintf(line + o, sizeof(line) - o, " %s %lu",
					      e ? kt_errname(e) : "ok", counts[k][e]);
		printf("# fuzz: %s\n", line);
	}
	printf("# fuzz: seed=%llu threads=%d ops=%lu seconds=%.1f ops_per_s=%.0f "
	       "persistent_left=%d unexpected=%d\n", (unsigned long long)cfg.seed,
	       cfg.threads, ran, secs, secs > 0 ? ran / secs : 0.0, persistent,
	       unexpected);
}

TEST(fuzz)
{
	pthread_t tids[64];
	uint64_t t0, stuck;
	int i, persistent;
	double secs;

	if (kt_stock())
		SKIP("its errno sets are ktun's");
	config();
	printf("# fuzz: seed=%llu threads=%d ops<=%ld seconds<=%.1f\n",
	       (unsigned long long)cfg.seed, cfg.threads, cfg.ops, cfg.seconds);
	alarm(cfg.seconds + 2 * cfg.hang + 60);
	signal(SIGIO, SIG_IGN);
	setup_namespaces();

	fz_hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fz_edge = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(fz_hole != MAP_FAILED && fz_edge != MAP_FAILED);
	munmap(fz_hole, 4096);
	munmap((char *)fz_edge + 4096, 4096);
	fz_edge = (char *)fz_edge + 4096;

	for (i = 0; i < FZ_SLOTS; i++) {
		pthread_rwlock_init(&fz_slots[i].lock, NULL);
		fz_slots[i].fd = -1;
	}
	threads = calloc(cfg.threads, sizeof(*threads));
	ASSERT_TRUE(threads);
	t0 = now_ns();
	deadline_ns = t0 + (uint64_t)(cfg.seconds * 1e9);
	for (i = 0; i < cfg.threads; i++) {
		threads[i] = calloc(1, sizeof(**threads));
		ASSERT_TRUE(threads[i]);
		threads[i]->idx = i;
		threads[i]->rng.s = cfg.seed * 0x9e3779b97f4a7c15ULL + i + 1;
		threads[i]->epfd = epoll_create1(EPOLL_CLOEXEC);
		ASSERT_OK(fz_net_thread_init(threads[i]));
	}
	for (i = 0; i < cfg.threads; i++)
		ASSERT_OK(-pthread_create(&tids[i], NULL, worker, threads[i]));

	/* The watchdog: an op that does not return in time is a hang. */
	while (__atomic_load_n(&threads_done, __ATOMIC_SEQ_CST) < cfg.threads) {
		usleep(50000);
		for (i = 0; i < cfg.threads; i++) {
			stuck = __atomic_load_n(&threads[i]->start_ns, __ATOMIC_ACQUIRE);
			if (stuck && now_ns() - stuck > cfg.hang * 1000000000ULL)
				FAIL("seed %llu: hang: thread %d, op #%lu (%s: %s) running for %d s; "
				     "rerun: KTUN_FUZZ_SEED=%llu KTUN_FUZZ_THREADS=%d build/tests/fuzz",
				     (unsigned long long)cfg.seed, i, threads[i]->opno,
				     fz_kind_names[threads[i]->kind], threads[i]->what, cfg.hang,
				     (unsigned long long)cfg.seed, cfg.threads);
		}
	}
	for (i = 0; i < cfg.threads; i++) {
		pthread_join(tids[i], NULL);
		fz_net_thread_uninit(threads[i]);
		close(threads[i]->epfd);
	}
	secs = (now_ns() - t0) / 1e9;
	for (i = 0; i < FZ_SLOTS; i++)
		if (fz_slots[i].fd >= 0)
			close(fz_slots[i].fd);
	persistent = check_namespace(0) + check_namespace(1);
	report(secs, persistent);
	if (unexpected || kt_res->failed)
		kt_note("fuzz failed; rerun: KTUN_FUZZ_SEED=%llu KTUN_FUZZ_THREADS=%d "
			"KTUN_FUZZ_OPS=%ld build/tests/fuzz (KTUN_FUZZ_VERBOSE=1 lists every op)\n",
			(unsigned long long)cfg.seed, cfg.threads, total_started);
}
