/* Unit tests of the crmpi SPANK plugin's option checks: what crmpi accepts passes, the rest is explained. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../main/c/crmpi_spank_opts.h"

static int passed, failed;

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (cond) {                                                              \
			passed++;                                                        \
		} else {                                                                 \
			failed++;                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                        \
	} while (0)

static char err[1024];

static int interval_ok(const char *policy)
{
	int rc = crmpi_check_interval(policy, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "unexpectedly refused '%s': %s\n", policy, err);
	return rc == 0 && err[0] == '\0';
}

/* Refused with rc, and the message contains want. */
static int interval_refused(const char *policy, int rc, const char *want)
{
	int got = crmpi_check_interval(policy, err, sizeof(err));
	if (got != rc || !strstr(err, want)) {
		fprintf(stderr, "'%s': rc %d (want %d), message '%s' (want '%s')\n", policy ? policy : "(null)", got,
			rc, err, want);
		return 0;
	}
	return 1;
}

static void durations_crmpi_reads_are_accepted(void)
{
	CHECK(interval_ok("30s"));
	CHECK(interval_ok("10m"));
	CHECK(interval_ok("1h"));
	CHECK(interval_ok("7d"));
	CHECK(interval_ok("1h30m"));
	CHECK(interval_ok("1d2h3m4s5ms"));
	CHECK(interval_ok("45"));
	CHECK(interval_ok("1s500ms"));
	CHECK(interval_ok("10M"));
	CHECK(interval_ok("1000ms"));
}

static void policy_names_are_accepted(void)
{
	CHECK(interval_ok("none"));
	CHECK(interval_ok("off"));
	CHECK(interval_ok("NONE"));
	CHECK(interval_ok("auto"));
	CHECK(interval_ok("auto:mtbf=24h"));
	CHECK(interval_ok("auto:mtbf=6h,min=30s,max=6h"));
	CHECK(interval_ok("auto:min=10s"));
	CHECK(interval_ok("cron:0 0/30 * * * ?"));
	CHECK(interval_ok("CRON:0 0 * * * ?"));
}

static void bad_policies_say_what_is_wrong_and_what_is_accepted(void)
{
	CHECK(interval_refused("soon", -EINVAL, "neither a duration nor a policy name; accepted: a duration like 30s"));
	CHECK(interval_refused("", -EINVAL, "the value is empty"));
	CHECK(interval_refused(NULL, -EINVAL, "the value is empty"));
	CHECK(interval_refused("-10s", -EINVAL, "neither a duration"));
	CHECK(interval_refused("10x", -EINVAL, "interval '10x' is not a duration"));
	CHECK(interval_refused("10s5m", -EINVAL, "largest unit first"));
	CHECK(interval_refused("5m5m", -EINVAL, "is not a duration"));
	CHECK(interval_refused("5m ", -EINVAL, "is not a duration"));
	CHECK(interval_refused("10s ", -EINVAL, "is not a duration"));
	CHECK(interval_refused("h", -EINVAL, "neither a duration"));
	CHECK(interval_refused("0s", -EINVAL, "interval '0s' is shorter than 1s"));
	CHECK(interval_refused("500ms", -EINVAL, "shorter than 1s"));
	CHECK(interval_refused("99999999999999999999s", -ERANGE, "too large"));
	CHECK(interval_refused("213503982335d", -ERANGE, "too large"));
	CHECK(interval_refused("cron:", -EINVAL, "cron: needs a Quartz cron expression"));
	CHECK(interval_refused("cron:   ", -EINVAL, "cron: needs"));
	CHECK(interval_refused("auto:", -EINVAL, "auto option '' is not mtbf=, min= or max="));
	CHECK(interval_refused("auto:mtbf", -EINVAL, "auto option 'mtbf' is not"));
	CHECK(interval_refused("auto:often=1h", -EINVAL, "auto option 'often=1h' is not"));
	CHECK(interval_refused("auto:mtbf=1h,mtbf=2h", -EINVAL, "auto option mtbf is given twice"));
	CHECK(interval_refused("auto:mtbf=soon", -EINVAL, "auto mtbf 'soon' is not a duration"));
	CHECK(interval_refused("auto:mtbf=", -EINVAL, "auto mtbf '' is not a duration"));
	CHECK(interval_refused("auto:mtbf=0s", -EINVAL, "auto mtbf '0s' is shorter than 1s"));
	CHECK(interval_refused("auto:mtbf=1h,", -EINVAL, "auto option '' is not"));
	CHECK(interval_refused("auto:min=2h,max=1h", -EINVAL, "auto max is shorter than min"));
	CHECK(interval_refused("auto:mtbf=30m,min=2h", -EINVAL, "auto max is shorter than min")); /* max = mtbf */
	CHECK(interval_ok("auto:min=2h")); /* max = mtbf = 24h */
	CHECK(interval_refused("autox", -EINVAL, "neither a duration"));
	CHECK(interval_refused("nonesuch", -EINVAL, "neither a duration"));
}

static void long_values_are_refused(void)
{
	char big[CRMPI_OPT_VALUE_MAX + 2];

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(interval_refused(big, -EINVAL, "longer than 256 characters"));
	memcpy(big, "cron:", 5);
	big[CRMPI_OPT_VALUE_MAX] = '\0';
	CHECK(interval_ok(big));
}

static void messages_fit_small_buffers(void)
{
	char small[8];

	CHECK(crmpi_check_interval("soon", small, sizeof(small)) == -EINVAL);
	CHECK(strlen(small) == sizeof(small) - 1);
	CHECK(crmpi_check_interval("soon", NULL, 0) == -EINVAL);
	CHECK(crmpi_check_engine("x", small, 0) == -EINVAL);
}

static void engines_are_criu_or_app(void)
{
	CHECK(crmpi_check_engine("criu", err, sizeof(err)) == 0 && err[0] == '\0');
	CHECK(crmpi_check_engine("app", err, sizeof(err)) == 0);
	CHECK(crmpi_check_engine("dmtcp", err, sizeof(err)) == -EINVAL &&
	      !strcmp(err, "not a checkpoint engine; accepted: criu or app"));
	CHECK(crmpi_check_engine("CRIU", err, sizeof(err)) == -EINVAL);
	CHECK(crmpi_check_engine("", err, sizeof(err)) == -EINVAL && strstr(err, "the value is empty"));
	CHECK(crmpi_check_engine(NULL, err, sizeof(err)) == -EINVAL);
}

int main(void)
{
	durations_crmpi_reads_are_accepted();
	policy_names_are_accepted();
	bad_policies_say_what_is_wrong_and_what_is_accepted();
	long_values_are_refused();
	messages_fit_small_buffers();
	engines_are_criu_or_app();
	printf("test_spank_opts: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
