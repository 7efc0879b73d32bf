/*
 * halo: a deterministic 2-D halo-exchange MPI test program for
 * checkpoint/restart.
 *
 * usage: halo ITERATIONS [OUTPUT]
 *
 * The ranks are arranged in a non-periodic 2-D Cartesian grid
 * (MPI_Dims_create + MPI_Cart_create, so any rank count works: 1, 2, 4, 6,
 * 8, ...). Every rank owns an N x N block of doubles plus one layer of ghost
 * cells; N is HALO_N_DEFAULT (64) unless the environment variable HALO_N
 * sets it, e.g. HALO_N=2048 for a memory-heavy run (two grids of
 * (N+2)^2 doubles, about 64 MiB per rank). The ghost cells on the outer
 * edge of the global grid hold fixed boundary values.
 *
 * Each iteration exchanges the edge rows and columns with the four
 * neighbours (MPI_Irecv/MPI_Isend + MPI_Waitall), applies a Jacobi 5-point
 * stencil in a fixed order and swaps the buffers. Every 50 iterations, and
 * at the end, the ranks compute a checksum of the whole grid:
 *
 *   - hash: the raw 64-bit pattern of every double, mixed with its global
 *     position, XORed together (MPI_Allreduce with MPI_BXOR). It is
 *     bit-exact and independent of the reduction order: the authoritative
 *     value.
 *   - sum: each rank adds its cells in a fixed order, rank 0 gathers the
 *     partial sums (MPI_Gather) and adds them in rank order, so it too is
 *     deterministic for a given rank count.
 *
 * Rank 0 appends "iteration N sum S hash H" to OUTPUT (default halo.out in
 * the working directory) and prints progress to stdout, then writes the
 * final checksum. The floating-point results depend on the rank count (it
 * sets the global grid size) but not on timing, so a lost, duplicated or
 * stale ghost-cell message, or a rolled-back file that was not rolled back,
 * changes the file. A 2 ms sleep per iteration makes runs last a while.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HALO_N_DEFAULT 64
#define HALO_N_MAX 32768
#define CHECK_EVERY 50

enum { TAG_UP = 1, TAG_DOWN, TAG_LEFT, TAG_RIGHT };

/* splitmix64 finaliser: a bijective 64-bit integer mix */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
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

/* Parses a decimal integer in [1, max]; returns -1 if s is not one. */
static long parse_count(const char *s, long max)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > max)
		return -1;
	return v;
}

static void usage(int rank, const char *why)
{
	if (rank == 0) {
		if (why)
			fprintf(stderr, "halo: %s\n", why);
		fprintf(stderr, "usage: halo ITERATIONS [OUTPUT]  (env HALO_N=EDGE, 1..%d, default %d)\n",
			HALO_N_MAX, HALO_N_DEFAULT);
	}
	MPI_Abort(MPI_COMM_WORLD, 2);
}

/* Fixed value of a cell on the outer boundary of the global grid. */
static double boundary_value(long gi, long gj, long gn)
{
	if (gi < 0)
		return 1.0;
	if (gi >= gn)
		return -0.5;
	if (gj < 0)
		return 0.25 + (double)gi / (double)gn;
	return 0.75 - (double)gi / (double)gn;
}

