/* Checks of the crmpi SPANK plugin's option values; see crmpi_spank_opts.h. */
#include "crmpi_spank_opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SECOND_MS 1000ULL

/* Duration units, largest first: a duration names each at most once, in this order. */
static const struct {
	const char *name;
	uint64_t ms;
} units[] = {
	{ "d", 86400 * SECOND_MS }, { "h", 3600 * SECOND_MS }, { "m", 60 * SECOND_MS },
	{ "s", SECOND_MS },         { "ms", 1 },
};
#define N_UNITS ((int)(sizeof(units) / sizeof(units[0])))

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Writes the message into err (if any room) and returns rc. */
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* The unit that s[0..len) starts with (the longest match: "ms" before "m"), or -1; its length in *n. */
static int unit_at(const char *s, size_t len, size_t *n)
{
	int u, best = -1;
	size_t best_len = 0;

	for (u = 0; u < N_UNITS; u++) {
		size_t l = strlen(units[u].name);
		if (l <= len && l > best_len && !strncasecmp(s, units[u].name, l)) {
			best = u;
			best_len = l;
		}
	}
	*n = best_len;
	return best;
}

/*
 * Reads the duration in s[0..len): plain seconds ("45") or parts like
 * "1h30m". 0 and the duration in *ms, -EINVAL if it is not a duration,
 * -ERANGE if it does not fit in 64 bits of milliseconds.
 */
static int parse_duration(const char *s, size_t len, uint64_t *ms)
{
	uint64_t total = 0;
	size_t i = 0;
	int last = -1;

	if (len == 0)
		return -EINVAL;
	while (i < len) {
		uint64_t n = 0;
		size_t start = i, ulen;
		int u;

		for (; i < len && isdigit((unsigned char)s[i]); i++) {
			unsigned d = (unsigned)(s[i] - '0');
			if (n > (UINT64_MAX - d) / 10)
				return -ERANGE;
			n = n * 10 + d;
		}
		if (i == start)
			return -EINVAL;
		if (start == 0 && i == len) {
			u = 3; /* plain seconds */
			ulen = 0;
		} else if ((u = unit_at(s + i, len - i, &ulen)) < 0 || u <= last) {
			return -EINVAL;
		}
		if (n > UINT64_MAX / units[u].ms)
			return -ERANGE;
		n *= units[u].ms;
		if (total > UINT64_MAX - n)
			return -ERANGE;
		total += n;
		last = u;
		i += ulen;
	}
	*ms = total;
	return 0;
}

/*
 * Checks one duration s[0..len) named what ("interval", "auto mtbf", ...):
 * a duration of at least 1s. 0 and *ms, or an error as crmpi_check_interval.
 */
static int check_duration(const char *what, const char *s, size_t len, uint64_t *ms, char *err,
			  size_t errlen)
{
	int rc = parse_duration(s, len, ms);

	if (rc == -ERANGE)
		return fail(err, errlen, rc, "%s '%.*s' is too large; accepted: " CRMPI_INTERVAL_FORMS, what,
			    (int)len, s);
	if (rc < 0)
		return fail(err, errlen, rc,
			    "%s '%.*s' is not a duration (a whole number and a unit d, h, m, s or ms,"
			    " largest unit first, each once); accepted: " CRMPI_INTERVAL_FORMS,
			    what, (int)len, s);
	if (*ms < SECOND_MS)
		return fail(err, errlen, -EINVAL, "%s '%.*s' is shorter than 1s; accepted: " CRMPI_INTERVAL_FORMS,
			    what, (int)len, s);
	return 0;
}

/* Checks the options of "auto:OPTIONS": comma-separated mtbf=, min=, max= durations, each once. */
static int check_auto(const char *opts, char *err, size_t errlen)
{
	static const char *const keys[] = { "mtbf", "min", "max" };
	uint64_t values[3] = { 0, 0, 0 };
	int given[3] = { 0, 0, 0 };
	const char *p = opts;
	uint64_t mtbf, min, max;

	for (;;) {
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		char what[16];
		int k, rc;

		for (k = 0; k < 3; k++)
			if (strlen(keys[k]) == klen && !strncasecmp(p, keys[k], klen))
				break;
		if (!eq || k == 3)
			return fail(err, errlen, -EINVAL,
				    "auto option '%.*s' is not mtbf=, min= or max=; accepted: " CRMPI_INTERVAL_FORMS,
				    (int)len, p);
		if (given[k])
			return fail(err, errlen, -EINVAL,
				    "auto option %s is given twice; accepted: " CRMPI_INTERVAL_FORMS, keys[k]);
		snprintf(what, sizeof(what), "auto %s", keys[k]);
		rc = check_duration(what, eq + 1, len - klen - 1, &values[k], err, errlen);
		if (rc < 0)
			return rc;
		given[k] = 1;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}

	/* crmpi's defaults: mtbf 24h, min = min(1m, mtbf), max = mtbf. */
	mtbf = given[0] ? values[0] : 86400 * SECOND_MS;
	min = given[1] ? values[1] : (mtbf < 60 * SECOND_MS ? mtbf : 60 * SECOND_MS);
	max = given[2] ? values[2] : mtbf;
	if (max < min)
		return fail(err, errlen, -EINVAL, "auto max is shorter than min; accepted: " CRMPI_INTERVAL_FORMS);
	return 0;
}

int crmpi_check_interval(const char *policy, char *err, size_t errlen)
{
	uint64_t ms;
	size_t len;

	if (err && errlen > 0)
		err[0] = '\0';
	if (!policy || policy[0] == '\0')
		return fail(err, errlen, -EINVAL, "the value is empty; accepted: " CRMPI_INTERVAL_FORMS);
	len = strlen(policy);
	if (len > CRMPI_OPT_VALUE_MAX)
		return fail(err, errlen, -EINVAL, "the value is longer than %d characters; accepted: " CRMPI_INTERVAL_FORMS,
			    CRMPI_OPT_VALUE_MAX);

	if (!strcasecmp(policy, "none") || !strcasecmp(policy, "off") || !strcasecmp(policy, "auto"))
		return 0;
	if (!strncasecmp(policy, "cron:", 5)) {
		const char *expr = policy + 5;
		while (isspace((unsigned char)*expr))
			expr++;
		if (*expr == '\0')
			return fail(err, errlen, -EINVAL,
				    "cron: needs a Quartz cron expression after 'cron:', like 'cron:0 0/30 * * * ?';"
				    " accepted: " CRMPI_INTERVAL_FORMS);
		return 0;
	}
	if (!strncasecmp(policy, "auto:", 5))
		return check_auto(policy + 5, err, errlen);
	if (!isdigit((unsigned char)policy[0]))
		return fail(err, errlen, -EINVAL, "neither a duration nor a policy name; accepted: " CRMPI_INTERVAL_FORMS);
	return check_duration("interval", policy, len, &ms, err, errlen);
}

int crmpi_check_engine(const char *engine, char *err, size_t errlen)
{
	if (err && errlen > 0)
		err[0] = '\0';
	if (engine && (!strcmp(engine, "criu") || !strcmp(engine, "app")))
		return 0;
	return fail(err, errlen, -EINVAL, "%s; accepted: " CRMPI_ENGINE_FORMS,
		    engine && *engine ? "not a checkpoint engine" : "the value is empty");
}
