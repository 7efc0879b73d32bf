/* Unit tests of libcrmpi's drained-message buffer and its MPI matching rules. */
#include <string.h>

#include "../../main/c/libcrmpi/msgbuf.h"
#include "check.h"

static void push(struct crmpi_msgbuf *b, int comm, int src, int tag, const char *text)
{
	CHECK(msgbuf_push(b, comm, src, tag, text, strlen(text) + 1) == 0);
}

static void matching_follows_mpi_rules(void)
{
	struct crmpi_msgbuf b;
	struct crmpi_msg *m;

	msgbuf_init(&b);
	push(&b, 0, 1, 7, "a");
	push(&b, 0, 2, 7, "b");
	push(&b, 0, 1, 8, "c");
	push(&b, 1, 1, 7, "d");
	CHECK(b.count == 4);

	m = msgbuf_match(&b, 0, 1, 0, 8, 0); /* exact source and tag */
	CHECK(m && !strcmp((char *)m->data, "c"));
	m = msgbuf_match(&b, 0, 2, 0, 0, 1); /* ANY_TAG from 2 */
	CHECK(m && !strcmp((char *)m->data, "b"));
	m = msgbuf_match(&b, 0, 0, 1, 7, 0); /* ANY_SOURCE, tag 7: the oldest */
	CHECK(m && !strcmp((char *)m->data, "a"));
	m = msgbuf_match(&b, 1, 0, 1, 0, 1); /* other communicator */
	CHECK(m && !strcmp((char *)m->data, "d"));
	CHECK(msgbuf_match(&b, 2, 0, 1, 0, 1) == NULL);
	CHECK(msgbuf_match(&b, 0, 3, 0, 0, 1) == NULL);
	msgbuf_clear(&b);
	CHECK(b.count == 0 && b.bytes == 0 && b.head == NULL && b.tail == NULL);
}

static void messages_of_one_sender_never_overtake(void)
{
	struct crmpi_msgbuf b;
	char text[8];
	int i;

	msgbuf_init(&b);
	for (i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "m%d", i);
		push(&b, 0, 3, 100, text);
	}
	for (i = 0; i < 5; i++) {
		struct crmpi_msg *m = msgbuf_match(&b, 0, 3, 0, 100, 0);

		snprintf(text, sizeof(text), "m%d", i);
		CHECK(m && !strcmp((char *)m->data, text));
		if (m)
			msgbuf_remove(&b, m);
	}
	CHECK(b.count == 0);
}

static void removal_keeps_the_list_whole(void)
{
	struct crmpi_msgbuf b;
	struct crmpi_msg *m;

	msgbuf_init(&b);
	push(&b, 0, 0, 1, "x");
	push(&b, 0, 0, 2, "y");
	push(&b, 0, 0, 3, "z");
	m = msgbuf_match(&b, 0, 0, 0, 3, 0); /* the tail */
	msgbuf_remove(&b, m);
	push(&b, 0, 0, 4, "w");
	m = msgbuf_match(&b, 0, 0, 0, 2, 0); /* the middle */
	msgbuf_remove(&b, m);
	CHECK(b.count == 2);
	CHECK(!strcmp((char *)b.head->data, "x") && !strcmp((char *)b.tail->data, "w"));
	CHECK(b.bytes == 4);
	CHECK(msgbuf_push(&b, 0, 0, 5, NULL, 0) == 0); /* empty messages are messages too */
	m = msgbuf_match(&b, 0, 0, 0, 5, 0);
	CHECK(m && m->len == 0);
	msgbuf_clear(&b);
}

int main(void)
{
	matching_follows_mpi_rules();
	messages_of_one_sender_never_overtake();
	removal_keeps_the_list_whole();
	CHECK_SUMMARY("test_msgbuf");
}