int main(int argc, char **argv)
{
	int rank, size, cart_rank, it, iters;
	int dims[2] = { 0, 0 }, periods[2] = { 0, 0 }, coords[2];
	int up, down, left, right;
	long n, gn, gm, i, j, iters_l;
	size_t w, cells;
	double *u, *v, *t, *partials = NULL, local_sum, sum = 0.0;
	uint64_t local_hash, hash = 0;
	const char *out_path, *env;
	FILE *out = NULL;
	MPI_Comm cart;
	MPI_Datatype column;
	MPI_Request req[8];

	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (argc < 2 || argc > 3)
		usage(rank, NULL);
	iters_l = parse_count(argv[1], 1000000000L);
	if (iters_l < 0)
		usage(rank, "ITERATIONS must be a positive integer");
	iters = (int)iters_l;
	env = getenv("HALO_N");
	n = env ? parse_count(env, HALO_N_MAX) : HALO_N_DEFAULT;
	if (n < 0)
		usage(rank, "HALO_N must be an integer in range");
	out_path = argc > 2 ? argv[2] : "halo.out";

	MPI_Dims_create(size, 2, dims);
	MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &cart);
	MPI_Comm_rank(cart, &cart_rank);
	MPI_Cart_coords(cart, cart_rank, 2, coords);
	MPI_Cart_shift(cart, 0, 1, &up, &down);
	MPI_Cart_shift(cart, 1, 1, &left, &right);
	gn = n * dims[0];
	gm = n * dims[1];

	/* row-major (n+2) x (n+2); cell (i, j) with i, j in 0..n+1 */
	w = (size_t)n + 2;
	cells = w * w;
	u = malloc(cells * sizeof(*u));
	v = malloc(cells * sizeof(*v));
	if (!u || !v) {
		fprintf(stderr, "halo: rank %d: cannot allocate %zu bytes\n",
			rank, 2 * cells * sizeof(*u));
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	MPI_Type_vector((int)n, 1, (int)w, MPI_DOUBLE, &column);
	MPI_Type_commit(&column);

	/* interior and ghost cells; the outer boundary ones never change */
	for (i = 0; i < (long)w; i++) {
		for (j = 0; j < (long)w; j++) {
			long gi = (long)coords[0] * n + i - 1;
			long gj = (long)coords[1] * n + j - 1;
			double x;

			if (gi < 0 || gi >= gn || gj < 0 || gj >= gm)
				x = boundary_value(gi, gj, gn);
			else
				x = (double)((gi * 7 + gj * 13) % 101) / 101.0;
			u[i * w + j] = x;
			v[i * w + j] = x;
		}
	}

	if (rank == 0) {
		partials = malloc((size_t)size * sizeof(*partials));
		out = fopen(out_path, "w");
		if (!partials || !out) {
			perror(out_path);
			MPI_Abort(MPI_COMM_WORLD, 2);
		}
	}

	for (it = 1; it <= iters; it++) {
		/* ghost exchange; MPI_PROC_NULL neighbours make these no-ops */
		MPI_Irecv(&u[0 * w + 1], (int)n, MPI_DOUBLE, up, TAG_DOWN, cart, &req[0]);
		MPI_Irecv(&u[(n + 1) * w + 1], (int)n, MPI_DOUBLE, down, TAG_UP, cart, &req[1]);
		MPI_Irecv(&u[1 * w + 0], 1, column, left, TAG_RIGHT, cart, &req[2]);
		MPI_Irecv(&u[1 * w + n + 1], 1, column, right, TAG_LEFT, cart, &req[3]);
		MPI_Isend(&u[1 * w + 1], (int)n, MPI_DOUBLE, up, TAG_UP, cart, &req[4]);
		MPI_Isend(&u[n * w + 1], (int)n, MPI_DOUBLE, down, TAG_DOWN, cart, &req[5]);
		MPI_Isend(&u[1 * w + 1], 1, column, left, TAG_LEFT, cart, &req[6]);
		MPI_Isend(&u[1 * w + n], 1, column, right, TAG_RIGHT, cart, &req[7]);
		MPI_Waitall(8, req, MPI_STATUSES_IGNORE);

		/* Jacobi 5-point stencil, fixed evaluation order */
		for (i = 1; i <= n; i++) {
			const double *r = &u[i * w];

			for (j = 1; j <= n; j++) {
				double ns = r[j - (long)w] + r[j + (long)w];
				double ew = r[j - 1] + r[j + 1];

				v[i * w + j] = 0.25 * (ns + ew);
			}
		}
		t = u;
		u = v;
		v = t;

		if (it % CHECK_EVERY == 0 || it == iters) {
			local_sum = 0.0;
			local_hash = 0;
			for (i = 1; i <= n; i++) {
				for (j = 1; j <= n; j++) {
					uint64_t bits, gi = (uint64_t)(coords[0] * n + i - 1);
					uint64_t gj = (uint64_t)(coords[1] * n + j - 1);
					double x = u[i * w + j];

					memcpy(&bits, &x, sizeof(bits));
					local_hash ^= mix(bits ^ mix(gi * (uint64_t)gm + gj));
					local_sum += x;
				}
			}
			MPI_Allreduce(&local_hash, &hash, 1, MPI_UINT64_T, MPI_BXOR, cart);
			MPI_Gather(&local_sum, 1, MPI_DOUBLE, partials, 1, MPI_DOUBLE, 0, cart);
			if (rank == 0) {
				int r;

				sum = 0.0;
				for (r = 0; r < size; r++)
					sum += partials[r];
				if (it % CHECK_EVERY == 0) {
					fprintf(out, "iteration %d sum %.17g hash %016llx\n",
						it, sum, (unsigned long long)hash);
					fflush(out);
					printf("halo: %d/%d iterations\n", it, iters);
					fflush(stdout);
				}
			}
		}
		pause_a_little();
	}

	if (rank == 0) {
		fprintf(out, "final sum %.17g hash %016llx after %d iterations on %d ranks (%dx%d grid)\n",
			sum, (unsigned long long)hash, iters, size, dims[0], dims[1]);
		fclose(out);
		free(partials);
		printf("halo: done\n");
	}
	MPI_Type_free(&column);
	MPI_Comm_free(&cart);
	free(u);
	free(v);
	MPI_Finalize();
	return 0;
}
