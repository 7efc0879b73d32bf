/*
 * msgbuf: messages drained out of MPI during a quiesce, kept in arrival
 * order until the application receives them. Independent of MPI so that it
 * can be tested on its own: communicators and ranks are plain ints, the
 * payload is the message's packed bytes.
 */
#ifndef CRMPI_MSGBUF_H
#define CRMPI_MSGBUF_H

#include <stddef.h>

struct crmpi_msg {
	struct crmpi_msg *next;
	int comm; /* library communicator index */
	int src;  /* rank of the sender in that communicator */
	int tag;
	size_t len;
	unsigned char data[];
};

struct crmpi_msgbuf {
	struct crmpi_msg *head;
	struct crmpi_msg *tail;
	size_t count;
	size_t bytes;
};

void msgbuf_init(struct crmpi_msgbuf *b);
/* Appends a copy of data; 0 or -ENOMEM. */
int msgbuf_push(struct crmpi_msgbuf *b, int comm, int src, int tag, const void *data, size_t len);
/*
 * The oldest message matching (comm, src, tag) in MPI's sense: src or tag
 * may be wildcards (any_src, any_tag). NULL when none matches. Messages of
 * one sender are found in the order they were sent (non-overtaking).
 */
struct crmpi_msg *msgbuf_match(struct crmpi_msgbuf *b, int comm, int src, int any_src, int tag, int any_tag);
/* Unlinks and frees m, which must be in b. */
void msgbuf_remove(struct crmpi_msgbuf *b, struct crmpi_msg *m);
void msgbuf_clear(struct crmpi_msgbuf *b);

#endif
