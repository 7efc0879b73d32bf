/*
 * libcrmpi internals shared by its files: the process-wide state, the
 * agent channel and the quiesce state machine.
 */
#ifndef CRMPI_INTERNAL_H
#define CRMPI_INTERNAL_H

#include <mpi.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "bookmarks.h"
#include "crmpi.h"
#include "msgbuf.h"

#define CRMPI_MAX_CALLBACKS 32
#define CRMPI_GID_LEN 64

/* One communicator the library knows: world, and every dup/split of a known one. */
struct crmpi_comm {
	MPI_Comm comm;
	char gid[CRMPI_GID_LEN]; /* the same on every member: "w", "w.1", "w.1.2" */
	int size;
	int *to_world;           /* local rank -> world rank */
	int children;            /* communicators created from this one so far */
	_Atomic uint64_t collectives; /* collective calls entered on it */
	uint64_t target;         /* collectives to reach before stopping (quiesce) */
	uint64_t raised;         /* the last count this rank asked the targets to be raised to */
	int in_use;
};

/* Quiesce phases, advanced by the agent's messages (helper thread) and the main thread. */
enum crmpi_phase {
	PHASE_IDLE = 0,
	PHASE_PREPARE,  /* PREPARE received, STATE sent; waiting for TARGET */
	PHASE_TARGETS,  /* TARGET received: run forward to the targets, then stop */
	PHASE_EXPECT,   /* EXPECT received: drain */
};

struct crmpi_state {
	int present;
	int world_rank;
	int world_size;

	struct crmpi_comm *comms;
	int ncomms;
	int comm_keyval;

	struct crmpi_bookmarks marks;
	struct crmpi_msgbuf buffered;

	/* Receive requests the application posted, counted when they complete. */
	MPI_Request *recv_reqs;
	int *recv_comm;
	int nrecv, caprecv;

	_Atomic int critical;
	_Atomic int pending;       /* a quiesce is in progress: take the slow path */
	_Atomic int phase;
	_Atomic int aborted;
	_Atomic int target_round;  /* TARGET messages received this epoch (targets can be raised) */
	_Atomic long epoch;
	long done_epoch;
	int in_checkpoint;         /* the main thread runs the checkpoint path */

	crmpi_callback_t callbacks[CRMPI_MAX_CALLBACKS];
	void *callback_args[CRMPI_MAX_CALLBACKS];
	int ncallbacks;
	int next_callback;         /* index of the callback crmpi_checkpoint() runs next */
	int result;                /* of the checkpoint in progress */
	char state_path[4096];
	long restarted_epoch;      /* app engine: the epoch this fresh job restarted from */

	/* agent channel */
	char socket_path[108];
	int fd;
	pthread_mutex_t write_lock;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t helper;
	int helper_parked;          /* the main thread owns the socket */
	int helper_idle;            /* the helper thread has stopped reading it */
};

extern struct crmpi_state crmpi_S;

/* agent.c */
int crmpi_agent_connect(void);
int crmpi_agent_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void crmpi_agent_start_helper(void);
int crmpi_agent_reconnect_and_resume(long epoch, int *outcome);
void crmpi_agent_bye(void);

/* appstate.c */
void crmpi_app_set_base(const char *base);
int crmpi_app_save_messages(void);
void crmpi_app_adopt(int idx);
void crmpi_app_restart(const char *dir, long epoch);

/* quiesce.c */
void crmpi_slow_path(int at_collective);
int crmpi_checkpoint_here(void);
int crmpi_comm_index(MPI_Comm comm);
int crmpi_comm_register(MPI_Comm comm, const char *gid);
int crmpi_comm_by_gid(const char *gid);
void crmpi_progress(void);

/* The fast check at every wrapper: nothing to do unless a quiesce is in progress. */
static inline void crmpi_safe_point(void)
{
	if (atomic_load_explicit(&crmpi_S.pending, memory_order_relaxed))
		crmpi_slow_path(0);
}

/*
 * One unsuccessful turn of a blocking call's wait loop. While a quiesce is
 * in progress this rank is only waiting, and on a node with more ranks than
 * cores the ranks it waits for, and the agent, need the CPU: it yields.
 */
static inline void crmpi_wait_turn(void)
{
	if (atomic_load_explicit(&crmpi_S.pending, memory_order_relaxed)) {
		crmpi_slow_path(0);
		sched_yield();
	}
}

#endif
