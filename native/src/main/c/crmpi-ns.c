/*
 * crmpi-ns: the node-tree runtime of crmpi.
 *
 * It is the stable parent of one node tree (an MPI launcher and its ranks)
 * and is never checkpointed itself. Two modes:
 *
 *   crmpi-ns run [options] -- CMD ARGS...
 *       Starts CMD as the only child of a tiny init that is PID 1 of fresh
 *       PID, mount, network, IPC and UTS namespaces. The init mounts /proc, a
 *       private tmpfs on /dev/shm and on each --tmpfs directory, bind-mounts
 *       the working directory onto itself (so CRIU can treat it as an
 *       external mount), brings up the loopback interface, setsid()s, reaps
 *       every orphan and exits with CMD's status.
 *
 *       With --veth OUTER --address CIDR [--bridge BR] the tree's network
 *       namespace also gets the job network: a veth pair whose inner end
 *       "crmpi0" carries CIDR and whose outer end OUTER stays in the host
 *       (attached to BR), so the node trees of a multi-node job reach each
 *       other. The address belongs to the job's node slot, not to the host:
 *       a tree restored on another host takes it along.
 *
 *   crmpi-ns exec --pid INIT [--join DIR]... [--cgroup DIR] [--workdir DIR] -- CMD ARGS...
 *       Starts CMD inside the running node tree whose init has host pid
 *       INIT: in its namespaces and freezer cgroup, with the tree's stdout
 *       and stderr, as an orphan that the tree's init adopts (so CRIU dumps
 *       it with the tree). Exits 0 once CMD is executing.
 *
 *   crmpi-ns hold-signal SIGNUM -- CMD ARGS...
 *       Runs CMD with signal SIGNUM blocked (bin/crmpi: SIGUSR1 stays
 *       pending until crmpi's JVM has its handler).
 *
 *   crmpi-ns restore --pid-file F [--join DIR]... [--cgroup DIR] -- CRIU-CMD restore ARGS...
 *       Runs the given CRIU restore command (which must use
 *       --restore-detached, --restore-sibling and --pidfile F) as a child
 *       subreaper; once CRIU has exited successfully it writes the tree's
 *       pid to F.ready, then waits for the restored init (our child) and
 *       exits with its status.
 *
 * In both modes the exit status is the job's: its exit code, or 128+signal
 * when it was killed. crmpi-ns itself fails with status 125 (bad usage or
 * setup error) or 126 (the restore command failed); it always names the
 * broken condition on stderr.
 *
 * When crmpi-ns receives SIGTERM, SIGINT or SIGHUP, or its parent (the node
 * agent) dies, it kills the whole node tree: killing PID 1 of a PID
 * namespace kills every process in it. The tree is fenced even when
 * crmpi-ns itself is killed with SIGKILL: the tree's init has SIGKILL as its
 * parent-death signal, bound to crmpi-ns (run) or, after a restore, to
 * crmpi-ns restore (CRIU restores the signal, and --restore-sibling makes
 * the restored init our child). So a tree never outlives the agent that
 * started it, whatever killed the agent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/close_range.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_SETUP 125
#define EXIT_RESTORE 126
#define MAX_TMPFS 16

static volatile sig_atomic_t tree_pid = 0;
static volatile sig_atomic_t forward_to = 0;

static void forward(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

static void install_forwarding(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = forward;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
}

/* Where errors go: stderr, except in exec mode once stderr is the tree's. */
static int report_fd = 2;

static void die(const char *fmt, ...)
{
	va_list ap;
	int err = errno;

	dprintf(report_fd, "crmpi-ns: ");
	va_start(ap, fmt);
	vdprintf(report_fd, fmt, ap);
	va_end(ap);
	if (err)
		dprintf(report_fd, ": %s", strerror(err));
	dprintf(report_fd, "\n");
	_exit(EXIT_SETUP);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: crmpi-ns run --root-dir DIR [--user UID:GID[:GROUP,...]] [--env-file F] [--workdir DIR] [--tmpfs DIR]... [--hostname NAME] [--join DIR]... [--cgroup DIR] [--pid-file FILE] -- CMD [ARG]...\n"
		"       crmpi-ns run ... --veth OUTER --address CIDR [--bridge BR] -- CMD [ARG]...\n"
		"       crmpi-ns exec --pid INIT [--user UID:GID[:GROUP,...]] [--env-file F] [--join DIR]... [--cgroup DIR] [--workdir DIR] -- CMD [ARG]...\n"
		"       crmpi-ns hold-signal SIGNUM -- CMD [ARG]...\n"
		"       crmpi-ns restore --root-dir DIR --pid-file FILE [--join DIR]... [--cgroup DIR] -- CRIU restore --root DIR ... --restore-detached --restore-sibling --pidfile FILE\n");
	_exit(EXIT_SETUP);
}

