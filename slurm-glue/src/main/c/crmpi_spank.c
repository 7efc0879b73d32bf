/*
 * crmpi_spank: the crmpi SPANK plugin. It adds two options to sbatch, srun
 * and salloc, checks their values before anything is submitted, and passes
 * them to `crmpi run` as environment variables, which it reads as the
 * defaults of its --interval and --engine:
 *
 *   --checkpoint-interval=POLICY   CRMPI_CHECKPOINT_INTERVAL
 *   --checkpoint-engine=ENGINE     CRMPI_ENGINE
 *
 * Without these options it does nothing. It does no other work, keeps no
 * state beyond the two values, and is meant to be loaded as `optional` in
 * plugstack.conf, so that a failure in it never fails a job or drains a node.
 *
 * How a value travels (Slurm 22.05):
 *
 *   sbatch, salloc (allocator context): the option callback checks the value;
 *     a bad value makes the command fail before anything is submitted.
 *     init_post_opt then setenv()s the variable in the command's own
 *     environment (salloc's command inherits it; sbatch exports it to the job
 *     by default), and copies it into the job control environment, which
 *     reaches the batch script as SLURM_SPANK_<NAME> even under
 *     --export=NONE (and the prolog/epilog as SPANK_<NAME>).
 *     spank_setenv() is not available here (ESPANK_NOT_REMOTE).
 *   srun (local context): the callback checks the value; Slurm forwards the
 *     option to slurmstepd.
 *   slurmstepd (remote context): Slurm calls the callback again with the
 *     forwarded value (from srun, or from sbatch through the environment),
 *     and user_init sets the variable in the step's environment with
 *     spank_setenv(), so that the batch script or every task sees it. In a
 *     batch step without the forwarded option (sbatch --export=NONE), it is
 *     taken from SLURM_SPANK_<NAME>. Steps run by srun inside a batch script
 *     inherit the variables from the script, like any other.
 */
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <slurm/slurm.h>
#include <slurm/spank.h>

#include "crmpi_spank_opts.h"

SPANK_PLUGIN(crmpi, 1)

enum crmpi_opt { OPT_INTERVAL, OPT_ENGINE, OPT_COUNT };

/* The variable that carries each option to crmpi. */
static const char *const env_names[OPT_COUNT] = {
	[OPT_INTERVAL] = "CRMPI_CHECKPOINT_INTERVAL",
	[OPT_ENGINE] = "CRMPI_ENGINE",
};

/* The values given (checked, owned); NULL when an option was not given. */
static char *values[OPT_COUNT];

static int option_cb(int val, const char *optarg, int remote);

/* Registered by slurm_spank_init: Slurm reads no static table in allocator context. */
static struct spank_option options[] = {
	{ "checkpoint-interval", "POLICY",
	  "crmpi: when to checkpoint: a duration (30s, 10m, 1h), cron:EXPR, auto[:mtbf=24h] or none."
	  " Sets CRMPI_CHECKPOINT_INTERVAL.",
	  1, OPT_INTERVAL, option_cb },
	{ "checkpoint-engine", "ENGINE", "crmpi: checkpoint engine, criu or app. Sets CRMPI_ENGINE.", 1, OPT_ENGINE,
	  option_cb },
	SPANK_OPTIONS_TABLE_END
};

static int check_value(enum crmpi_opt opt, const char *value, char *err, size_t errlen)
{
	return opt == OPT_INTERVAL ? crmpi_check_interval(value, err, errlen)
				   : crmpi_check_engine(value, err, errlen);
}

/*
 * Called for an option given on the command line (remote == 0) and again in
 * slurmstepd for the forwarded value (remote == 1). Non-zero refuses it.
 */
