/*
 * The quiesce: stopping every rank at a safe point with no point-to-point
 * message left inside MPI, then running the checkpoint callbacks.
 *
 *   PREPARE  the helper thread publishes `pending` and reports, per
 *            communicator, the collectives entered so far (STATE).
 *   TARGET   the agent answers with the highest count of each communicator.
 *            Ranks run on until they have entered exactly that many
 *            collectives (so no collective is split by the cut), then stop
 *            at the next safe point (the entry of an MPI call, or a
 *            blocking call's wait loop) outside a critical section.
 *   SENT     a stopped rank reports its cumulative sent counts per
 *            communicator and destination.
 *   EXPECT   the agent tells each rank how many messages every peer has
 *            sent it; the rank receives until its counts match, keeping
 *            what it receives in the library buffer (drain).
 *   READY    after the callbacks' pre-checkpoint halves; the rank then
 *            closes its socket for the dump (the agent no longer listens)
 *            and reconnects after it, to hear CONTINUE, RESTART or ABORT.
 *
 * ABORT (a timeout, a declined checkpoint, a failed node) can arrive at any
 * phase: the rank goes on where it stopped; drained messages stay buffered
 * and are delivered in order, so nothing is lost or duplicated.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct crmpi_state crmpi_S = {
	.fd = -1,
	.write_lock = PTHREAD_MUTEX_INITIALIZER,
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/*
 * One turn of a wait during a quiesce (for the agent's next message, for a
 * peer, for the targets): keeps MPI progressing, then gives up the CPU. A
 * stopped rank has nothing to compute, and on a node with more ranks than
 * cores the ranks that have not reached the cut yet, and the agent, need it.
 */
void crmpi_progress(void)
{
	int flag;

	/*
	 * A probe on MPI_COMM_SELF drives MPI's progress and matches nothing of
	 * the application's (a probe consumes nothing anyway). Not a duplicate
	 * of MPI_COMM_WORLD: Open MPI allocates a new communicator's context id
	 * with a nonblocking allreduce, which leaves libnbc's progress function
	 * running in every progress call of every rank for the rest of the job
	 * (5 % on a small message's latency).
	 */
	PMPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_SELF, &flag, MPI_STATUS_IGNORE);
	sched_yield();
}