static int status_to_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_SETUP;
}

/*
 * The freezer file of the tree's cgroup and the value that thaws it. A tree
 * that is frozen (for a checkpoint) when its agent dies would otherwise
 * keep its SIGKILL pending forever in a cgroup v1 freezer, holding the
 * slot's address on the job network.
 */
static char thaw_path[4096];
static const char *thaw_value;

static void set_thaw_path(const char *cgroup)
{
	snprintf(thaw_path, sizeof(thaw_path), "%s/freezer.state", cgroup);
	thaw_value = "THAWED";
	if (access(thaw_path, W_OK) == 0)
		return;
	snprintf(thaw_path, sizeof(thaw_path), "%s/cgroup.freeze", cgroup);
	thaw_value = "0";
}

/* Async-signal-safe: kill and thaw, so that a frozen tree dies too. */
static void kill_tree(int sig)
{
	int fd, saved = errno;

	(void)sig;
	if (tree_pid > 0)
		kill(tree_pid, SIGKILL);
	if (thaw_path[0]) {
		fd = open(thaw_path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, thaw_value, strlen(thaw_value)) < 0)
				(void)0;
			close(fd);
		}
	}
	errno = saved;
}

/* The shim forwards termination to the tree and dies with its parent. */
static void become_guardian(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kill_tree;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
		die("prctl(PR_SET_PDEATHSIG)");
	if (getppid() == 1)
		die("parent died before the node tree started");
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die("prctl(PR_SET_CHILD_SUBREAPER)");
}

static void write_pid_file(const char *path, pid_t pid)
{
	char tmp[4096];
	FILE *f;

	if (!path)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		die("cannot write pid file %s", tmp);
	fprintf(f, "%d\n", (int)pid);
	if (fflush(f) || fsync(fileno(f)) || fclose(f))
		die("cannot write pid file %s", tmp);
	if (rename(tmp, path))
		die("cannot rename %s to %s", tmp, path);
}

/*
 * Called in a child of the guardian: the child dies with SIGKILL when the
 * guardian dies. lifeline is the read end of a pipe whose only other write
 * end the guardian holds: if the guardian died before the prctl, the pipe
 * is already hung up and the child gives up at once.
 */
static void arm_death_signal(int lifeline)
{
	struct pollfd p = { .fd = lifeline, .events = POLLIN };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die("prctl(PR_SET_PDEATHSIG) in the node tree");
	if (poll(&p, 1, 0) != 0) {
		errno = 0;
		die("crmpi-ns died while the node tree started");
	}
}

static void die_with_guardian(int lifeline)
{
	arm_death_signal(lifeline);
	close(lifeline);
}

/* Waits for pid, reaping every other child (orphans reparented to us). */
static int wait_for(pid_t pid)
{
	for (;;) {
		int status;
		pid_t p = waitpid(-1, &status, 0);

		if (p < 0) {
			if (errno == EINTR)
				continue;
			die("waitpid while waiting for %d", (int)pid);
		}
		if (p == pid)
			return status;
	}
}

static void loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket for loopback setup");
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		die("SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		die("SIOCSIFFLAGS lo");
	close(fd);
}

static void mkdir_p(const char *path)
{
	char buf[4096];
	size_t i, n = strlen(path);

	if (n >= sizeof(buf))
		die("path too long: %s", path);
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];

			buf[i] = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				die("mkdir %s", buf);
			buf[i] = c;
		}
	}
}

/*
 * The job's owner, from --user UID:GID[:GROUP,...]. When crmpi-ns is run by
 * root for an ordinary user (crmpid does this), everything that runs in the
 * node tree (its init included) runs as the owner: their uid, gid and
 * supplementary groups, no capabilities (not even in the bounding set) and
 * no_new_privs, so that no set-user-ID program gives any back.
 */
#define MAX_GROUPS 256
struct owner {
	int set;
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	int ngroups;
};

static unsigned long parse_id(const char *s, char **end, const char *what)
{
	unsigned long v;

	errno = 0;
	v = strtoul(s, end, 10);
	if (errno || *end == s || v >= 0xffffffffUL) {
		errno = 0;
		die("bad %s in --user: %s", what, s);
	}
	return v;
}

