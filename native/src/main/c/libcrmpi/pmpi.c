/*
 * The MPI profiling-interface wrappers of libcrmpi. Without an agent every
 * wrapper calls its PMPI_ function and nothing else. With one, they count
 * point-to-point messages (bookmarks), count collectives per communicator,
 * deliver drained messages before asking MPI, and turn blocking calls into
 * wait loops that reach a safe point when a quiesce asks for one.
 *
 * Not interposed (messages through them are not bookmarked): persistent
 * requests, one-sided communication, matched probes by the application,
 * neighborhood and nonblocking collectives, intercommunicators.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P crmpi_S.present

int crmpi_should_stop(void);
void crmpi_collective_enter(int idx);

static int setup(void)
{
	int rc;

	PMPI_Comm_rank(MPI_COMM_WORLD, &crmpi_S.world_rank);
	PMPI_Comm_size(MPI_COMM_WORLD, &crmpi_S.world_size);
	if (crmpi_agent_connect() < 0)
		return 0;
	PMPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &crmpi_S.comm_keyval, NULL);
	bookmarks_init(&crmpi_S.marks, crmpi_S.world_size);
	msgbuf_init(&crmpi_S.buffered);
	if (getenv("CRMPI_RESTART_DIR") && getenv("CRMPI_RESTART_EPOCH"))
		crmpi_app_restart(getenv("CRMPI_RESTART_DIR"), atol(getenv("CRMPI_RESTART_EPOCH")));
	rc = crmpi_comm_register(MPI_COMM_WORLD, "w");
	if (rc < 0)
		return rc;
	crmpi_S.present = 1;
	crmpi_agent_start_helper();
	return 0;
}

int MPI_Init(int *argc, char ***argv)
{
	int rc = PMPI_Init(argc, argv);

	if (rc == MPI_SUCCESS)
		setup();
	return rc;
}

int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
{
	int rc = PMPI_Init_thread(argc, argv, required, provided);

	if (rc == MPI_SUCCESS)
		setup();
	return rc;
}

int MPI_Finalize(void)
{
	if (P) {
		crmpi_safe_point();
		crmpi_agent_bye();
		crmpi_S.present = 0;
	}
	return PMPI_Finalize();
}

/* ---- communicators ---- */

static void register_child(int parent, MPI_Comm child)
{
	char gid[CRMPI_GID_LEN + 16];

	if (parent < 0 || child == MPI_COMM_NULL)
		return;
	snprintf(gid, sizeof(gid), "%.*s.%d", CRMPI_GID_LEN - 16, crmpi_S.comms[parent].gid,
		 ++crmpi_S.comms[parent].children);
	crmpi_comm_register(child, gid);
}

int MPI_Comm_dup(MPI_Comm comm, MPI_Comm *newcomm)
{
	int idx, rc;

	if (!P)
		return PMPI_Comm_dup(comm, newcomm);
	idx = crmpi_comm_index(comm);
	crmpi_collective_enter(idx);
	rc = PMPI_Comm_dup(comm, newcomm);
	if (rc == MPI_SUCCESS)
		register_child(idx, *newcomm);
	return rc;
}

int MPI_Comm_split(MPI_Comm comm, int color, int key, MPI_Comm *newcomm)
{
	int idx, rc;

	if (!P)
		return PMPI_Comm_split(comm, color, key, newcomm);
	idx = crmpi_comm_index(comm);
	crmpi_collective_enter(idx);
	rc = PMPI_Comm_split(comm, color, key, newcomm);
	if (rc == MPI_SUCCESS) {
		if (*newcomm != MPI_COMM_NULL)
			register_child(idx, *newcomm);
		else if (idx >= 0)
			crmpi_S.comms[idx].children++; /* keep the numbering of every member in step */
	}
	return rc;
}

int MPI_Comm_free(MPI_Comm *comm)
{
	if (P) {
		int idx = crmpi_comm_index(*comm);

		crmpi_collective_enter(idx);
		if (idx > 0)
			crmpi_S.comms[idx].in_use = 0;
	}
	return PMPI_Comm_free(comm);
}

/* ---- bookkeeping helpers ---- */

static void count_sent(MPI_Comm comm, int dest)
{
	int idx;

	if (dest == MPI_PROC_NULL || dest < 0)
		return;
	idx = crmpi_comm_index(comm);
	if (idx >= 0 && dest < crmpi_S.comms[idx].size)
		bookmarks_count_sent(&crmpi_S.marks, idx, crmpi_S.comms[idx].to_world[dest]);
}