static int option_cb(int val, const char *optarg, int remote)
{
	char err[1024];
	char *copy;

	(void)remote;
	if (val < 0 || val >= OPT_COUNT) {
		slurm_error("crmpi: unknown option value %d", val);
		return -1;
	}
	if (check_value(val, optarg, err, sizeof(err)) < 0) {
		slurm_error("crmpi: bad --%s '%s': %s", options[val].name, optarg ? optarg : "", err);
		return -1;
	}
	if (!(copy = strdup(optarg))) {
		slurm_error("crmpi: --%s: %s", options[val].name, strerror(ENOMEM));
		return -1;
	}
	free(values[val]);
	values[val] = copy;
	return 0;
}

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	struct spank_option *o;
	spank_err_t rc;

	(void)ac;
	(void)av;
	switch (spank_context()) {
	case S_CTX_LOCAL:
	case S_CTX_ALLOCATOR:
	case S_CTX_REMOTE:
		break;
	default:
		return 0; /* slurmd, prolog/epilog: nothing to do */
	}
	for (o = options; o->name; o++) {
		if ((rc = spank_option_register(sp, o)) != ESPANK_SUCCESS) {
			slurm_error("crmpi: cannot register --%s: %s", o->name, spank_strerror(rc));
			return -1;
		}
	}
	return 0;
}

/* sbatch, salloc: the variables into our own environment and the job control environment. */
int slurm_spank_init_post_opt(spank_t sp, int ac, char **av)
{
	spank_err_t rc;
	int i;

	(void)ac;
	(void)av;
	if (spank_context() != S_CTX_ALLOCATOR)
		return 0;
	for (i = 0; i < OPT_COUNT; i++) {
		if (!values[i])
			continue;
		if (setenv(env_names[i], values[i], 1) < 0) {
			slurm_error("crmpi: setenv %s: %s", env_names[i], strerror(errno));
			return -1;
		}
		if ((rc = spank_job_control_setenv(sp, env_names[i], values[i], 1)) != ESPANK_SUCCESS) {
			slurm_error("crmpi: spank_job_control_setenv %s: %s", env_names[i], spank_strerror(rc));
			return -1;
		}
	}
	return 0;
}

/*
 * The value for option i in a batch step whose option was not forwarded: the
 * job control copy, when the step does not have the variable already. NULL
 * if none; a bad copy is logged and ignored.
 */
static const char *batch_fallback(spank_t sp, int i, char *buf, int len)
{
	char name[64], have[8], err[1024];
	spank_err_t rc;

	snprintf(name, sizeof(name), "SLURM_SPANK_%s", env_names[i]);
	if (spank_getenv(sp, name, buf, len) != ESPANK_SUCCESS)
		return NULL;
	rc = spank_getenv(sp, env_names[i], have, sizeof(have));
	if (rc == ESPANK_SUCCESS || rc == ESPANK_NOSPACE)
		return NULL;
	if (check_value(i, buf, err, sizeof(err)) < 0) {
		slurm_error("crmpi: ignoring %s='%s': %s", name, buf, err);
		return NULL;
	}
	return buf;
}

/* slurmstepd: the variables into the step's environment, before the batch script or the tasks start. */
int slurm_spank_user_init(spank_t sp, int ac, char **av)
{
	char buf[CRMPI_OPT_VALUE_MAX + 2];
	uint32_t step = 0;
	spank_err_t rc;
	int i, batch;

	(void)ac;
	(void)av;
	if (spank_context() != S_CTX_REMOTE)
		return 0;
	batch = spank_get_item(sp, S_JOB_STEPID, &step) == ESPANK_SUCCESS && step == SLURM_BATCH_SCRIPT;
	for (i = 0; i < OPT_COUNT; i++) {
		const char *value = values[i];
		int overwrite = 1;

		if (!value && batch) {
			value = batch_fallback(sp, i, buf, sizeof(buf));
			overwrite = 0;
		}
		if (!value)
			continue;
		if ((rc = spank_setenv(sp, env_names[i], value, overwrite)) != ESPANK_SUCCESS &&
		    rc != ESPANK_ENV_EXISTS) {
			slurm_error("crmpi: spank_setenv %s: %s", env_names[i], spank_strerror(rc));
			return -1;
		}
	}
	return 0;
}

int slurm_spank_exit(spank_t sp, int ac, char **av)
{
	int i;

	(void)sp;
	(void)ac;
	(void)av;
	for (i = 0; i < OPT_COUNT; i++) {
		free(values[i]);
		values[i] = NULL;
	}
	return 0;
}