static void parse_owner(const char *arg, struct owner *u)
{
	char *end;

	memset(u, 0, sizeof(*u));
	u->uid = parse_id(arg, &end, "uid");
	if (*end != ':')
		die("--user wants UID:GID[:GROUP,...], got %s", arg);
	u->gid = parse_id(end + 1, &end, "gid");
	if (*end == ':') {
		const char *p = end + 1;

		while (*p) {
			if (u->ngroups == MAX_GROUPS) {
				errno = 0;
				die("more than %d supplementary groups in --user", MAX_GROUPS);
			}
			u->groups[u->ngroups++] = parse_id(p, &end, "group");
			if (*end != ',' && *end != 0)
				die("--user wants UID:GID[:GROUP,...], got %s", arg);
			p = *end ? end + 1 : end;
		}
	} else if (*end) {
		die("--user wants UID:GID[:GROUP,...], got %s", arg);
	}
	if (u->uid == 0 || u->gid == 0) {
		errno = 0;
		die("--user %s names root: a job of root runs without --user", arg);
	}
	u->set = 1;
}

/* Becomes the owner for good; dies when any step fails (never runs the job as root). */
/*
 * The job's environment from --env-file (NUL-separated NAME=VALUE entries,
 * written by crmpid in a directory of root's). crmpi-ns itself runs with a
 * scrubbed environment while it is root; the job's environment (which may
 * say LD_PRELOAD) takes effect only once we are the owner.
 */
static char **job_env;

static void read_env_file(const char *path)
{
	static char buf[1 << 20];
	size_t len = 0, n = 0, i;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		die("open --env-file %s", path);
	while ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += r;
	if (r < 0)
		die("read --env-file %s", path);
	if (len == sizeof(buf) - 1) {
		errno = 0;
		die("--env-file %s is larger than %zu bytes", path, sizeof(buf) - 2);
	}
	close(fd);
	buf[len] = 0;
	for (i = 0; i < len; i++)
		if (buf[i] == 0)
			n++;
	job_env = calloc(n + 2, sizeof(*job_env));
	if (!job_env)
		die("calloc");
	for (i = 0, n = 0; i < len; i += strlen(buf + i) + 1)
		if (buf[i])
			job_env[n++] = buf + i;
}

/* From here on, whatever runs gets the job's environment (when --env-file gave one). */
static void use_job_env(void)
{
	if (job_env)
		environ = job_env;
}