static void count_received(int idx, const MPI_Status *st)
{
	if (idx < 0 || st->MPI_SOURCE < 0 || st->MPI_SOURCE >= crmpi_S.comms[idx].size)
		return;
	bookmarks_count_received(&crmpi_S.marks, idx, crmpi_S.comms[idx].to_world[st->MPI_SOURCE]);
}

static void track_recv(MPI_Request req, int idx)
{
	int i;

	if (idx < 0 || req == MPI_REQUEST_NULL)
		return;
	for (i = 0; i < crmpi_S.nrecv; i++)
		if (crmpi_S.recv_comm[i] == -1)
			break;
	if (i == crmpi_S.nrecv) {
		if (crmpi_S.nrecv == crmpi_S.caprecv) {
			int cap = crmpi_S.caprecv ? 2 * crmpi_S.caprecv : 64;
			MPI_Request *r = realloc(crmpi_S.recv_reqs, (size_t)cap * sizeof(*r));
			int *c = realloc(crmpi_S.recv_comm, (size_t)cap * sizeof(*c));

			if (r)
				crmpi_S.recv_reqs = r;
			if (!r || !c)
				return;
			crmpi_S.recv_comm = c;
			crmpi_S.caprecv = cap;
		}
		crmpi_S.nrecv++;
	}
	crmpi_S.recv_reqs[i] = req;
	crmpi_S.recv_comm[i] = idx;
}

/* A request completed (handle as it was before the call): counts it if it was a tracked receive. */
static void completed(MPI_Request req, const MPI_Status *st)
{
	int i;

	if (req == MPI_REQUEST_NULL)
		return;
	for (i = 0; i < crmpi_S.nrecv; i++) {
		if (crmpi_S.recv_comm[i] != -1 && crmpi_S.recv_reqs[i] == req) {
			if (crmpi_S.recv_comm[i] >= 0)
				count_received(crmpi_S.recv_comm[i], st);
			crmpi_S.recv_comm[i] = -1;
			while (crmpi_S.nrecv && crmpi_S.recv_comm[crmpi_S.nrecv - 1] == -1)
				crmpi_S.nrecv--;
			return;
		}
	}
}

static struct crmpi_msg *buffered_match(int idx, int source, int tag)
{
	if (!crmpi_S.buffered.count || idx < 0)
		return NULL;
	return msgbuf_match(&crmpi_S.buffered, idx, source, source == MPI_ANY_SOURCE, tag, tag == MPI_ANY_TAG);
}

static void set_status(MPI_Status *st, const struct crmpi_msg *m, MPI_Datatype type, int elements)
{
	if (st == MPI_STATUS_IGNORE)
		return;
	st->MPI_SOURCE = m->src;
	st->MPI_TAG = m->tag;
	st->MPI_ERROR = MPI_SUCCESS;
	PMPI_Status_set_elements(st, type, elements);
}

/* Copies a buffered message into the application's buffer and forgets it. */
static int deliver(struct crmpi_msg *m, void *buf, int count, MPI_Datatype type, MPI_Comm comm, MPI_Status *st)
{
	int size, elements, pos = 0, rc = MPI_SUCCESS;

	PMPI_Type_size(type, &size);
	elements = size > 0 ? (int)(m->len / (size_t)size) : 0;
	if (elements > count) {
		elements = count;
		rc = MPI_ERR_TRUNCATE;
	}
	if (elements > 0)
		PMPI_Unpack(m->data, (int)m->len, &pos, buf, elements, type, comm);
	set_status(st, m, type, elements);
	msgbuf_remove(&crmpi_S.buffered, m);
	return rc;
}

/* Waits for one request, reaching safe points meanwhile. */
static int wait_loop(MPI_Request *req, MPI_Status *st)
{
	for (;;) {
		int flag = 0, rc = PMPI_Test(req, &flag, st);

		if (rc != MPI_SUCCESS || flag)
			return rc;
		crmpi_wait_turn();
	}
}

/* ---- point to point ---- */

static int send_common(int (*isend)(const void *, int, MPI_Datatype, int, int, MPI_Comm, MPI_Request *),
		       const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
	MPI_Request req;
	int rc;

	crmpi_safe_point();
	count_sent(comm, dest);
	rc = isend(buf, count, type, dest, tag, comm, &req);
	if (rc != MPI_SUCCESS)
		return rc;
	return wait_loop(&req, MPI_STATUS_IGNORE);
}

