/*
 * A job CRIU cannot checkpoint: it holds a perf event (a software task-clock
 * counter on itself, which an ordinary user may open with
 * perf_event_paranoid <= 2) for its whole life, and writes one line per
 * step to perfholder.out. Each line depends only on the step, so a correct
 * run's output is always the same.
 *
 * usage: perfholder STEPS
 */
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long steps = argc > 1 ? atol(argv[1]) : 100;
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.size = sizeof attr;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.exclude_kernel = 1;
  int fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd < 0) {
    perror("perfholder: perf_event_open");
    return 2;
  }
  FILE *out = fopen("perfholder.out", "w");
  if (out == NULL) {
    perror("perfholder: perfholder.out");
    return 2;
  }
  struct timespec pause = {0, 20 * 1000 * 1000};
  unsigned long long x = 1;
  for (long i = 1; i <= steps; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    fprintf(out, "step %ld %llu\n", i, x);
    fflush(out);
    nanosleep(&pause, NULL);
  }
  fclose(out);
  close(fd);
  printf("perfholder: %ld steps\n", steps);
  return 0;
}