static void drop_to_owner(const struct owner *u)
{
	int cap;

	if (!u->set)
		return;
	for (cap = 0; cap <= 63; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			die("drop capability %d from the bounding set", cap);
	if (setgroups(u->ngroups, u->groups) < 0)
		die("setgroups for uid %u", (unsigned)u->uid);
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		die("setresgid %u", (unsigned)u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		die("setresuid %u", (unsigned)u->uid);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die("prctl(PR_SET_NO_NEW_PRIVS)");
	if (setresuid(0, 0, 0) == 0 || geteuid() != u->uid || getegid() != u->gid) {
		errno = 0;
		die("still privileged after dropping to uid %u", (unsigned)u->uid);
	}
}

struct run_opts {
	const char *cgroup;
	const char *root_dir;
	const char *workdir;
	const char *hostname;
	const char *pid_file;
	const char *veth;
	const char *bridge;
	const char *address;
	const char *tmpfs[MAX_TMPFS];
	int ntmpfs;
	struct owner owner;
	char **argv;
};

/*
 * The job's own cgroups (its Slurm step's, or the user's session's) in the
 * cgroup v1 hierarchies, given with --join: the tree joins them before its
 * freezer cgroup, so that the job's limits and accounting cover it.
 */
#define MAX_JOINS 16
static const char *joins[MAX_JOINS];
static int njoins;

static void add_join(const char *dir)
{
	if (njoins == MAX_JOINS)
		die("more than %d --join cgroups", MAX_JOINS);
	if (dir[0] != '/')
		die("--join wants an absolute cgroup directory, got %s", dir);
	joins[njoins++] = dir;
}

/* Moves us (and so the whole future tree) into the cgroup dir. */
static void join_cgroup(const char *dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s", path);
	if (write(fd, "0", 1) != 1)
		die("join cgroup %s", dir);
	close(fd);
}

/* Joins the --join cgroups, then the freezer cgroup (if any). */
static void join_all(const char *freezer)
{
	int i;

	for (i = 0; i < njoins; i++)
		join_cgroup(joins[i]);
	if (freezer)
		join_cgroup(freezer);
}

/* Unmounts everything stacked on path (copies of host mounts). */
static void umount_all(const char *path)
{
	while (umount2(path, MNT_DETACH) == 0)
		;
}

/*
 * A job's own directory (create 0) is never created by us: it belongs to the
 * job's owner, and root making directories along a path the owner chose
 * could follow the owner's symlinks.
 */
static void mount_tmpfs(const char *root, const char *dir, const char *what, int create)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", root, dir);
	if (create)
		mkdir_p(path);
	else if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		die("tmpfs directory %s is missing or not a directory (the job creates it)", dir);
	umount_all(path);
	if (mount(what, path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		die("mount tmpfs on %s", dir);
}

/*
 * A devpts instance of the tree's own, with /dev/ptmx bound to its ptmx:
 * the ptys of the job (Open MPI gives each rank one) are numbered inside
 * the tree, so a restore never collides with ptys of the host or of other
 * trees on the host.
 */
static void mount_devpts(const char *root)
{
	char pts[4096], ptmx[4096], src[4096];

	snprintf(pts, sizeof(pts), "%s/dev/pts", root);
	snprintf(ptmx, sizeof(ptmx), "%s/dev/ptmx", root);
	snprintf(src, sizeof(src), "%s/dev/pts/ptmx", root);
	mkdir_p(pts);
	umount_all(pts);
	if (mount("crmpi-devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0)
		die("mount devpts on /dev/pts");
	if (mount(src, ptmx, NULL, MS_BIND, NULL) < 0)
		die("bind /dev/pts/ptmx to /dev/ptmx");
}

/*
 * The node tree's mount namespace: a recursive copy of the host's mounts
 * (every one of them is declared external to CRIU, so it is re-bound from
 * the host at restore) under a staging root that becomes "/" by
 * pivot_root, with what belongs to the tree alone mounted fresh: /proc,
 * a tmpfs on /dev/shm and on each --tmpfs directory (CRIU saves their
 * contents in the image), and the working directory bound onto itself.
 */
static void build_root(struct run_opts *o)
{
	const char *r = o->root_dir;
	char path[4096];
	int i;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make / private");
	mkdir_p(r);
	if (mount("/", r, NULL, MS_BIND | MS_REC, NULL) < 0)
		die("bind / to %s", r);
	snprintf(path, sizeof(path), "%s/proc", r);
	umount_all(path);
	if (mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die("mount /proc");
	mount_tmpfs(r, "/dev/shm", "crmpi-shm", 1);
	mount_devpts(r);
	for (i = 0; i < o->ntmpfs; i++)
		mount_tmpfs(r, o->tmpfs[i], "crmpi-tmp", !o->owner.set);
	if (o->workdir) {
		snprintf(path, sizeof(path), "%s%s", r, o->workdir);
		if (mount(o->workdir, path, NULL, MS_BIND, NULL) < 0)
			die("bind-mount working directory %s", o->workdir);
	}
	if (chdir(r) < 0)
		die("chdir %s", r);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die("pivot_root to %s", r);
	if (umount2(".", MNT_DETACH) < 0)
		die("detach the old root");
	if (chdir("/") < 0)
		die("chdir /");
}

/*
 * Sets up the node tree's namespaces (we are PID 1 of the new PID namespace),
 * then re-executes this binary as the init: mappings made before the mount
 * namespace was unshared would point into the host's mount namespace, which
 * CRIU cannot dump.
 */
static void setup_and_exec_init(struct run_opts *o, const char *self, int ready_fd, int net_fd, int lifeline)
{
	char fdbuf[16];
	char **argv;
	int i, n;

	join_all(o->cgroup);
	if (unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		die("unshare(mount, net, ipc, uts)");
	if (net_fd >= 0) {
		char c = 'n';

		/* The parent plugs the job network into our fresh network namespace. */
		if (write(net_fd, &c, 1) != 1 || read(net_fd, &c, 1) != 1 || c != 'g')
			die("the job network was not set up");
		close(net_fd);
	}
	build_root(o);
	if (o->hostname && sethostname(o->hostname, strlen(o->hostname)) < 0)
		die("sethostname %s", o->hostname);
	loopback_up();
	setsid();
	/* A change of credentials clears the parent-death signal: armed again, then the lifeline goes. */
	drop_to_owner(&o->owner);
	die_with_guardian(lifeline);
	use_job_env();

	for (n = 0; o->argv[n]; n++)
		;
	argv = calloc(n + 8, sizeof(*argv));
	if (!argv)
		die("calloc");
	snprintf(fdbuf, sizeof(fdbuf), "%d", ready_fd);
	i = 0;
	argv[i++] = "crmpi-ns";
	argv[i++] = "init";
	argv[i++] = fdbuf;
	argv[i++] = (char *)(o->workdir ? o->workdir : ".");
	argv[i++] = "--";
	memcpy(argv + i, o->argv, (n + 1) * sizeof(*argv));
	if (fcntl(ready_fd, F_SETFD, 0) < 0)
		die("fcntl");
	execv(self, argv);
	die("exec %s", self);
}

/*
 * Files opened before the mount namespace was unshared belong to the host's
 * mounts and cannot be dumped: the job's stdin is /dev/null, opened here.
 * stdout and stderr are pipes to the node agent and stay.
 */
static void reopen_stdin_inside(void)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd < 0)
		die("open /dev/null");
	if (fd != 0) {
		if (dup2(fd, 0) < 0)
			die("dup2 /dev/null");
		close(fd);
	}
}

/* Descriptors leaked by whoever started the agent stay outside the tree. */
static void close_inherited_fds(int keep)
{
	if (keep > 3)
		syscall(SYS_close_range, 3, keep - 1, 0);
	syscall(SYS_close_range, keep + 1, ~0U, 0);
}

/* crmpi-ns init READY_FD WORKDIR -- CMD...: PID 1 of the node tree. */
static int init_main(int argc, char **argv)
{
	pid_t child;
	int status, ready_fd;
	sigset_t all, old;
	const char *workdir;
	char **cmd;

	if (argc < 4 || strcmp(argv[2], "--") || getpid() != 1)
		usage();
	ready_fd = atoi(argv[0]);
	workdir = argv[1];
	cmd = argv + 3;
	reopen_stdin_inside();
	close_inherited_fds(ready_fd);

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	child = fork();
	if (child < 0)
		die("fork of the job");
	if (child == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		close(ready_fd);
		if (chdir(workdir) < 0)
			die("chdir %s", workdir);
		execvp(cmd[0], cmd);
		fprintf(stderr, "crmpi-ns: cannot execute %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	if (write(ready_fd, "1", 1) != 1)
		die("report readiness");
	close(ready_fd);
	/* PID 1 gets only the signals it handles: forward termination to the job. */
	forward_to = child;
	install_forwarding();
	sigprocmask(SIG_SETMASK, &old, NULL);

	status = wait_for(child);
	/* The job is over: whatever it left behind goes with it. */
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	return status_to_code(status);
}

/*
 * The system's copy of a setup tool (ip, nsenter): looked up in fixed
 * system directories, never through the job's PATH.
 */
static const char *system_tool(const char *name)
{
	static const char *const dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin"};
	static char path[256];
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], name);
		if (access(path, X_OK) == 0)
			return path;
	}
	errno = ENOENT;
	die("%s not found in /usr/sbin, /usr/bin, /sbin or /bin", name);
	return NULL;
}

/* Runs a setup command (ip, nsenter) with a fixed environment and dies naming it when it fails. */
static void run_tool(char *const argv[])
{
	static char *const clean_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	int status;
	pid_t p = fork();

	if (p < 0)
		die("fork of %s", argv[0]);
	if (p == 0) {
		const char *tool = system_tool(argv[0]);

		execve(tool, argv, clean_env);
		fprintf(stderr, "crmpi-ns: cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(p, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid %s", argv[0]);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char cmd[1024] = "";
		int i;

		for (i = 0; argv[i]; i++) {
			strncat(cmd, argv[i], sizeof(cmd) - strlen(cmd) - 2);
			strcat(cmd, " ");
		}
		errno = 0;
		die("job network setup failed: %s(status %d)", cmd, status_to_code(status));
	}
}

#define JOB_IFNAME "crmpi0"

/*
 * The job network of a tree: a veth pair from the host (OUTER, attached to
 * the bridge) into the tree's network namespace (crmpi0 with the slot's
 * address).
 */
static void setup_job_network(const struct run_opts *o, pid_t tree)
{
	char nsarg[64];

	snprintf(nsarg, sizeof(nsarg), "--net=/proc/%d/ns/net", (int)tree);
	{
		/* Our children live in the tree's PID namespace (unshared before the init's fork): its init is 1. */
		char *a[] = {"ip", "link", "add", (char *)o->veth, "type", "veth", "peer", "name", JOB_IFNAME,
			     "netns", "1", NULL};
		run_tool(a);
	}
	if (o->bridge) {
		char *a[] = {"ip", "link", "set", (char *)o->veth, "master", (char *)o->bridge, NULL};
		run_tool(a);
	}
	{
		char *a[] = {"ip", "link", "set", (char *)o->veth, "up", NULL};
		run_tool(a);
	}
	{
		char *a[] = {"nsenter", nsarg, "ip", "addr", "add", (char *)o->address, "dev", JOB_IFNAME, NULL};
		run_tool(a);
	}
	{
		char *a[] = {"nsenter", nsarg, "ip", "link", "set", JOB_IFNAME, "up", NULL};
		run_tool(a);
	}
}

static int run_main(int argc, char **argv)
{
	struct run_opts o;
	int i, pipefd[2], netfd[2] = {-1, -1}, lifeline[2], status;
	pid_t pid;
	char c, *self;

	memset(&o, 0, sizeof(o));
	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			o.argv = argv + i + 1;
			break;
		} else if (i + 1 >= argc) {
			usage();
		} else if (!strcmp(argv[i], "--workdir")) {
			o.workdir = argv[++i];
		} else if (!strcmp(argv[i], "--cgroup")) {
			o.cgroup = argv[++i];
		} else if (!strcmp(argv[i], "--join")) {
			add_join(argv[++i]);
		} else if (!strcmp(argv[i], "--root-dir")) {
			o.root_dir = argv[++i];
		} else if (!strcmp(argv[i], "--hostname")) {
			o.hostname = argv[++i];
		} else if (!strcmp(argv[i], "--pid-file")) {
			o.pid_file = argv[++i];
		} else if (!strcmp(argv[i], "--veth")) {
			o.veth = argv[++i];
		} else if (!strcmp(argv[i], "--bridge")) {
			o.bridge = argv[++i];
		} else if (!strcmp(argv[i], "--address")) {
			o.address = argv[++i];
		} else if (!strcmp(argv[i], "--user")) {
			parse_owner(argv[++i], &o.owner);
		} else if (!strcmp(argv[i], "--env-file")) {
			read_env_file(argv[++i]);
		} else if (!strcmp(argv[i], "--tmpfs")) {
			if (o.ntmpfs == MAX_TMPFS)
				die("more than %d --tmpfs directories", MAX_TMPFS);
			o.tmpfs[o.ntmpfs++] = argv[++i];
		} else {
			usage();
		}
	}
	if (!o.argv || !o.argv[0] || !o.root_dir || o.root_dir[0] != '/')
		usage();
	if ((o.veth == NULL) != (o.address == NULL) || (o.bridge && !o.veth))
		usage();
	if (o.veth && strlen(o.veth) >= IFNAMSIZ) {
		errno = 0;
		die("interface name %s is longer than %d characters", o.veth, IFNAMSIZ - 1);
	}
	if (o.cgroup)
		set_thaw_path(o.cgroup);
	become_guardian();
	if (pipe2(pipefd, O_CLOEXEC) < 0 || pipe2(lifeline, O_CLOEXEC) < 0)
		die("pipe");
	if (o.veth && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, netfd) < 0)
		die("socketpair");
	self = realpath("/proc/self/exe", NULL);
	if (!self)
		die("realpath /proc/self/exe");
	if (unshare(CLONE_NEWPID) < 0)
		die("unshare(pid)");
	pid = fork();
	if (pid < 0)
		die("fork of the init");
	if (pid == 0) {
		close(pipefd[0]);
		close(lifeline[1]);
		if (netfd[0] >= 0)
			close(netfd[0]);
		/* The init (and so the whole tree) dies with us, even when we are SIGKILLed. */
		arm_death_signal(lifeline[0]);
		setup_and_exec_init(&o, self, pipefd[1], netfd[1], lifeline[0]);
	}
	tree_pid = pid;
	close(lifeline[0]);
	close(pipefd[1]);
	if (netfd[0] >= 0) {
		char c;

		close(netfd[1]);
		if (read(netfd[0], &c, 1) == 1 && c == 'n') {
			setup_job_network(&o, pid);
			c = 'g';
			if (write(netfd[0], &c, 1) != 1)
				die("start the node tree");
		}
		close(netfd[0]);
	}
	if (read(pipefd[0], &c, 1) != 1) {
		status = wait_for(pid);
		fprintf(stderr, "crmpi-ns: node tree setup failed (init status %d)\n", status_to_code(status));
		return EXIT_SETUP;
	}
	close(pipefd[0]);
	write_pid_file(o.pid_file, pid);
	return status_to_code(wait_for(pid));
}

static void enter_ns(pid_t init, const char *ns)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)init, ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s", path);
	if (setns(fd, 0) < 0)
		die("setns %s", path);
	close(fd);
}

