/*
 * appring: a ring program that saves and restores its own state through
 * libcrmpi's callbacks, for the application-assisted ("app") engine.
 *
 * usage: appring ITERATIONS [OUTPUT]   (default output: appring.out)
 *
 * Each iteration (a crmpi critical section, so a checkpoint only falls
 * between iterations) passes a vector around the ring and agrees on a
 * checksum with MPI_Allreduce. The checkpoint callback writes the
 * iteration number, the vector and the checksum to crmpi_state_path();
 * a job restarted by the app engine reads them back after MPI_Init and
 * goes on from there. Rank 0 appends a line to OUTPUT every 50 iterations.
 */
#include <crmpi.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define LEN 128

struct state {
	int it;
	uint64_t sum;
	uint64_t buf[LEN];
};

static struct state S;
static FILE *out;
static int rank;

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

static int save_state(void *arg)
{
	char path[4200];
	const char *dir = crmpi_state_path();
	FILE *f;

	(void)arg;
	if (out)
		fflush(out);
	if (!dir)
		return crmpi_checkpoint(CRMPI_OK);
	snprintf(path, sizeof(path), "%s/appring.state", dir);
	f = fopen(path, "w");
	if (!f || fwrite(&S, sizeof(S), 1, f) != 1 || fflush(f) || fsync(fileno(f))) {
		if (f)
			fclose(f);
		return crmpi_checkpoint(CRMPI_DECLINE);
	}
	fclose(f);
	crmpi_checkpoint(CRMPI_OK);
	return 0;
}

static int load_state(void)
{
	char path[4200];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/appring.state", crmpi_state_path());
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fread(&S, sizeof(S), 1, f) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	int size, iters = 0, i;
	const char *out_path;
	struct timespec pause = { 0, 2 * 1000 * 1000 };
	int paced = getenv("CRMPI_TEST_NO_PAUSE") == NULL;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc < 2 || (iters = atoi(argv[1])) <= 0) {
		if (rank == 0)
			fprintf(stderr, "usage: appring ITERATIONS [OUTPUT]\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	out_path = argc > 2 ? argv[2] : "appring.out";
	crmpi_register_callback(save_state, NULL);
	if (crmpi_restarted() > 0) {
		if (load_state() < 0) {
			fprintf(stderr, "appring: rank %d cannot read its state from %s\n", rank, crmpi_state_path());
			MPI_Abort(MPI_COMM_WORLD, 3);
		}
		if (rank == 0)
			printf("appring: restarted from epoch %ld at iteration %d\n", crmpi_restarted(), S.it);
	} else {
		S.it = 0;
		S.sum = 1;
		for (i = 0; i < LEN; i++)
			S.buf[i] = (uint64_t)i * 17 + 3;
	}
	if (rank == 0) {
		out = fopen(out_path, crmpi_restarted() > 0 ? "a" : "w");
		if (!out) {
			perror(out_path);
			MPI_Abort(MPI_COMM_WORLD, 2);
		}
	}
	while (S.it < iters) {
		int next = (rank + 1) % size, prev = (rank + size - 1) % size;
		uint64_t total, in[LEN];

		crmpi_critical_enter();
		MPI_Sendrecv(S.buf, LEN, MPI_UINT64_T, next, S.it, in, LEN, MPI_UINT64_T, prev, S.it, MPI_COMM_WORLD,
			     MPI_STATUS_IGNORE);
		for (i = 0; i < LEN; i++)
			S.buf[i] = mix(in[i], (uint64_t)rank * 7919 + (uint64_t)S.it);
		S.sum = mix(S.sum, S.buf[S.it % LEN]);
		MPI_Allreduce(&S.sum, &total, 1, MPI_UINT64_T, MPI_BXOR, MPI_COMM_WORLD);
		S.sum = mix(S.sum, total);
		S.it++;
		if (rank == 0 && S.it % 50 == 0) {
			fprintf(out, "iteration %d checksum %016llx\n", S.it, (unsigned long long)total);
			printf("appring: %d/%d iterations\n", S.it, iters);
			fflush(stdout);
		}
		crmpi_critical_exit();
		if (paced) /* CRMPI_TEST_NO_PAUSE: the tests' reference runs; the output does not depend on it */
			nanosleep(&pause, NULL);
	}
	if (rank == 0) {
		fprintf(out, "final checksum %016llx after %d iterations on %d ranks\n", (unsigned long long)S.sum,
			iters, size);
		fclose(out);
	}
	MPI_Finalize();
	return 0;
}
