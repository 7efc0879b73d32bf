/*
 * crmpi_spank_opts: checks the values of the crmpi SPANK plugin's options
 * (--checkpoint-interval, --checkpoint-engine) before Slurm accepts a job.
 * Independent of Slurm, so that it can be tested on its own.
 *
 * The grammar is the one `crmpi run --interval/--engine` reads, so that the
 * plugin never refuses a value crmpi would take. The policy is checked for
 * form only: a cron expression, for one, is parsed by crmpi when it starts.
 */
#ifndef CRMPI_SPANK_OPTS_H
#define CRMPI_SPANK_OPTS_H

#include <stddef.h>

/* Longest option value accepted, in bytes (without the final NUL). */
#define CRMPI_OPT_VALUE_MAX 256

/*
 * What --checkpoint-interval accepts, for error messages and --help.
 */
#define CRMPI_INTERVAL_FORMS                                                        \
	"a duration like 30s, 10m, 1h or 1h30m (units d, h, m, s, ms; at least 1s),"  \
	" cron:EXPR (Quartz cron), auto, auto:mtbf=24h[,min=1m][,max=24h], or none"
#define CRMPI_ENGINE_FORMS "criu or app"

/*
 * 0 if policy is a checkpoint policy crmpi accepts: a duration (plain
 * seconds "45", or parts "1h30m" with units d, h, m, s, ms from largest to
 * smallest, each once; at least 1s), "cron:" and a non-empty expression,
 * "auto", "auto:" and comma-separated mtbf=, min=, max= durations (each at
 * most once), "none" or "off". Names, units and prefixes are
 * case-insensitive.
 *
 * Otherwise -EINVAL (or -ERANGE for a duration too large to count), and err
 * (errlen bytes, always NUL-terminated when errlen > 0) says what is wrong
 * and what is accepted.
 */
int crmpi_check_interval(const char *policy, char *err, size_t errlen);

/* 0 if engine is "criu" or "app"; else -EINVAL and a message in err, as above. */
int crmpi_check_engine(const char *engine, char *err, size_t errlen);

#endif