/* Replaces our fd with the node tree's own descriptor (its pipe to the agent). */
static void take_tree_fd(pid_t init, int fd)
{
	char path[64];
	int t;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)init, fd);
	t = open(path, O_WRONLY | O_CLOEXEC);
	if (t < 0)
		die("open %s", path);
	if (dup2(t, fd) < 0)
		die("dup2 %s", path);
	close(t);
}

/*
 * crmpi-ns exec: CMD becomes a process of a running tree. We enter its
 * namespaces and cgroup, fork (the child is in the tree's PID namespace)
 * and the child forks CMD and exits, so that CMD is re-parented to the
 * tree's init and is dumped and restored with the tree. A close-on-exec
 * pipe tells us whether CMD could be executed.
 */
static int exec_main(int argc, char **argv)
{
	const char *cgroup = NULL, *workdir = "/";
	struct owner owner = { 0 };
	char **cmd = NULL;
	pid_t init = 0, child;
	int i, status, errpipe[2], err = 0;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			cmd = argv + i + 1;
			break;
		} else if (i + 1 >= argc) {
			usage();
		} else if (!strcmp(argv[i], "--pid")) {
			init = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--cgroup")) {
			cgroup = argv[++i];
		} else if (!strcmp(argv[i], "--join")) {
			add_join(argv[++i]);
		} else if (!strcmp(argv[i], "--workdir")) {
			workdir = argv[++i];
		} else if (!strcmp(argv[i], "--user")) {
			parse_owner(argv[++i], &owner);
		} else if (!strcmp(argv[i], "--env-file")) {
			read_env_file(argv[++i]);
		} else {
			usage();
		}
	}
	if (!cmd || !cmd[0] || init <= 1)
		usage();
	report_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (report_fd < 0)
		report_fd = 2;
	take_tree_fd(init, 1);
	take_tree_fd(init, 2);
	join_all(cgroup);
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		die("pipe");
	enter_ns(init, "ipc");
	enter_ns(init, "uts");
	enter_ns(init, "net");
	enter_ns(init, "pid");
	enter_ns(init, "mnt");
	child = fork();
	if (child < 0)
		die("fork into the node tree");
	if (child == 0) {
		pid_t job;

		close(errpipe[0]);
		job = fork();
		if (job < 0) {
			err = errno;
			if (write(errpipe[1], &err, sizeof(err)) < 0)
				_exit(EXIT_SETUP);
			_exit(EXIT_SETUP);
		}
		if (job == 0) {
			setsid();
			reopen_stdin_inside();
			syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
			drop_to_owner(&owner);
			use_job_env();
			if (chdir(workdir) < 0) {
				err = errno;
			} else {
				execvp(cmd[0], cmd);
				err = errno;
			}
			if (write(errpipe[1], &err, sizeof(err)) < 0)
				_exit(127);
			_exit(127);
		}
		_exit(0);
	}
	close(errpipe[1]);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	if (read(errpipe[0], &err, sizeof(err)) == (ssize_t)sizeof(err)) {
		errno = err;
		die("cannot execute %s in the node tree (working directory %s)", cmd[0], workdir);
	}
	return status_to_code(status);
}