int MPI_Send(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
	if (!P)
		return PMPI_Send(buf, count, type, dest, tag, comm);
	return send_common(PMPI_Isend, buf, count, type, dest, tag, comm);
}

int MPI_Ssend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
	if (!P)
		return PMPI_Ssend(buf, count, type, dest, tag, comm);
	return send_common(PMPI_Issend, buf, count, type, dest, tag, comm);
}

int MPI_Rsend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
	if (!P)
		return PMPI_Rsend(buf, count, type, dest, tag, comm);
	return send_common(PMPI_Isend, buf, count, type, dest, tag, comm);
}

int MPI_Bsend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
	if (P) {
		crmpi_safe_point();
		count_sent(comm, dest);
	}
	return PMPI_Bsend(buf, count, type, dest, tag, comm);
}

int MPI_Isend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	if (P) {
		crmpi_safe_point();
		count_sent(comm, dest);
	}
	return PMPI_Isend(buf, count, type, dest, tag, comm, req);
}

int MPI_Issend(const void *buf, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	if (P) {
		crmpi_safe_point();
		count_sent(comm, dest);
	}
	return PMPI_Issend(buf, count, type, dest, tag, comm, req);
}

int MPI_Recv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm, MPI_Status *status)
{
	MPI_Status local;
	MPI_Status *st = status == MPI_STATUS_IGNORE ? &local : status;
	int idx;

	if (!P)
		return PMPI_Recv(buf, count, type, source, tag, comm, status);
	idx = crmpi_comm_index(comm);
	for (;;) {
		struct crmpi_msg *m;
		MPI_Request req;
		int rc, flag = 0, cancelled = 0;

		crmpi_safe_point();
		m = buffered_match(idx, source, tag);
		if (m)
			return deliver(m, buf, count, type, comm, status);
		if (source == MPI_PROC_NULL)
			return PMPI_Recv(buf, count, type, source, tag, comm, status);
		rc = PMPI_Irecv(buf, count, type, source, tag, comm, &req);
		if (rc != MPI_SUCCESS)
			return rc;
		for (;;) {
			rc = PMPI_Test(&req, &flag, st);
			if (rc != MPI_SUCCESS)
				return rc;
			if (flag)
				break;
			if (crmpi_should_stop()) {
				/* Withdraw the receive so that the drain sees every message, then stop. */
				PMPI_Cancel(&req);
				PMPI_Wait(&req, st);
				PMPI_Test_cancelled(st, &cancelled);
				break;
			}
			if (atomic_load_explicit(&crmpi_S.pending, memory_order_relaxed))
				sched_yield();
		}
		if (!cancelled) {
			count_received(idx, st);
			return MPI_SUCCESS;
		}
		crmpi_slow_path(0);
	}
}

struct buffered_request {
	MPI_Status status;
};

static int greq_query(void *extra, MPI_Status *status)
{
	*status = ((struct buffered_request *)extra)->status;
	return MPI_SUCCESS;
}

static int greq_free(void *extra)
{
	free(extra);
	return MPI_SUCCESS;
}

static int greq_cancel(void *extra, int complete)
{
	(void)extra;
	(void)complete;
	return MPI_SUCCESS;
}

int MPI_Irecv(void *buf, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm, MPI_Request *req)
{
	struct crmpi_msg *m;
	int idx, rc;

	if (!P)
		return PMPI_Irecv(buf, count, type, source, tag, comm, req);
	crmpi_safe_point();
	idx = crmpi_comm_index(comm);
	m = buffered_match(idx, source, tag);
	if (m) {
		/* Satisfied from the buffer: a request that is already complete. */
		struct buffered_request *br = calloc(1, sizeof(*br));

		if (!br)
			return MPI_ERR_NO_MEM;
		rc = deliver(m, buf, count, type, comm, &br->status);
		br->status.MPI_ERROR = rc;
		PMPI_Grequest_start(greq_query, greq_free, greq_cancel, br, req);
		PMPI_Grequest_complete(*req);
		return MPI_SUCCESS;
	}
	rc = PMPI_Irecv(buf, count, type, source, tag, comm, req);
	if (rc == MPI_SUCCESS)
		track_recv(*req, idx);
	return rc;
}

