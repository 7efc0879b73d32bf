/*
 * bookmarks: per communicator and per peer, how many point-to-point
 * messages this rank has sent and received. At a quiesce every rank
 * reports what it sent; each rank then drains until it has received, from
 * every peer, as many messages as that peer sent to it. Independent of MPI.
 */
#ifndef CRMPI_BOOKMARKS_H
#define CRMPI_BOOKMARKS_H

#include <stdint.h>

struct crmpi_bookmarks {
	int npeers;   /* ranks in MPI_COMM_WORLD */
	int ncomms;   /* communicators with counters */
	uint64_t *sent;     /* [comm * npeers + world peer] */
	uint64_t *received; /* [comm * npeers + world peer] */
	uint64_t *expected; /* [comm * npeers + world peer], set by a quiesce */
};

int bookmarks_init(struct crmpi_bookmarks *b, int npeers);
/* Makes room for communicator index comm; 0 or -ENOMEM. */
int bookmarks_ensure(struct crmpi_bookmarks *b, int comm);
void bookmarks_free(struct crmpi_bookmarks *b);
void bookmarks_count_sent(struct crmpi_bookmarks *b, int comm, int peer);
void bookmarks_count_received(struct crmpi_bookmarks *b, int comm, int peer);
/* How many more messages from peer on comm the drain must receive (0 when none). */
uint64_t bookmarks_missing(const struct crmpi_bookmarks *b, int comm, int peer);
/* Clears every expectation (a new quiesce starts). */
void bookmarks_reset_expected(struct crmpi_bookmarks *b);
/* 1 when no message is missing on any communicator from any peer. */
int bookmarks_complete(const struct crmpi_bookmarks *b);

#endif