static pid_t read_pid_file(const char *path)
{
	FILE *f = fopen(path, "r");
	int pid = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &pid) != 1)
		pid = -1;
	fclose(f);
	return pid;
}

static int restore_main(int argc, char **argv)
{
	const char *pid_file = NULL, *root_dir = NULL, *cgroup = NULL;
	char **cmd = NULL;
	int i, status, lifeline[2];
	pid_t criu, root;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			cmd = argv + i + 1;
			break;
		} else if (i + 1 < argc && !strcmp(argv[i], "--pid-file")) {
			pid_file = argv[++i];
		} else if (i + 1 < argc && !strcmp(argv[i], "--root-dir")) {
			root_dir = argv[++i];
		} else if (i + 1 < argc && !strcmp(argv[i], "--cgroup")) {
			cgroup = argv[++i];
			set_thaw_path(cgroup);
		} else if (i + 1 < argc && !strcmp(argv[i], "--join")) {
			add_join(argv[++i]);
		} else {
			usage();
		}
	}
	if (!pid_file || !cmd || !cmd[0] || !root_dir || root_dir[0] != '/')
		usage();
	become_guardian();
	/*
	 * CRIU restores the tree's root mount from --root: a bind of the host's
	 * root, made in a private mount namespace of ours so that it goes away
	 * with us.
	 */
	if (unshare(CLONE_NEWNS) < 0)
		die("unshare(mount)");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die("make / private");
	mkdir_p(root_dir);
	if (mount("/", root_dir, NULL, MS_BIND, NULL) < 0)
		die("bind / to %s", root_dir);
	unlink(pid_file);
	{
		char ready[4096];

		snprintf(ready, sizeof(ready), "%s.ready", pid_file);
		unlink(ready);
	}
	if (pipe2(lifeline, O_CLOEXEC) < 0)
		die("pipe");
	criu = fork();
	if (criu < 0)
		die("fork of criu");
	if (criu == 0) {
		/* A criu whose crmpi-ns is gone must not go on restoring for nobody. */
		close(lifeline[1]);
		die_with_guardian(lifeline[0]);
		/*
		 * criu restores with --manage-cgroups ignore: the tree inherits
		 * criu's cgroups, which are the job's as it is now (after a
		 * requeue, another step's) and the tree's freezer, not the ones
		 * the image recorded. We stay outside them (a frozen tree must
		 * not freeze its guardian).
		 */
		join_all(cgroup);
		/* CRIU must see the tree's stdio pipes as fds 1 and 2 (--inherit-fd). */
		execvp(cmd[0], cmd);
		fprintf(stderr, "crmpi-ns: cannot execute %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	close(lifeline[0]);
	/* A kill while criu runs ends criu (it must not go on restoring for nobody). */
	tree_pid = criu;
	status = wait_for(criu);
	tree_pid = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* criu may have died after the tree was up: never leave a tree behind. */
		root = read_pid_file(pid_file);
		if (root > 0)
			kill(root, SIGKILL);
		fprintf(stderr, "crmpi-ns: criu restore failed (status %d)\n", status_to_code(status));
		return EXIT_RESTORE;
	}
	root = read_pid_file(pid_file);
	if (root <= 0) {
		fprintf(stderr, "crmpi-ns: criu restore wrote no pid to %s\n", pid_file);
		return EXIT_RESTORE;
	}
	tree_pid = root;
	/* A kill that arrived while criu ran must not be lost. */
	if (kill(root, 0) < 0 && errno == ESRCH)
		return EXIT_RESTORE;
	/* CRIU is done with the tree (credentials, freezer state): whoever waits for PIDFILE.ready may look at it. */
	{
		char ready[4096];

		snprintf(ready, sizeof(ready), "%s.ready", pid_file);
		write_pid_file(ready, root);
	}
	return status_to_code(wait_for(root));
}

