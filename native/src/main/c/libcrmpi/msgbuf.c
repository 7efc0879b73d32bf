#include "msgbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void msgbuf_init(struct crmpi_msgbuf *b)
{
	memset(b, 0, sizeof(*b));
}

int msgbuf_push(struct crmpi_msgbuf *b, int comm, int src, int tag, const void *data, size_t len)
{
	struct crmpi_msg *m = malloc(sizeof(*m) + len);

	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->comm = comm;
	m->src = src;
	m->tag = tag;
	m->len = len;
	if (len)
		memcpy(m->data, data, len);
	if (b->tail)
		b->tail->next = m;
	else
		b->head = m;
	b->tail = m;
	b->count++;
	b->bytes += len;
	return 0;
}

struct crmpi_msg *msgbuf_match(struct crmpi_msgbuf *b, int comm, int src, int any_src, int tag, int any_tag)
{
	struct crmpi_msg *m;

	for (m = b->head; m; m = m->next) {
		if (m->comm != comm)
			continue;
		if (!any_src && m->src != src)
			continue;
		if (!any_tag && m->tag != tag)
			continue;
		return m;
	}
	return NULL;
}

void msgbuf_remove(struct crmpi_msgbuf *b, struct crmpi_msg *m)
{
	struct crmpi_msg **p;

	for (p = &b->head; *p; p = &(*p)->next) {
		if (*p != m)
			continue;
		*p = m->next;
		if (b->tail == m) {
			struct crmpi_msg *t = b->head;

			while (t && t->next)
				t = t->next;
			b->tail = t;
		}
		b->count--;
		b->bytes -= m->len;
		free(m);
		return;
	}
}

void msgbuf_clear(struct crmpi_msgbuf *b)
{
	while (b->head)
		msgbuf_remove(b, b->head);
}