int MPI_Sendrecv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, int dest, int sendtag, void *recvbuf,
		 int recvcount, MPI_Datatype recvtype, int source, int recvtag, MPI_Comm comm, MPI_Status *status)
{
	MPI_Request req;
	int rc;

	if (!P)
		return PMPI_Sendrecv(sendbuf, sendcount, sendtype, dest, sendtag, recvbuf, recvcount, recvtype, source,
				     recvtag, comm, status);
	rc = MPI_Isend(sendbuf, sendcount, sendtype, dest, sendtag, comm, &req);
	if (rc != MPI_SUCCESS)
		return rc;
	rc = MPI_Recv(recvbuf, recvcount, recvtype, source, recvtag, comm, status);
	if (rc != MPI_SUCCESS)
		return rc;
	return wait_loop(&req, MPI_STATUS_IGNORE);
}

int MPI_Iprobe(int source, int tag, MPI_Comm comm, int *flag, MPI_Status *status)
{
	struct crmpi_msg *m;

	if (!P)
		return PMPI_Iprobe(source, tag, comm, flag, status);
	crmpi_safe_point();
	m = buffered_match(crmpi_comm_index(comm), source, tag);
	if (m) {
		*flag = 1;
		set_status(status, m, MPI_BYTE, (int)m->len);
		return MPI_SUCCESS;
	}
	return PMPI_Iprobe(source, tag, comm, flag, status);
}

int MPI_Probe(int source, int tag, MPI_Comm comm, MPI_Status *status)
{
	int flag = 0, rc;

	if (!P)
		return PMPI_Probe(source, tag, comm, status);
	while (!flag) {
		rc = MPI_Iprobe(source, tag, comm, &flag, status);
		if (rc != MPI_SUCCESS)
			return rc;
	}
	return MPI_SUCCESS;
}

/* ---- completion ---- */

int MPI_Test(MPI_Request *req, int *flag, MPI_Status *status)
{
	MPI_Status local;
	MPI_Status *st = status == MPI_STATUS_IGNORE ? &local : status;
	MPI_Request before = *req;
	int rc;

	if (!P)
		return PMPI_Test(req, flag, status);
	crmpi_safe_point();
	rc = PMPI_Test(req, flag, st);
	if (rc == MPI_SUCCESS && *flag)
		completed(before, st);
	return rc;
}

int MPI_Wait(MPI_Request *req, MPI_Status *status)
{
	MPI_Status local;
	MPI_Status *st = status == MPI_STATUS_IGNORE ? &local : status;
	MPI_Request before = *req;
	int rc;

	if (!P)
		return PMPI_Wait(req, status);
	rc = wait_loop(req, st);
	if (rc == MPI_SUCCESS)
		completed(before, st);
	return rc;
}

/*
 * Copies of the request handles as they were before a multiple-completion
 * call (MPI sets completed ones to MPI_REQUEST_NULL), and a status array
 * when the application passed MPI_STATUSES_IGNORE. Freed by completion_end().
 */
struct completion {
	MPI_Request *before;
	MPI_Status *st;
	MPI_Status *app;
};

static int completion_begin(struct completion *c, int n, MPI_Request reqs[], MPI_Status statuses[])
{
	size_t len = (size_t)(n > 0 ? n : 1);

	c->app = statuses;
	c->before = malloc(len * sizeof(*c->before));
	c->st = statuses == MPI_STATUSES_IGNORE ? malloc(len * sizeof(*c->st)) : statuses;
	if (!c->before || !c->st) {
		free(c->before);
		if (c->st != statuses)
			free(c->st);
		return MPI_ERR_NO_MEM;
	}
	memcpy(c->before, reqs, (size_t)n * sizeof(*c->before));
	return MPI_SUCCESS;
}

static void completion_end(struct completion *c)
{
	free(c->before);
	if (c->st != c->app)
		free(c->st);
}

int MPI_Testall(int n, MPI_Request reqs[], int *flag, MPI_Status statuses[])
{
	struct completion c;
	int i, rc;

	if (!P)
		return PMPI_Testall(n, reqs, flag, statuses);
	crmpi_safe_point();
	if (completion_begin(&c, n, reqs, statuses) != MPI_SUCCESS)
		return MPI_ERR_NO_MEM;
	rc = PMPI_Testall(n, reqs, flag, c.st);
	if (*flag)
		for (i = 0; i < n; i++)
			completed(c.before[i], &c.st[i]);
	completion_end(&c);
	return rc;
}

int MPI_Waitall(int n, MPI_Request reqs[], MPI_Status statuses[])
{
	int flag = 0, rc;

	if (!P)
		return PMPI_Waitall(n, reqs, statuses);
	for (;;) {
		rc = MPI_Testall(n, reqs, &flag, statuses);
		if (rc != MPI_SUCCESS || flag)
			return rc;
		crmpi_wait_turn();
	}
}

