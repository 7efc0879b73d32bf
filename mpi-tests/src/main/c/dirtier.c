/*
 * A rank that holds MIB MiB of memory and rewrites a fixed share of it
 * every second, for the chunk store's benchmark (scripts/benchmark-dedup.sh):
 * every 100 ms it overwrites the next PERMILLE/10 thousandths of its buffer
 * (a window that moves through the buffer and wraps), so PERMILLE per
 * thousand of the memory changes per second, in one contiguous stretch as a
 * solver sweeping an array does; with "scattered" the same number of bytes
 * is rewritten as whole 4 KiB pages picked at random all over the buffer
 * (the worst case for chunks). With "random" the bytes are a PRNG's
 * (incompressible); with "smooth" they are doubles of a slowly varying
 * function (what compresses a little, as simulation fields do).
 *
 * usage: dirtier MIB SECONDS PERMILLE random|smooth [window|scattered]
 * At the end each rank writes the sum of its buffer to dirtier.out.RANK.
 */
#include <mpi.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t state = 88172645463325252ULL;

static uint64_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

static void fill(double *d, size_t from, size_t n, int smooth, long step) {
  for (size_t i = from; i < from + n; i++) {
    if (smooth) {
      d[i] = sin((double)i * 1e-4 + (double)step * 1e-2);
    } else {
      uint64_t v = next();
      memcpy(&d[i], &v, sizeof v);
    }
  }
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (argc != 5 && argc != 6) {
    if (rank == 0) fprintf(stderr, "usage: dirtier MIB SECONDS PERMILLE random|smooth [window|scattered]\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  size_t n = (size_t)atol(argv[1]) * 1048576 / sizeof(double);
  long seconds = atol(argv[2]);
  long permille = atol(argv[3]);
  int smooth = strcmp(argv[4], "smooth") == 0;
  int scattered = argc == 6 && strcmp(argv[5], "scattered") == 0;
  state += (uint64_t)rank * 7919;
  double *d = malloc(n * sizeof(double));
  if (d == NULL) MPI_Abort(MPI_COMM_WORLD, 3);
  fill(d, 0, n, smooth, 0);
  size_t window = n * (size_t)permille / 10000; /* per 100 ms */
  if (window == 0) window = 1;
  size_t at = 0;
  struct timespec tick = {0, 100 * 1000 * 1000};
  for (long step = 1; step <= seconds * 10; step++) {
    nanosleep(&tick, NULL);
    if (scattered) {
      size_t per_page = 4096 / sizeof(double);
      for (size_t k = 0; k < (window + per_page - 1) / per_page; k++) {
        size_t page = (size_t)(next() % (n / per_page));
        fill(d, page * per_page, per_page, smooth, step);
      }
    } else {
      size_t len = window;
      if (at + len > n) len = n - at;
      fill(d, at, len, smooth, step);
      at = (at + len) % n;
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  double sum = 0;
  for (size_t i = 0; i < n; i += 512) sum += smooth ? d[i] : (double)(((uint64_t *)d)[i] & 0xffff);
  char name[64];
  snprintf(name, sizeof name, "dirtier.out.%d", rank);
  FILE *out = fopen(name, "w");
  if (out != NULL) {
    fprintf(out, "%.6f\n", sum);
    fclose(out);
  }
  free(d);
  MPI_Finalize();
  return 0;
}
