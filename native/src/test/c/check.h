/* A minimal test harness: CHECK records a failure with its line; main prints "N passed, N failed". */
#ifndef CRMPI_CHECK_H
#define CRMPI_CHECK_H

#include <stdio.h>

static int checks_passed, checks_failed;

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (cond) {                                                              \
			checks_passed++;                                                 \
		} else {                                                                 \
			checks_failed++;                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                        \
	} while (0)

#define CHECK_SUMMARY(name)                                                               \
	do {                                                                              \
		printf("%s: %d passed, %d failed\n", name, checks_passed, checks_failed); \
		return checks_failed ? 1 : 0;                                             \
	} while (0)

#endif