int crmpi_comm_register(MPI_Comm comm, const char *gid)
{
	struct crmpi_comm *c;
	MPI_Group group, world;
	int i, idx = crmpi_S.ncomms, *local;

	c = realloc(crmpi_S.comms, (size_t)(idx + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	crmpi_S.comms = c;
	c = &crmpi_S.comms[idx];
	memset(c, 0, sizeof(*c));
	c->comm = comm;
	snprintf(c->gid, sizeof(c->gid), "%s", gid);
	PMPI_Comm_size(comm, &c->size);
	c->to_world = malloc((size_t)c->size * sizeof(int));
	local = malloc((size_t)c->size * sizeof(int));
	if (!c->to_world || !local) {
		free(local);
		return -ENOMEM;
	}
	for (i = 0; i < c->size; i++)
		local[i] = i;
	PMPI_Comm_group(comm, &group);
	PMPI_Comm_group(MPI_COMM_WORLD, &world);
	PMPI_Group_translate_ranks(group, c->size, local, world, c->to_world);
	PMPI_Group_free(&group);
	PMPI_Group_free(&world);
	free(local);
	c->in_use = 1;
	if (bookmarks_ensure(&crmpi_S.marks, idx) < 0)
		return -ENOMEM;
	PMPI_Comm_set_attr(comm, crmpi_S.comm_keyval, (void *)(intptr_t)(idx + 1));
	crmpi_S.ncomms = idx + 1;
	crmpi_app_adopt(idx);
	return idx;
}

int crmpi_comm_index(MPI_Comm comm)
{
	void *val;
	int flag;

	if (comm == MPI_COMM_WORLD)
		return 0;
	if (PMPI_Comm_get_attr(comm, crmpi_S.comm_keyval, &val, &flag) != MPI_SUCCESS || !flag)
		return -1;
	return (int)(intptr_t)val - 1;
}

int crmpi_comm_by_gid(const char *gid)
{
	int i;

	for (i = 0; i < crmpi_S.ncomms; i++)
		if (crmpi_S.comms[i].in_use && !strcmp(crmpi_S.comms[i].gid, gid))
			return i;
	return -1;
}

static int world_to_local(const struct crmpi_comm *c, int world)
{
	int i;

	for (i = 0; i < c->size; i++)
		if (c->to_world[i] == world)
			return i;
	return -1;
}

/* Every known communicator has entered exactly its target collectives. */
static int all_at_target(void)
{
	int i;

	for (i = 0; i < crmpi_S.ncomms; i++) {
		struct crmpi_comm *c = &crmpi_S.comms[i];

		if (c->in_use && atomic_load(&c->collectives) != c->target)
			return 0;
	}
	return 1;
}

static void finish_quiesce(void)
{
	crmpi_S.done_epoch = atomic_load(&crmpi_S.epoch);
	atomic_store(&crmpi_S.phase, PHASE_IDLE);
	atomic_store(&crmpi_S.pending, 0);
	crmpi_S.in_checkpoint = 0;
}

static int aborted(void)
{
	return atomic_load(&crmpi_S.aborted);
}

static void report_sent(long epoch, int round)
{
	struct crmpi_bookmarks *b = &crmpi_S.marks;
	size_t cap = 64, off;
	char *line;
	int c, p;

	for (c = 0; c < crmpi_S.ncomms; c++)
		for (p = 0; p < b->npeers; p++)
			if (crmpi_S.comms[c].in_use && b->sent[(size_t)c * b->npeers + p])
				cap += CRMPI_GID_LEN + 48;
	line = malloc(cap);
	if (!line)
		return;
	off = (size_t)snprintf(line, cap, "SENT %ld %d", epoch, round);
	for (c = 0; c < crmpi_S.ncomms; c++) {
		if (!crmpi_S.comms[c].in_use)
			continue;
		for (p = 0; p < b->npeers; p++) {
			uint64_t n = b->sent[(size_t)c * b->npeers + p];

			if (n)
				off += (size_t)snprintf(line + off, cap - off, " %s:%d=%llu", crmpi_S.comms[c].gid, p,
							(unsigned long long)n);
		}
	}
	crmpi_agent_send("%s", line);
	free(line);
}

/* Counts application receives that completed while we drain (their requests stay valid). */
static void poll_posted_receives(void)
{
	int i;

	for (i = 0; i < crmpi_S.nrecv; i++) {
		MPI_Status st;
		int flag = 0;

		if (crmpi_S.recv_comm[i] < 0)
			continue;
		/* MPI sets MPI_ERROR only in multiple-completion calls: do not read it. */
		st.MPI_SOURCE = MPI_ANY_SOURCE;
		PMPI_Request_get_status(crmpi_S.recv_reqs[i], &flag, &st);
		if (flag) {
			struct crmpi_comm *c = &crmpi_S.comms[crmpi_S.recv_comm[i]];

			if (st.MPI_SOURCE >= 0 && st.MPI_SOURCE < c->size)
				bookmarks_count_received(&crmpi_S.marks, crmpi_S.recv_comm[i],
							 c->to_world[st.MPI_SOURCE]);
			/* Counted: the completion seen later by Wait/Test is not counted again. */
			crmpi_S.recv_comm[i] = -2 - crmpi_S.recv_comm[i];
		}
	}
}

static void debug_missing(void)
{
	struct crmpi_bookmarks *b = &crmpi_S.marks;
	int c, p;

	if (!getenv("CRMPI_DEBUG"))
		return;
	for (c = 0; c < crmpi_S.nrecv; c++) {
		int f = 0;
		MPI_Status st;
		if (crmpi_S.recv_comm[c] >= 0)
			PMPI_Request_get_status(crmpi_S.recv_reqs[c], &f, &st);
		fprintf(stderr, "libcrmpi[%d]: tracked receive %d: comm %d req %p done %d\n", crmpi_S.world_rank, c,
			crmpi_S.recv_comm[c], (void *)(uintptr_t)crmpi_S.recv_reqs[c], f);
	}
	for (c = 0; c < crmpi_S.ncomms; c++)
		for (p = 0; p < b->npeers; p++)
			if (bookmarks_missing(b, c, p))
				fprintf(stderr, "libcrmpi[%d]: epoch %ld: missing %llu from %d on %s (received %llu, expected %llu)\n",
					crmpi_S.world_rank, atomic_load(&crmpi_S.epoch),
					(unsigned long long)bookmarks_missing(b, c, p), p, crmpi_S.comms[c].gid,
					(unsigned long long)b->received[(size_t)c * b->npeers + p],
					(unsigned long long)b->expected[(size_t)c * b->npeers + p]);
}

/* Receives every message still missing into the library buffer. */
static int drain(void)
{
	struct crmpi_bookmarks *b = &crmpi_S.marks;
	long spins = 0;
	int got;

	debug_missing();
	while (!bookmarks_complete(b)) {
		int c, p;

		if (++spins % 2000000 == 0)
			debug_missing();

		if (aborted())
			return -ECANCELED;
		poll_posted_receives();
		got = 0;
		for (c = 0; c < crmpi_S.ncomms; c++) {
			struct crmpi_comm *cm = &crmpi_S.comms[c];

			if (!cm->in_use)
				continue;
			for (p = 0; p < b->npeers; p++) {
				MPI_Message msg;
				MPI_Status st;
				int flag = 0, n, src;
				void *data;

				if (!bookmarks_missing(b, c, p))
					continue;
				src = world_to_local(cm, p);
				if (src < 0)
					continue;
				PMPI_Improbe(src, MPI_ANY_TAG, cm->comm, &flag, &msg, &st);
				if (!flag)
					continue;
				PMPI_Get_count(&st, MPI_BYTE, &n);
				data = malloc(n > 0 ? (size_t)n : 1);
				if (!data)
					return -ENOMEM;
				PMPI_Mrecv(data, n, MPI_BYTE, &msg, &st);
				if (msgbuf_push(&crmpi_S.buffered, c, src, st.MPI_TAG, data, (size_t)n) < 0) {
					free(data);
					return -ENOMEM;
				}
				free(data);
				bookmarks_count_received(b, c, p);
				got = 1;
			}
		}
		/*
		 * Nothing arrived in this sweep: the sender is still on its way (or
		 * waits for its turn on a core). Yield, as every other wait of the
		 * quiesce does: spinning through a whole slice here kept the very
		 * rank it waits for off the core.
		 */
		if (!got)
			sched_yield();
	}
	return 0;
}

static void wait_phase(int phase)
{
	while (atomic_load(&crmpi_S.phase) < phase && !aborted())
		crmpi_progress();
}

/* The innermost step of the callback chain: READY, reconnect, outcome. */
static int take_checkpoint(int declined)
{
	long epoch = atomic_load(&crmpi_S.epoch);
	int outcome = CRMPI_ABORTED;

	if (declined) {
		crmpi_agent_send("DECLINED %ld a checkpoint callback declined", epoch);
		while (!aborted())
			crmpi_progress();
		return CRMPI_ABORTED;
	}
	if (crmpi_app_save_messages() < 0) {
		crmpi_agent_send("DECLINED %ld cannot save the drained messages in %s", epoch, crmpi_S.state_path);
		while (!aborted())
			crmpi_progress();
		return CRMPI_ABORTED;
	}
	crmpi_agent_send("READY %ld", epoch);
	/*
	 * Closes the connection at once, without waiting for GO (ABI 1 waited):
	 * the agent stopped listening before EXPECT, so the reconnection waits
	 * until the dump is over, and an ABORT is heard then. One round less
	 * in which every rank must be scheduled before the tree can be frozen.
	 */
	if (crmpi_agent_reconnect_and_resume(epoch, &outcome) < 0)
		return CRMPI_ABORTED;
	return outcome;
}

static int declined_flag;

/* Runs callback next_callback (which continues the chain by crmpi_checkpoint()), or the checkpoint. */
static int run_chain(void)
{
	int i = crmpi_S.next_callback;

	if (i >= crmpi_S.ncallbacks) {
		crmpi_S.result = take_checkpoint(declined_flag);
		return crmpi_S.result;
	}
	crmpi_S.next_callback = i + 1;
	crmpi_S.callbacks[i](crmpi_S.callback_args[i]);
	/* A callback that returned without calling crmpi_checkpoint() lets the chain go on. */
	if (crmpi_S.next_callback == i + 1 && crmpi_S.result == 0)
		run_chain();
	return crmpi_S.result;
}

int crmpi_checkpoint(int how)
{
	if (!crmpi_S.present)
		return CRMPI_ENOTPRESENT;
	if (!crmpi_S.in_checkpoint || crmpi_S.next_callback == 0)
		return -EBUSY;
	if (how != CRMPI_OK && how != CRMPI_DECLINE)
		return -EINVAL;
	if (how == CRMPI_DECLINE)
		declined_flag = 1;
	if (crmpi_S.result)
		return crmpi_S.result;
	return run_chain();
}

static void stop_and_checkpoint(void)
{
	long epoch = atomic_load(&crmpi_S.epoch);
	int round = atomic_load(&crmpi_S.target_round);

	crmpi_S.in_checkpoint = 1;
	report_sent(epoch, round);
	while (atomic_load(&crmpi_S.phase) < PHASE_EXPECT && !aborted()) {
		if (atomic_load(&crmpi_S.target_round) != round) {
			/* A rank inside a critical section raised the targets: run forward again. */
			crmpi_S.in_checkpoint = 0;
			return;
		}
		crmpi_progress();
	}
	if (aborted() || drain() < 0) {
		finish_quiesce();
		return;
	}
	crmpi_S.next_callback = 0;
	crmpi_S.result = 0;
	declined_flag = 0;
	run_chain();
	finish_quiesce();
}

/* 1 when a rank blocked in a wait loop should give up its wait to stop. */
int crmpi_should_stop(void)
{
	if (!atomic_load(&crmpi_S.pending) || crmpi_S.in_checkpoint)
		return 0;
	if (aborted())
		return 1;
	return atomic_load(&crmpi_S.phase) >= PHASE_TARGETS && atomic_load(&crmpi_S.critical) == 0 && all_at_target();
}

void crmpi_slow_path(int at_collective)
{
	if (crmpi_S.in_checkpoint)
		return;
	if (aborted()) {
		finish_quiesce();
		return;
	}
	if (atomic_load(&crmpi_S.phase) == PHASE_PREPARE) {
		if (!at_collective)
			return;
		/* Before entering a collective, learn whether it belongs before or after the cut. */
		wait_phase(PHASE_TARGETS);
		if (aborted()) {
			finish_quiesce();
			return;
		}
	}
	if (atomic_load(&crmpi_S.critical) > 0 || !all_at_target())
		return;
	stop_and_checkpoint();
}

/* Counts a collective on comm, stopping first when the cut falls before it. */
void crmpi_collective_enter(int idx)
{
	struct crmpi_comm *c;

	if (idx < 0)
		return;
	c = &crmpi_S.comms[idx];
	for (;;) {
		uint64_t n;

		if (atomic_load(&crmpi_S.pending))
			crmpi_slow_path(1);
		n = atomic_fetch_add(&c->collectives, 1) + 1;
		if (!atomic_load(&crmpi_S.pending))
			return;
		if (atomic_load(&crmpi_S.phase) >= PHASE_TARGETS && n <= c->target)
			return; /* running forward to the cut */
		if (aborted() || crmpi_S.in_checkpoint)
			return;
		if (atomic_load(&crmpi_S.phase) >= PHASE_TARGETS && atomic_load(&crmpi_S.critical) > 0 &&
		    c->raised != n) {
			/* Inside a critical section we cannot stop here: ask for the cut after this collective. */
			crmpi_agent_send("RAISE %ld %s=%llu", atomic_load(&crmpi_S.epoch), c->gid, (unsigned long long)n);
			c->raised = n;
		}
		atomic_fetch_sub(&c->collectives, 1);
		crmpi_progress();
	}
}

/* ---- the application API ---- */

int crmpi_abi_version(void)
{
	return CRMPI_ABI_VERSION;
}

int crmpi_present(void)
{
	return crmpi_S.present;
}

int crmpi_register_callback(crmpi_callback_t fn, void *arg)
{
	if (!crmpi_S.present)
		return CRMPI_ENOTPRESENT;
	if (!fn)
		return -EINVAL;
	if (crmpi_S.in_checkpoint)
		return -EBUSY;
	if (crmpi_S.ncallbacks == CRMPI_MAX_CALLBACKS)
		return -ENOMEM;
	crmpi_S.callbacks[crmpi_S.ncallbacks] = fn;
	crmpi_S.callback_args[crmpi_S.ncallbacks] = arg;
	crmpi_S.ncallbacks++;
	return 0;
}

int crmpi_critical_enter(void)
{
	if (!crmpi_S.present)
		return CRMPI_ENOTPRESENT;
	/* Outside every critical section: a safe point, where the app engine's state is whole. */
	if (atomic_load(&crmpi_S.critical) == 0)
		crmpi_safe_point();
	atomic_fetch_add(&crmpi_S.critical, 1);
	return 0;
}

int crmpi_critical_exit(void)
{
	if (!crmpi_S.present)
		return CRMPI_ENOTPRESENT;
	if (atomic_load(&crmpi_S.critical) <= 0)
		return -EINVAL;
	atomic_fetch_sub(&crmpi_S.critical, 1);
	crmpi_safe_point();
	return 0;
}

const char *crmpi_state_path(void)
{
	if (!crmpi_S.present || !crmpi_S.state_path[0])
		return NULL;
	if (!crmpi_S.in_checkpoint && !crmpi_S.restarted_epoch)
		return NULL;
	return crmpi_S.state_path;
}

long crmpi_epoch(void)
{
	if (!crmpi_S.present)
		return 0;
	return crmpi_S.in_checkpoint ? atomic_load(&crmpi_S.epoch) : crmpi_S.done_epoch;
}