/*
 * crmpi-ns real-uid UID GID -- CMD...: runs CMD (CRIU) as root with the real
 * uid and gid of a tree's owner. Where root lacks CAP_SYS_RESOURCE (some
 * containers), the kernel lets CRIU read a task's resource limits only when
 * its real ids match the task's; its effective ids and capabilities stay
 * root's.
 */
static int real_uid_main(int argc, char **argv)
{
	struct owner u;
	char arg[64];

	if (argc < 4 || strcmp(argv[2], "--"))
		usage();
	snprintf(arg, sizeof(arg), "%s:%s", argv[0], argv[1]);
	parse_owner(arg, &u);
	if (setresgid(u.gid, 0, 0) < 0)
		die("setresgid(%u, 0, 0)", (unsigned)u.gid);
	if (setresuid(u.uid, 0, 0) < 0)
		die("setresuid(%u, 0, 0)", (unsigned)u.uid);
	execv(argv[3], argv + 3);
	die("exec %s", argv[3]);
	return EXIT_SETUP;
}

/*
 * crmpi-ns hold-signal SIG -- CMD ARGS...: runs CMD (bin/crmpi's JVM) with
 * signal SIG blocked. A blocked signal stays pending across exec, so a
 * SIGUSR1 that Slurm sends while the JVM starts is neither lost nor fatal:
 * crmpi unblocks it once its handler is installed.
 */
