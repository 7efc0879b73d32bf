/* Unit tests of libcrmpi's bookmark arithmetic. */
#include "../../main/c/libcrmpi/bookmarks.h"
#include "check.h"

static void missing_is_expected_minus_received(void)
{
	struct crmpi_bookmarks b;

	CHECK(bookmarks_init(&b, 4) == 0);
	CHECK(bookmarks_ensure(&b, 0) == 0);
	CHECK(bookmarks_complete(&b));
	bookmarks_count_received(&b, 0, 2);
	b.expected[2] = 3;
	CHECK(bookmarks_missing(&b, 0, 2) == 2);
	CHECK(!bookmarks_complete(&b));
	bookmarks_count_received(&b, 0, 2);
	bookmarks_count_received(&b, 0, 2);
	CHECK(bookmarks_missing(&b, 0, 2) == 0);
	CHECK(bookmarks_complete(&b));
	/* Received more than a stale expectation says: nothing is missing, never negative. */
	bookmarks_count_received(&b, 0, 2);
	CHECK(bookmarks_missing(&b, 0, 2) == 0);
	bookmarks_free(&b);
}

static void communicators_grow_and_keep_their_counts(void)
{
	struct crmpi_bookmarks b;
	int i;

	CHECK(bookmarks_init(&b, 3) == 0);
	CHECK(bookmarks_ensure(&b, 0) == 0);
	bookmarks_count_sent(&b, 0, 1);
	CHECK(bookmarks_ensure(&b, 9) == 0);
	CHECK(b.ncomms >= 10);
	CHECK(b.sent[1] == 1);
	for (i = 0; i < 5; i++)
		bookmarks_count_sent(&b, 9, 2);
	CHECK(b.sent[9 * 3 + 2] == 5);
	CHECK(bookmarks_missing(&b, 9, 2) == 0);
	bookmarks_count_sent(&b, 42, 0); /* unknown communicator: ignored */
	bookmarks_count_sent(&b, 0, 3);  /* peer out of range: ignored */
	CHECK(bookmarks_ensure(&b, -1) < 0);
	bookmarks_free(&b);
}

static void a_new_quiesce_forgets_old_expectations(void)
{
	struct crmpi_bookmarks b;

	CHECK(bookmarks_init(&b, 2) == 0);
	CHECK(bookmarks_ensure(&b, 1) == 0);
	b.expected[1 * 2 + 1] = 7;
	CHECK(!bookmarks_complete(&b));
	bookmarks_reset_expected(&b);
	CHECK(bookmarks_complete(&b));
	bookmarks_free(&b);
	CHECK(bookmarks_init(&b, 0) < 0);
}

int main(void)
{
	missing_is_expected_minus_received();
	communicators_grow_and_keep_their_counts();
	a_new_quiesce_forgets_old_expectations();
	CHECK_SUMMARY("test_bookmarks");
}
