/*
 * libcrmpi-prlimit-compat.so: lets CRIU read the resource limits of another
 * user's task where root lacks CAP_SYS_RESOURCE (some containers drop it
 * from root's bounding set). There the kernel refuses prlimit64(pid, res,
 * NULL, &old) on a task whose uids differ from the caller's, which CRIU
 * uses to dump every task's limits; /proc/PID/limits shows root the same
 * values. crmpid preloads this library into CRIU only on such hosts (see
 * bin/crmpid); everything except a refused read of a foreign task's limits
 * goes to libc unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef long (*syscall_fn)(long, ...);

static unsigned long long parse_limit(const char *s, int *ok)
{
	char *end;
	unsigned long long v;

	while (*s == ' ')
		s++;
	if (!strncmp(s, "unlimited", 9))
		return RLIM64_INFINITY;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		*ok = 0;
	return v;
}

/* Line res + 2 of /proc/PID/limits (after the header) is resource res, in the kernel's order. */
static int limits_from_proc(pid_t pid, int res, struct rlimit64 *out)
{
	char path[64], line[256];
	FILE *f;
	int n = 0, ok = 1;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (n++ != res + 1)
			continue;
		fclose(f);
		if (strlen(line) < 47) {
			errno = EINVAL;
			return -1;
		}
		out->rlim_cur = parse_limit(line + 26, &ok);
		out->rlim_max = parse_limit(line + 47, &ok);
		if (!ok) {
			errno = EINVAL;
			return -1;
		}
		return 0;
	}
	fclose(f);
	errno = EINVAL;
	return -1;
}

long syscall(long nr, ...)
{
	static syscall_fn real;
	long a[6];
	va_list ap;
	int i, saved;
	long r;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (!real)
		real = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	r = real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (r < 0 && errno == EPERM && nr == SYS_prlimit64 && a[0] > 0 && a[0] != getpid() && a[2] == 0 && a[3]) {
		saved = errno;
		if (limits_from_proc((pid_t)a[0], (int)a[1], (struct rlimit64 *)a[3]) == 0)
			return 0;
		errno = saved;
	}
	return r;
}
