/*
 * crmpi-rsh: the remote-shell agent that crmpi gives Open MPI's rsh
 * launcher (OMPI_MCA_plm_rsh_agent) in multi-node jobs.
 *
 *   crmpi-rsh HOST COMMAND...
 *
 * Like ssh, it runs COMMAND (its words joined by spaces, read by /bin/sh)
 * on HOST, but inside HOST's node tree of the crmpi job: it asks the node
 * agent of its own tree (the Unix socket in $CRMPI_LAUNCH_SOCKET), which
 * passes the request to HOST's agent through the coordinator. It returns
 * as soon as COMMAND runs there (the launcher daemon reports back to
 * mpirun by itself), so no connection outlives the launch: nothing of it is
 * left in the tree when the tree is checkpointed.
 *
 * Exit status: 0 when COMMAND was started, 1 when the agent refused (the
 * reason goes to stderr), 2 for bad usage or a missing agent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_REQUEST (256 * 1024)

static int fail(int code, const char *fmt, const char *arg)
{
	fprintf(stderr, "crmpi-rsh: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return code;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = getenv("CRMPI_LAUNCH_SOCKET");
	struct sockaddr_un addr;
	char *req, reply[4096];
	size_t len = 0, got = 0;
	int i, fd;

	/* Skip ssh-style options that launchers may add (e.g. -x, -o X). */
	for (i = 1; i < argc && argv[i][0] == '-'; i++)
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "-l") || !strcmp(argv[i], "-p"))
			i++;
	if (argc - i < 2)
		return fail(2, "%s", "usage: crmpi-rsh HOST COMMAND...");
	if (!path || !*path)
		return fail(2, "%s", "CRMPI_LAUNCH_SOCKET is not set: crmpi-rsh only works inside a crmpi job");
	if (strlen(path) >= sizeof(addr.sun_path))
		return fail(2, "socket path too long: %s", path);
	req = malloc(MAX_REQUEST);
	if (!req)
		return fail(2, "%s", "out of memory");
	len = (size_t)snprintf(req, MAX_REQUEST, "EXEC\t%s\t", argv[i]);
	for (i++; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (strpbrk(argv[i], "\t\n"))
			return fail(2, "a command word has a tab or newline: %s", argv[i]);
		if (len + n + 3 >= MAX_REQUEST)
			return fail(2, "%s", "command too long");
		memcpy(req + len, argv[i], n);
		len += n;
		req[len++] = (i + 1 < argc) ? ' ' : '\n';
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(2, "socket: %s", strerror(errno));
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	strcpy(addr.sun_path, path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return fail(2, "cannot reach the node agent: %s", strerror(errno));
	if (write_all(fd, req, len) < 0)
		return fail(2, "cannot send the request: %s", strerror(errno));
	while (got < sizeof(reply) - 1) {
		ssize_t r = read(fd, reply + got, sizeof(reply) - 1 - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(reply, '\n', got))
			break;
	}
	reply[got] = '\0';
	close(fd);
	if (!strncmp(reply, "OK", 2))
		return 0;
	reply[strcspn(reply, "\n")] = '\0';
	if (!strncmp(reply, "ERR ", 4))
		return fail(1, "%s", reply + 4);
	return fail(1, "%s", "the node agent closed the connection without an answer");
}
