/*
 * pingpong: point-to-point latency at many message sizes, for the
 * interposition overhead benchmark of libcrmpi. Two ranks bounce a message
 * (MPI_Send / MPI_Recv) ROUNDTRIPS times per sample, SAMPLES times per size;
 * one sample's one-way latency is its time over 2 * ROUNDTRIPS, so the
 * timer's resolution is spread over many messages.
 *
 * usage: pingpong ROUNDTRIPS SAMPLES
 *
 * Rank 0 prints one line per size: "SIZE MEDIAN_NS MIN_NS" (one-way
 * latency in nanoseconds: the median and the minimum of the samples).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 1, 8, 64, 512, 4096, 32768, 262144, 1048576 };
	int rank, n, trips = 0, samples = 0, s, i, k;
	char *buf;
	double *t;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &n);
	if (argc < 3 || (trips = atoi(argv[1])) <= 0 || (samples = atoi(argv[2])) <= 0 || n != 2) {
		if (rank == 0)
			fprintf(stderr, "usage: pingpong ROUNDTRIPS SAMPLES (on 2 ranks)\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	buf = calloc(1, sizes[sizeof(sizes) / sizeof(sizes[0]) - 1]);
	t = calloc((size_t)samples, sizeof(*t));
	if (buf == NULL || t == NULL)
		MPI_Abort(MPI_COMM_WORLD, 1);
	for (s = 0; s < (int)(sizeof(sizes) / sizeof(sizes[0])); s++) {
		int size = sizes[s];
		/* Fewer round trips for large messages: each sample stays near the same duration. */
		int reps = size >= 262144 ? trips / 100 + 1 : size >= 32768 ? trips / 10 + 1 : trips;

		for (k = -1; k < samples; k++) { /* k == -1: warm-up */
			double t0;

			MPI_Barrier(MPI_COMM_WORLD);
			t0 = MPI_Wtime();
			for (i = 0; i < reps; i++) {
				if (rank == 0) {
					MPI_Send(buf, size, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
					MPI_Recv(buf, size, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
				} else {
					MPI_Recv(buf, size, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
					MPI_Send(buf, size, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
				}
			}
			if (k >= 0)
				t[k] = (MPI_Wtime() - t0) / (2.0 * reps) * 1e9;
		}
		if (rank == 0) {
			qsort(t, (size_t)samples, sizeof(*t), cmp);
			printf("%d %.1f %.1f\n", size, t[samples / 2], t[0]);
			fflush(stdout);
		}
	}
	free(buf);
	free(t);
	MPI_Finalize();
	return 0;
}
