/*
 * The channel between a rank and its node agent: a Unix stream socket
 * (path in CRMPI_AGENT_SOCKET) carrying one text line per message. A helper
 * thread reads the agent's messages and advances the quiesce state; the
 * main thread writes (under write_lock). Before a dump the rank closes the
 * socket (CRIU cannot dump a connection to a process outside the tree) and
 * reconnects afterwards, to the same agent after a checkpoint or to a new
 * one after a restore.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int open_socket(void)
{
	struct sockaddr_un addr;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, crmpi_S.socket_path, sizeof(addr.sun_path) - 1);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int crmpi_agent_connect(void)
{
	const char *path = getenv("CRMPI_AGENT_SOCKET");
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(crmpi_S.socket_path))
		return CRMPI_ENOTPRESENT;
	strcpy(crmpi_S.socket_path, path);
	fd = open_socket();
	if (fd < 0)
		return CRMPI_ENOTPRESENT;
	crmpi_S.fd = fd;
	return crmpi_agent_send("HELLO %d %d %d %d NEW", CRMPI_ABI_VERSION, (int)getpid(), crmpi_S.world_rank,
				crmpi_S.world_size);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int vsend_line(int fd, const char *fmt, va_list ap)
{
	char *line = NULL;
	int n = vasprintf(&line, fmt, ap);
	int rc;

	if (n < 0)
		return -ENOMEM;
	line = realloc(line, (size_t)n + 2);
	if (!line)
		return -ENOMEM;
	line[n] = '\n';
	line[n + 1] = '\0';
	rc = write_all(fd, line, (size_t)n + 1);
	free(line);
	return rc;
}

int crmpi_agent_send(const char *fmt, ...)
{
	va_list ap;
	int rc;

	pthread_mutex_lock(&crmpi_S.write_lock);
	va_start(ap, fmt);
	rc = vsend_line(crmpi_S.fd, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&crmpi_S.write_lock);
	return rc;
}

/* Reads one line (without the newline) into a malloc'ed buffer; NULL at EOF or error. */
static char *read_line(int fd)
{
	size_t cap = 256, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	for (;;) {
		char c;
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		if (c == '\n') {
			buf[len] = '\0';
			return buf;
		}
		if (len + 1 >= cap) {
			char *p = realloc(buf, cap *= 2);

			if (!p) {
				free(buf);
				return NULL;
			}
			buf = p;
		}
		buf[len++] = c;
	}
}

/* "STATE <epoch> gid=count ...": the collectives entered on every known communicator. */
static void report_state(long epoch)
{
	size_t cap = 64 + (size_t)crmpi_S.ncomms * (CRMPI_GID_LEN + 24), off;
	char *line = malloc(cap);
	int i;

	if (!line)
		return;
	off = (size_t)snprintf(line, cap, "STATE %ld", epoch);
	for (i = 0; i < crmpi_S.ncomms; i++) {
		struct crmpi_comm *c = &crmpi_S.comms[i];

		if (!c->in_use)
			continue;
		off += (size_t)snprintf(line + off, cap - off, " %s=%llu", c->gid,
					(unsigned long long)atomic_load(&c->collectives));
	}
	crmpi_agent_send("%s", line);
	free(line);
}

static void handle_targets(char *args)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(args, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		int idx;

		if (!eq)
			continue;
		*eq = '\0';
		idx = crmpi_comm_by_gid(tok);
		if (idx >= 0)
			crmpi_S.comms[idx].target = strtoull(eq + 1, NULL, 10);
	}
}

static void handle_expect(char *args)
{
	char *save = NULL, *tok;

	bookmarks_reset_expected(&crmpi_S.marks);
	for (tok = strtok_r(args, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *colon = strrchr(tok, ':'), *eq = strchr(tok, '=');
		int idx, src;

		if (!colon || !eq || eq < colon)
			continue;
		*colon = '\0';
		*eq = '\0';
		idx = crmpi_comm_by_gid(tok);
		src = atoi(colon + 1);
		if (idx < 0 || src < 0 || src >= crmpi_S.world_size)
			continue;
		crmpi_S.marks.expected[(size_t)idx * crmpi_S.marks.npeers + src] = strtoull(eq + 1, NULL, 10);
	}
}

static void handle(char *line)
{
	char *args = strchr(line, ' ');
	long epoch;

	if (!args)
		return;
	*args++ = '\0';
	epoch = strtol(args, &args, 10);
	while (*args == ' ')
		args++;
	if (!strcmp(line, "PREPARE")) {
		crmpi_app_set_base(args);
		atomic_store(&crmpi_S.epoch, epoch);
		atomic_store(&crmpi_S.aborted, 0);
		atomic_store(&crmpi_S.target_round, 0);
		atomic_store(&crmpi_S.phase, PHASE_PREPARE);
		/* Published before the counts are read: see crmpi_collective_enter(). */
		atomic_store(&crmpi_S.pending, 1);
		report_state(epoch);
	} else if (!strcmp(line, "TARGET") && epoch == atomic_load(&crmpi_S.epoch)) {
		handle_targets(args);
		atomic_fetch_add(&crmpi_S.target_round, 1);
		atomic_store(&crmpi_S.phase, PHASE_TARGETS);
	} else if (!strcmp(line, "EXPECT") && epoch == atomic_load(&crmpi_S.epoch)) {
		handle_expect(args);
		atomic_store(&crmpi_S.phase, PHASE_EXPECT);
	} else if (!strcmp(line, "ABORT") && epoch == atomic_load(&crmpi_S.epoch)) {
		atomic_store(&crmpi_S.aborted, 1);
	}
}

/*
 * Asks the scheduler for a short slice (0.1 ms) for the calling thread, so
 * that it runs as soon as it wakes, ahead of busy ranks (EEVDF, Linux 6.12
 * and later: a shorter slice may preempt on wakeup). The helper thread
 * sleeps but for the few microseconds it takes to answer the agent, and
 * every round of a quiesce waits for the slowest rank's answer: on a node
 * with more ranks than cores, each wake-up used to wait for the running
 * rank's slice to end. Same policy and nice value (no privilege needed);
 * older kernels ignore the slice or refuse the call, and nothing changes.
 */
static void ask_for_short_slice(void)
{
#ifdef SYS_sched_setattr
	struct {
		uint32_t size, policy;
		uint64_t flags;
		int32_t nice;
		uint32_t priority;
		uint64_t runtime, deadline, period;
	} attr;

	memset(&attr, 0, sizeof(attr));
	if (syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) != 0)
		return;
	if (attr.policy != SCHED_OTHER && attr.policy != SCHED_BATCH)
		return;
	attr.size = sizeof(attr);
	attr.flags = 0;
	attr.runtime = 100000;
	(void)syscall(SYS_sched_setattr, 0, &attr, 0);
#endif
}

