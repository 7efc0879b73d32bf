/*
 * crmpi.h: the application-facing API of libcrmpi, crmpi's MPI
 * checkpoint/restart library.
 *
 * libcrmpi is interposed into an MPI program (link with -lcrmpi, or
 * LD_PRELOAD=libcrmpi.so). Under crmpi, it quiesces MPI point-to-point
 * traffic before every checkpoint and runs the callbacks registered here.
 * Without crmpi (no node agent), every call answers CRMPI_ENOTPRESENT and
 * the program runs exactly as without the library.
 *
 * Callbacks follow BLCR and LAM/MPI: a callback runs at the quiesced point
 * before a checkpoint, does its pre-checkpoint work, then calls
 * crmpi_checkpoint(), which returns once the checkpoint is over and tells
 * whether the program continues after it or restarts from it:
 *
 *     static int on_checkpoint(void *arg)
 *     {
 *             save_state(crmpi_state_path());         // for the app engine
 *             int r = crmpi_checkpoint(CRMPI_OK);
 *             if (r == CRMPI_RESTART)
 *                     reopen_files();
 *             return 0;
 *     }
 *     crmpi_register_callback(on_checkpoint, NULL);
 *
 * Several callbacks run in registration order, each inside the previous
 * one's crmpi_checkpoint() call, so their post-checkpoint halves run in
 * reverse order. A callback declines a checkpoint with
 * crmpi_checkpoint(CRMPI_DECLINE): the epoch aborts and the program goes on.
 * Callbacks must not communicate through MPI.
 *
 * All functions return 0 (or a value documented below) on success and a
 * negative errno on failure:
 *   CRMPI_ENOTPRESENT (-ENODEV)   no crmpi agent coordinates this process
 *   -EINVAL                       a bad argument
 *   -EBUSY                        called where it is not allowed
 *   -ENOMEM                       out of memory
 */
#ifndef CRMPI_H
#define CRMPI_H

#include <errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Raised on every incompatible change of this header or of the agent protocol. */
#define CRMPI_ABI_VERSION 2

#define CRMPI_ENOTPRESENT (-ENODEV)

/* Arguments of crmpi_checkpoint(). */
#define CRMPI_OK 0
#define CRMPI_DECLINE 1

/* Results of crmpi_checkpoint(). */
#define CRMPI_CONTINUE 1 /* the checkpoint was taken; the program goes on */
#define CRMPI_RESTART 2  /* the program was restarted from this checkpoint */
#define CRMPI_ABORTED 3  /* no checkpoint was taken (declined, failed, timed out) */

typedef int (*crmpi_callback_t)(void *arg);

/* The ABI version of the loaded library (compare with CRMPI_ABI_VERSION). */
int crmpi_abi_version(void);

/* 1 when a crmpi agent coordinates this process, 0 otherwise. */
int crmpi_present(void);

/* Registers a checkpoint callback; at most 32. */
int crmpi_register_callback(crmpi_callback_t fn, void *arg);

/*
 * Inside a callback only: finishes this callback's pre-checkpoint half,
 * runs the next callbacks and the checkpoint, and returns CRMPI_CONTINUE,
 * CRMPI_RESTART or CRMPI_ABORTED. -EBUSY outside a callback.
 */
int crmpi_checkpoint(int how);

/*
 * Critical sections: no checkpoint is taken between enter and exit (they
 * nest). A quiesce that waits for a section longer than the agent's
 * timeout aborts its epoch; the program is not disturbed.
 */
int crmpi_critical_enter(void);
int crmpi_critical_exit(void);

/*
 * The per-rank directory where callbacks of the application-assisted
 * ("app") engine write their state, and where a restarted job reads it;
 * NULL with another engine or without crmpi. Valid inside a callback and,
 * after a restart, from MPI_Init on.
 */
const char *crmpi_state_path(void);

/* The epoch of the checkpoint in progress or the last one taken; 0 if none. */
long crmpi_epoch(void);

/*
 * App engine: the epoch this process was restarted from (a fresh job that
 * must read its state from crmpi_state_path()), or 0 for a first start.
 * Call it after MPI_Init.
 */
long crmpi_restarted(void);

#ifdef __cplusplus
}
#endif

#endif /* CRMPI_H */