static int hold_signal_main(int argc, char **argv)
{
	sigset_t set;
	char *end;
	long sig;

	if (argc < 3 || strcmp(argv[1], "--") || !argv[2])
		usage();
	sig = strtol(argv[0], &end, 10);
	if (*end || sig < 1 || sig > 64) {
		errno = 0;
		die("hold-signal wants a signal number, got %s", argv[0]);
	}
	sigemptyset(&set);
	sigaddset(&set, (int)sig);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("sigprocmask");
	execvp(argv[2], argv + 2);
	die("cannot execute %s", argv[2]);
	return EXIT_SETUP;
}

int main(int argc, char **argv)
{
	setvbuf(stderr, NULL, _IONBF, 0);
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "run"))
		return run_main(argc - 2, argv + 2);
	if (!strcmp(argv[1], "init"))
		return init_main(argc - 2, argv + 2);
	if (!strcmp(argv[1], "restore"))
		return restore_main(argc - 2, argv + 2);
	if (!strcmp(argv[1], "exec"))
		return exec_main(argc - 2, argv + 2);
	if (!strcmp(argv[1], "real-uid"))
		return real_uid_main(argc - 2, argv + 2);
	if (!strcmp(argv[1], "hold-signal"))
		return hold_signal_main(argc - 2, argv + 2);
	usage();
	return EXIT_SETUP;
}
