/*
 * ring: a deterministic MPI test program for checkpoint/restart.
 *
 * usage: ring ITERATIONS [OUTPUT]
 *
 * Each iteration passes a vector around the ring of ranks, every rank mixing
 * its contribution in, then all ranks agree on a checksum with
 * MPI_Allreduce. Rank 0 appends a progress line to OUTPUT (default
 * ring.out in the working directory) every 100 iterations and the final
 * checksum at the end, so the file's content depends on every message ever
 * exchanged: a lost, duplicated or reordered message, or a rolled-back file
 * that was not rolled back, changes it. With RING_APPEND set, OUTPUT is
 * opened for appending (O_APPEND), as a log would be. Each iteration ends
 * with a 2 ms pause, so that a test's job lasts long enough to be
 * checkpointed; CRMPI_TEST_NO_PAUSE skips it (the output is the same).
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define LEN 256

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

/* Paces the iterations; CRMPI_TEST_NO_PAUSE (the tests' reference runs) skips it: the output does not depend on it. */
static void pause_a_little(void)
{
	static int paced = -1;
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	if (paced < 0)
		paced = getenv("CRMPI_TEST_NO_PAUSE") == NULL;
	if (paced)
		nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	int rank, size, it, iters = 0, i;
	uint64_t buf[LEN], state = 1, sum;
	const char *out_path;
	FILE *out = NULL;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc < 2 || (iters = atoi(argv[1])) <= 0) {
		if (rank == 0)
			fprintf(stderr, "usage: ring ITERATIONS [OUTPUT]\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	out_path = argc > 2 ? argv[2] : "ring.out";
	if (rank == 0) {
		/* RING_APPEND=1 opens OUTPUT with O_APPEND (a log that only grows). */
		out = fopen(out_path, getenv("RING_APPEND") ? "a" : "w");
		if (!out) {
			perror(out_path);
			MPI_Abort(MPI_COMM_WORLD, 2);
		}
	}
	for (i = 0; i < LEN; i++)
		buf[i] = (uint64_t)i * 31 + 7;
	for (it = 0; it < iters; it++) {
		int next = (rank + 1) % size, prev = (rank + size - 1) % size;

		if (rank == 0) {
			MPI_Send(buf, LEN, MPI_UINT64_T, next, it, MPI_COMM_WORLD);
			MPI_Recv(buf, LEN, MPI_UINT64_T, prev, it, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		} else {
			MPI_Recv(buf, LEN, MPI_UINT64_T, prev, it, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		}
		for (i = 0; i < LEN; i++)
			buf[i] = mix(buf[i], (uint64_t)rank * 1000003 + it);
		if (rank != 0)
			MPI_Send(buf, LEN, MPI_UINT64_T, next, it, MPI_COMM_WORLD);
		state = mix(state, buf[it % LEN]);
		MPI_Allreduce(&state, &sum, 1, MPI_UINT64_T, MPI_BXOR, MPI_COMM_WORLD);
		state = mix(state, sum);
		if (rank == 0 && (it + 1) % 100 == 0) {
			fprintf(out, "iteration %d checksum %016llx\n", it + 1, (unsigned long long)sum);
			fflush(out);
			printf("ring: %d/%d iterations\n", it + 1, iters);
			fflush(stdout);
		}
		pause_a_little();
	}
	if (rank == 0) {
		fprintf(out, "final checksum %016llx after %d iterations on %d ranks\n",
			(unsigned long long)sum, iters, size);
		fclose(out);
		printf("ring: done\n");
	}
	MPI_Finalize();
	return 0;
}
