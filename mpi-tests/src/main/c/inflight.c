/*
 * inflight: keeps many point-to-point messages in flight all the time, to
 * test that a quiesce drains every one of them exactly once and in order.
 *
 * usage: inflight ITERATIONS [OUTPUT]   (default output: inflight.out)
 *
 * Each iteration every rank
 *   - posts an MPI_Irecv for a rendezvous-size message (256 KiB) from its
 *     left neighbour and MPI_Isends one to its right neighbour;
 *   - sends a burst of eager messages (tags 0..BURST-1) to its right
 *     neighbour with MPI_Isend and receives the burst from its left one
 *     with MPI_Recv(MPI_ANY_TAG), checking that the tags arrive in order;
 *   - sends one message to rank 0, which receives them with
 *     MPI_ANY_SOURCE (the last rank sends late, so rank 0 blocks in Recv);
 *   - on a duplicated communicator, exchanges a message with MPI_Sendrecv;
 *   - completes the big transfers with MPI_Waitall, checks their content,
 *     and agrees on a checksum with MPI_Allreduce (MPI_Barrier every 10).
 * Every payload carries its sender, iteration and sequence number and is
 * checked on arrival: a lost, duplicated or reordered message aborts the
 * program. Rank 0 writes the checksum every 25 iterations to OUTPUT.
 *
 * With CRMPI_TEST_CRITICAL=N, rank 1 spends N seconds computing inside a
 * crmpi critical section at iteration 20 (when it runs under crmpi).
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef WITH_CRMPI
#include <crmpi.h>
#endif

#define BURST 16
#define SMALL 64
#define BIG (256 * 1024 / 8)

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h;
}

static void fill(uint64_t *p, int n, int src, int it, int seq)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = mix(((uint64_t)src << 40) ^ ((uint64_t)it << 16) ^ (uint64_t)seq, (uint64_t)i);
}

static void check(const uint64_t *p, int n, int src, int it, int seq, const char *what)
{
	int i;

	for (i = 0; i < n; i++) {
		if (p[i] != mix(((uint64_t)src << 40) ^ ((uint64_t)it << 16) ^ (uint64_t)seq, (uint64_t)i)) {
			fprintf(stderr, "inflight: %s from %d iteration %d seq %d is wrong at word %d\n", what, src, it,
				seq, i);
			MPI_Abort(MPI_COMM_WORLD, 3);
		}
	}
}

/* Paces the rounds; CRMPI_TEST_NO_PAUSE (the tests' reference runs) skips it: the output does not depend on it. */
static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	if (getenv("CRMPI_TEST_NO_PAUSE") == NULL)
		nanosleep(&ts, NULL);
}

static void compute_critically(int seconds)
{
	volatile uint64_t x = 1;
	time_t end = time(NULL) + seconds;

#ifdef WITH_CRMPI
	crmpi_critical_enter();
#endif
	while (time(NULL) < end)
		x = mix(x, 7);
#ifdef WITH_CRMPI
	crmpi_critical_exit();
#endif
}