int MPI_Testany(int n, MPI_Request reqs[], int *index, int *flag, MPI_Status *status)
{
	MPI_Status local;
	MPI_Status *st = status == MPI_STATUS_IGNORE ? &local : status;
	MPI_Request *before;
	int rc;

	if (!P)
		return PMPI_Testany(n, reqs, index, flag, status);
	crmpi_safe_point();
	before = malloc((size_t)(n > 0 ? n : 1) * sizeof(*before));
	if (!before)
		return MPI_ERR_NO_MEM;
	memcpy(before, reqs, (size_t)n * sizeof(*before));
	rc = PMPI_Testany(n, reqs, index, flag, st);
	if (rc == MPI_SUCCESS && *flag && *index != MPI_UNDEFINED)
		completed(before[*index], st);
	free(before);
	return rc;
}

int MPI_Waitany(int n, MPI_Request reqs[], int *index, MPI_Status *status)
{
	int flag = 0, rc;

	if (!P)
		return PMPI_Waitany(n, reqs, index, status);
	for (;;) {
		rc = MPI_Testany(n, reqs, index, &flag, status);
		if (rc != MPI_SUCCESS || flag)
			return rc;
		crmpi_wait_turn();
	}
}

int MPI_Testsome(int n, MPI_Request reqs[], int *outcount, int indices[], MPI_Status statuses[])
{
	struct completion c;
	int i, rc;

	if (!P)
		return PMPI_Testsome(n, reqs, outcount, indices, statuses);
	crmpi_safe_point();
	if (completion_begin(&c, n, reqs, statuses) != MPI_SUCCESS)
		return MPI_ERR_NO_MEM;
	rc = PMPI_Testsome(n, reqs, outcount, indices, c.st);
	if (rc == MPI_SUCCESS && *outcount != MPI_UNDEFINED)
		for (i = 0; i < *outcount; i++)
			completed(c.before[indices[i]], &c.st[i]);
	completion_end(&c);
	return rc;
}

int MPI_Waitsome(int n, MPI_Request reqs[], int *outcount, int indices[], MPI_Status statuses[])
{
	int rc;

	if (!P)
		return PMPI_Waitsome(n, reqs, outcount, indices, statuses);
	for (;;) {
		rc = MPI_Testsome(n, reqs, outcount, indices, statuses);
		if (rc != MPI_SUCCESS || *outcount != 0)
			return rc;
		crmpi_wait_turn();
	}
}

/* ---- collectives: counted, so that the cut never splits one ---- */

#define COLLECTIVE(comm) do { if (P) crmpi_collective_enter(crmpi_comm_index(comm)); } while (0)

int MPI_Barrier(MPI_Comm comm)
{
	COLLECTIVE(comm);
	return PMPI_Barrier(comm);
}

int MPI_Bcast(void *buf, int count, MPI_Datatype type, int root, MPI_Comm comm)
{
	COLLECTIVE(comm);
	return PMPI_Bcast(buf, count, type, root, comm);
}

int MPI_Reduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op, int root, MPI_Comm comm)
{
	COLLECTIVE(comm);
	return PMPI_Reduce(sendbuf, recvbuf, count, type, op, root, comm);
}

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm)
{
	COLLECTIVE(comm);
	return PMPI_Allreduce(sendbuf, recvbuf, count, type, op, comm);
}

int MPI_Gather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount,
	       MPI_Datatype recvtype, int root, MPI_Comm comm)
{
	COLLECTIVE(comm);
	return PMPI_Gather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm);
}

int MPI_Scatter(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount,
		MPI_Datatype recvtype, int root, MPI_Comm comm)
{
	COLLECTIVE(comm);
	return PMPI_Scatter(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm);
}

int MPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount,
		  MPI_Datatype recvtype, MPI_Comm comm)
{
	COLLECTIVE(comm);
	return PMPI_Allgather(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm);
}

int MPI_Alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf, int recvcount,
		 MPI_Datatype recvtype, MPI_Comm comm)
{
	COLLECTIVE(comm);
	return PMPI_Alltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm);
}

int MPI_Scan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype type, MPI_Op op, MPI_Comm comm)
{
	COLLECTIVE(comm);
	return PMPI_Scan(sendbuf, recvbuf, count, type, op, comm);
}
