/*
 * pingpong: point-to-point latency at many message sizes, for the
 * interposition overhead benchmark of libcrmpi. Two ranks bounce a message
 * (MPI_Send / MPI_Recv) ROUNDTRIPS times per sample, SAMPLES times per size;
 * one sample's one-way latency is its time over 2 * ROUNDTRIPS, so the
 * timer's resolution is spread over many messages.
 *
 * Every sample is taken twice, back to back in the same process: once
 * through MPI_Send / MPI_Recv (what a preloaded libcrmpi intercepts) and
 * once through PMPI_Send / PMPI_Recv (straight into the MPI library,
 * whatever is preloaded), alternating which goes first. The difference is
 * the interposition's own cost, measured at the same moment on the same
 * cores; without libcrmpi it shows the measurement's noise floor.
 *
 * usage: pingpong ROUNDTRIPS SAMPLES [nonblocking|nonblocking-send|nonblocking-recv]
 *
 * With "nonblocking", the first path is not MPI_Send / MPI_Recv but what
 * libcrmpi turns them into, written here with PMPI_ calls: PMPI_Isend and
 * PMPI_Irecv, each completed by a PMPI_Test loop. Run without libcrmpi, it
 * tells how much of the interposition's cost is the MPI library's own
 * nonblocking path. "nonblocking-send" and "nonblocking-recv" change only
 * the send or only the receive, to tell the two halves apart.
 *
 * Rank 0 prints one line per size:
 *   "SIZE MEDIAN_NS MIN_NS DIRECT_MEDIAN_NS DIRECT_MIN_NS"
 * (one-way latency in nanoseconds through the first path, then through
 * PMPI_Send / PMPI_Recv).
 * Every round trip carries data that rank 1 changes and rank 0 checks, so a
 * message that was not really delivered stops the run (exit 3).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*send_fn)(const void *, int, MPI_Datatype, int, int, MPI_Comm);
typedef int (*recv_fn)(void *, int, MPI_Datatype, int, int, MPI_Comm, MPI_Status *);

/* libcrmpi's shape of a blocking send and receive, without libcrmpi. */
static int nonblocking_send(const void *b, int count, MPI_Datatype type, int dest, int tag, MPI_Comm comm)
{
	MPI_Request req;
	int flag = 0, rc = PMPI_Isend(b, count, type, dest, tag, comm, &req);

	while (rc == MPI_SUCCESS && !flag)
		rc = PMPI_Test(&req, &flag, MPI_STATUS_IGNORE);
	return rc;
}

static int nonblocking_recv(void *b, int count, MPI_Datatype type, int source, int tag, MPI_Comm comm, MPI_Status *st)
{
	MPI_Request req;
	int flag = 0, rc = PMPI_Irecv(b, count, type, source, tag, comm, &req);

	while (rc == MPI_SUCCESS && !flag)
		rc = PMPI_Test(&req, &flag, st);
	return rc;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One sample: reps round trips of size bytes through send/recv; the one-way latency in ns. */
static double sample(int rank, char *buf, int size, int reps, send_fn send, recv_fn recv)
{
	double t0;
	int i;

	MPI_Barrier(MPI_COMM_WORLD);
	t0 = MPI_Wtime();
	for (i = 0; i < reps; i++) {
		if (rank == 0) {
			buf[0] = (char)i;
			if (size > 1)
				buf[size - 1] = (char)(i >> 8);
			send(buf, size, MPI_BYTE, 1, 0, MPI_COMM_WORLD);
			recv(buf, size, MPI_BYTE, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			if (buf[0] != (char)(i + 1) || (size > 1 && buf[size - 1] != (char)((i >> 8) + 1))) {
				fprintf(stderr, "pingpong: round trip %d of size %d came back wrong\n", i, size);
				MPI_Abort(MPI_COMM_WORLD, 3);
			}
		} else {
			recv(buf, size, MPI_BYTE, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			buf[0]++;
			if (size > 1)
				buf[size - 1]++;
			send(buf, size, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
		}
	}
	return (MPI_Wtime() - t0) / (2.0 * reps) * 1e9;
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 1, 8, 64, 512, 4096, 32768, 262144, 1048576 };
	int rank, n, trips = 0, samples = 0, s, k;
	char *buf;
	double *t, *direct;
	send_fn send = MPI_Send;
	recv_fn recv = MPI_Recv;

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &n);
	if (argc < 3 || (trips = atoi(argv[1])) <= 0 || (samples = atoi(argv[2])) <= 0 || n != 2 ||
	    (argc > 3 && strcmp(argv[3], "nonblocking") && strcmp(argv[3], "nonblocking-send") &&
	     strcmp(argv[3], "nonblocking-recv"))) {
		if (rank == 0)
			fprintf(stderr, "usage: pingpong ROUNDTRIPS SAMPLES [nonblocking|nonblocking-send|nonblocking-recv]"
					" (on 2 ranks)\n");
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	if (argc > 3 && strcmp(argv[3], "nonblocking-recv"))
		send = nonblocking_send;
	if (argc > 3 && strcmp(argv[3], "nonblocking-send"))
		recv = nonblocking_recv;
	buf = calloc(1, sizes[sizeof(sizes) / sizeof(sizes[0]) - 1]);
	t = calloc((size_t)samples, sizeof(*t));
	direct = calloc((size_t)samples, sizeof(*direct));
	if (buf == NULL || t == NULL || direct == NULL)
		MPI_Abort(MPI_COMM_WORLD, 1);
	for (s = 0; s < (int)(sizeof(sizes) / sizeof(sizes[0])); s++) {
		int size = sizes[s];
		/* Fewer round trips for large messages: each sample stays near the same duration. */
		int reps = size >= 262144 ? trips / 100 + 1 : size >= 32768 ? trips / 10 + 1 : trips;

		sample(rank, buf, size, reps, send, recv); /* warm-up */
		sample(rank, buf, size, reps, PMPI_Send, PMPI_Recv);
		for (k = 0; k < samples; k++) {
			if (k % 2) {
				t[k] = sample(rank, buf, size, reps, send, recv);
				direct[k] = sample(rank, buf, size, reps, PMPI_Send, PMPI_Recv);
			} else {
				direct[k] = sample(rank, buf, size, reps, PMPI_Send, PMPI_Recv);
				t[k] = sample(rank, buf, size, reps, send, recv);
			}
		}
		if (rank == 0) {
			qsort(t, (size_t)samples, sizeof(*t), cmp);
			qsort(direct, (size_t)samples, sizeof(*direct), cmp);
			printf("%d %.1f %.1f %.1f %.1f\n", size, t[samples / 2], t[0], direct[samples / 2], direct[0]);
			fflush(stdout);
		}
	}
	free(buf);
	free(t);
	free(direct);
	MPI_Finalize();
	return 0;
}