int main(int argc, char **argv)
{
	int rank, size, it, iters = 0, i, critical;
	uint64_t *bigout, *bigin, small[SMALL], sum = 0, total;
	MPI_Comm dup;
	FILE *out = NULL;
	const char *env;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc < 2 || (iters = atoi(argv[1])) <= 0 || size < 2) {
		if (rank == 0)
			fprintf(stderr, "usage: inflight ITERATIONS [OUTPUT] (at least 2 ranks)\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	env = getenv("CRMPI_TEST_CRITICAL");
	critical = env ? atoi(env) : 0;
	MPI_Comm_dup(MPI_COMM_WORLD, &dup);
	bigout = malloc(BIG * sizeof(*bigout));
	bigin = malloc(BIG * sizeof(*bigin));
	if (rank == 0) {
		out = fopen(argc > 2 ? argv[2] : "inflight.out", "w");
		if (!out) {
			perror("inflight.out");
			MPI_Abort(MPI_COMM_WORLD, 2);
		}
	}
	for (it = 0; it < iters; it++) {
		int right = (rank + 1) % size, left = (rank + size - 1) % size;
		MPI_Request big[2], burst[BURST], toroot;
		uint64_t bursts[BURST][SMALL];

		MPI_Irecv(bigin, BIG, MPI_UINT64_T, left, 1000, MPI_COMM_WORLD, &big[0]);
		fill(bigout, BIG, rank, it, 1000);
		MPI_Isend(bigout, BIG, MPI_UINT64_T, right, 1000, MPI_COMM_WORLD, &big[1]);

		for (i = 0; i < BURST; i++) {
			fill(bursts[i], SMALL, rank, it, i);
			MPI_Isend(bursts[i], SMALL, MPI_UINT64_T, right, i, MPI_COMM_WORLD, &burst[i]);
		}
		for (i = 0; i < BURST; i++) {
			MPI_Status st;

			MPI_Recv(small, SMALL, MPI_UINT64_T, left, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
			if (st.MPI_TAG != i) {
				fprintf(stderr, "inflight: burst message %d from %d arrived as %d\n", i, left, st.MPI_TAG);
				MPI_Abort(MPI_COMM_WORLD, 3);
			}
			check(small, SMALL, left, it, i, "burst message");
			sum = mix(sum, small[it % SMALL]);
		}

		if (rank == size - 1)
			pause_ms(3);
		fill(small, SMALL, rank, it, 2000);
		MPI_Isend(small, SMALL, MPI_UINT64_T, 0, 2000, MPI_COMM_WORLD, &toroot);
		if (rank == 0) {
			uint64_t got[SMALL], x = 0;
			int seen = 0;

			for (i = 0; i < size; i++) {
				MPI_Status st;

				MPI_Recv(got, SMALL, MPI_UINT64_T, MPI_ANY_SOURCE, 2000, MPI_COMM_WORLD, &st);
				check(got, SMALL, st.MPI_SOURCE, it, 2000, "message to rank 0");
				if (seen & (1 << st.MPI_SOURCE)) {
					fprintf(stderr, "inflight: duplicate message from %d\n", st.MPI_SOURCE);
					MPI_Abort(MPI_COMM_WORLD, 3);
				}
				seen |= 1 << st.MPI_SOURCE;
				x ^= got[it % SMALL];
			}
			sum = mix(sum, x);
		}
		MPI_Wait(&toroot, MPI_STATUS_IGNORE);

		{
			uint64_t a[SMALL], b[SMALL];

			fill(a, SMALL, rank, it, 3000);
			MPI_Sendrecv(a, SMALL, MPI_UINT64_T, right, 3000, b, SMALL, MPI_UINT64_T, left, 3000, dup,
				     MPI_STATUS_IGNORE);
			check(b, SMALL, left, it, 3000, "sendrecv message");
			sum = mix(sum, b[0]);
		}

		MPI_Waitall(BURST, burst, MPI_STATUSES_IGNORE);
		MPI_Waitall(2, big, MPI_STATUSES_IGNORE);
		check(bigin, BIG, left, it, 1000, "big message");
		sum = mix(sum, bigin[it % BIG]);

		if (critical && rank == 1 && it == 20)
			compute_critically(critical);
		MPI_Allreduce(&sum, &total, 1, MPI_UINT64_T, MPI_BXOR, MPI_COMM_WORLD);
		sum = mix(sum, total);
		if (it % 10 == 9)
			MPI_Barrier(MPI_COMM_WORLD);
		if (rank == 0 && (it + 1) % 25 == 0) {
			fprintf(out, "iteration %d checksum %016llx\n", it + 1, (unsigned long long)total);
			fflush(out);
			printf("inflight: %d/%d iterations\n", it + 1, iters);
			fflush(stdout);
		}
		pause_ms(2);
	}
	if (rank == 0) {
		fprintf(out, "final checksum %016llx after %d iterations on %d ranks\n", (unsigned long long)total,
			iters, size);
		fclose(out);
		printf("inflight: done\n");
	}
	MPI_Comm_free(&dup);
	free(bigout);
	free(bigin);
	MPI_Finalize();
	return 0;
}