static void *helper_main(void *arg)
{
	(void)arg;
	ask_for_short_slice();
	for (;;) {
		char *line;
		int fd;

		pthread_mutex_lock(&crmpi_S.lock);
		while (crmpi_S.helper_parked) {
			/* Parked: the main thread may close and replace the socket. */
			crmpi_S.helper_idle = 1;
			pthread_cond_broadcast(&crmpi_S.cond);
			pthread_cond_wait(&crmpi_S.cond, &crmpi_S.lock);
		}
		crmpi_S.helper_idle = 0;
		fd = crmpi_S.fd;
		pthread_mutex_unlock(&crmpi_S.lock);
		line = read_line(fd);
		if (!line) {
			pthread_mutex_lock(&crmpi_S.lock);
			if (!crmpi_S.helper_parked) {
				/* The agent is gone without a checkpoint: nothing coordinates us any more. */
				crmpi_S.helper_parked = 1;
				atomic_store(&crmpi_S.aborted, 1);
			}
			/* Tell the main thread that we no longer read its socket. */
			crmpi_S.helper_idle = 1;
			pthread_cond_broadcast(&crmpi_S.cond);
			pthread_mutex_unlock(&crmpi_S.lock);
			continue;
		}
		handle(line);
		free(line);
	}
	return NULL;
}

void crmpi_agent_start_helper(void)
{
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_create(&crmpi_S.helper, &attr, helper_main, NULL);
	pthread_attr_destroy(&attr);
}

/* Stops the helper thread reading the socket, then closes it. */
static void park_helper_and_close(void)
{
	pthread_mutex_lock(&crmpi_S.lock);
	crmpi_S.helper_parked = 1;
	pthread_mutex_unlock(&crmpi_S.lock);
	shutdown(crmpi_S.fd, SHUT_RDWR);
	pthread_mutex_lock(&crmpi_S.lock);
	while (!crmpi_S.helper_idle)
		pthread_cond_wait(&crmpi_S.cond, &crmpi_S.lock);
	pthread_mutex_unlock(&crmpi_S.lock);
	close(crmpi_S.fd);
	crmpi_S.fd = -1;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * After READY: closes the socket, reconnects (the agent listens again
 * once the tree is dumped and thawed, or a new agent after a restore), says
 * which epoch it resumes from and reads CONTINUE, RESTART or ABORT.
 */
int crmpi_agent_reconnect_and_resume(long epoch, int *outcome)
{
	char *reply;
	int fd;
	long ms = 1;
	const char *limit = getenv("CRMPI_RECONNECT_TIMEOUT");
	long timeout_s = limit && atol(limit) > 0 ? atol(limit) : 600;
	struct timespec start, now;

	park_helper_and_close();
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		fd = open_socket();
		if (fd >= 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= timeout_s) {
			/* No agent came back (crmpi is gone): the rank goes on, uncoordinated, as without crmpi. */
			fprintf(stderr, "libcrmpi: rank %d: no node agent at its socket for %ld s after checkpoint %ld;"
				" going on without checkpoints\n", crmpi_S.world_rank, timeout_s, epoch);
			return -ETIMEDOUT;
		}
		sleep_ms(ms);
		if (ms < 20)
			ms *= 2;
	}
	crmpi_S.fd = fd;
	if (crmpi_agent_send("HELLO %d %d %d %d RESUME %ld", CRMPI_ABI_VERSION, (int)getpid(), crmpi_S.world_rank,
			     crmpi_S.world_size, epoch) < 0)
		return -EIO;
	reply = read_line(fd);
	if (!reply)
		return -EIO;
	if (!strncmp(reply, "RESTART", 7))
		*outcome = CRMPI_RESTART;
	else if (!strncmp(reply, "CONTINUE", 8))
		*outcome = CRMPI_CONTINUE;
	else
		*outcome = CRMPI_ABORTED;
	free(reply);
	pthread_mutex_lock(&crmpi_S.lock);
	crmpi_S.helper_parked = 0;
	pthread_cond_broadcast(&crmpi_S.cond);
	pthread_mutex_unlock(&crmpi_S.lock);
	return 0;
}

void crmpi_agent_bye(void)
{
	crmpi_agent_send("BYE");
	park_helper_and_close();
}
