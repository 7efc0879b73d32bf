#include "bookmarks.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int bookmarks_init(struct crmpi_bookmarks *b, int npeers)
{
	memset(b, 0, sizeof(*b));
	if (npeers <= 0)
		return -EINVAL;
	b->npeers = npeers;
	return 0;
}

static int grow(uint64_t **a, int oldn, int newn, int npeers)
{
	uint64_t *p = realloc(*a, (size_t)newn * npeers * sizeof(**a));

	if (!p)
		return -ENOMEM;
	memset(p + (size_t)oldn * npeers, 0, (size_t)(newn - oldn) * npeers * sizeof(*p));
	*a = p;
	return 0;
}

int bookmarks_ensure(struct crmpi_bookmarks *b, int comm)
{
	int n;

	if (comm < 0)
		return -EINVAL;
	if (comm < b->ncomms)
		return 0;
	n = comm + 1 > 2 * b->ncomms ? comm + 1 : 2 * b->ncomms;
	if (grow(&b->sent, b->ncomms, n, b->npeers) || grow(&b->received, b->ncomms, n, b->npeers) ||
	    grow(&b->expected, b->ncomms, n, b->npeers))
		return -ENOMEM;
	b->ncomms = n;
	return 0;
}

void bookmarks_free(struct crmpi_bookmarks *b)
{
	free(b->sent);
	free(b->received);
	free(b->expected);
	memset(b, 0, sizeof(*b));
}

void bookmarks_count_sent(struct crmpi_bookmarks *b, int comm, int peer)
{
	if (comm < b->ncomms && peer >= 0 && peer < b->npeers)
		b->sent[(size_t)comm * b->npeers + peer]++;
}

void bookmarks_count_received(struct crmpi_bookmarks *b, int comm, int peer)
{
	if (comm < b->ncomms && peer >= 0 && peer < b->npeers)
		b->received[(size_t)comm * b->npeers + peer]++;
}

uint64_t bookmarks_missing(const struct crmpi_bookmarks *b, int comm, int peer)
{
	size_t i;

	if (comm < 0 || comm >= b->ncomms || peer < 0 || peer >= b->npeers)
		return 0;
	i = (size_t)comm * b->npeers + peer;
	return b->expected[i] > b->received[i] ? b->expected[i] - b->received[i] : 0;
}

void bookmarks_reset_expected(struct crmpi_bookmarks *b)
{
	if (b->expected)
		memset(b->expected, 0, (size_t)b->ncomms * b->npeers * sizeof(*b->expected));
}

int bookmarks_complete(const struct crmpi_bookmarks *b)
{
	int c, p;

	for (c = 0; c < b->ncomms; c++)
		for (p = 0; p < b->npeers; p++)
			if (bookmarks_missing(b, c, p))
				return 0;
	return 1;
}
