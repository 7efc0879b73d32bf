/*
 * allreduce_bench: times an MPI_Allreduce loop, for the interposition
 * overhead benchmark of libcrmpi.
 *
 * usage: allreduce_bench ITERATIONS COUNT
 *
 * Rank 0 prints "allreduce COUNT doubles: X.XXX us per call" (the best of
 * five rounds of ITERATIONS calls each).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int rank, iters = 0, count = 0, i, round;
	double *in, *out, best = 1e30;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	if (argc < 3 || (iters = atoi(argv[1])) <= 0 || (count = atoi(argv[2])) <= 0) {
		if (rank == 0)
			fprintf(stderr, "usage: allreduce_bench ITERATIONS COUNT\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	in = calloc((size_t)count, sizeof(*in));
	out = calloc((size_t)count, sizeof(*out));
	for (round = 0; round < 5; round++) {
		double t;

		MPI_Barrier(MPI_COMM_WORLD);
		t = MPI_Wtime();
		for (i = 0; i < iters; i++)
			MPI_Allreduce(in, out, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
		t = (MPI_Wtime() - t) / iters;
		MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
		if (t < best)
			best = t;
	}
	if (rank == 0)
		printf("allreduce %d doubles: %.3f us per call\n", count, best * 1e6);
	free(in);
	free(out);
	MPI_Finalize();
	return 0;
}
