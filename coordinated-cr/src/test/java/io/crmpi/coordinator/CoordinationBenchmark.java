package io.crmpi.coordinator;

import io.crmpi.fault.Faults;
import io.crmpi.protocol.AgentChannel;
import io.crmpi.store.FileCheckpointStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * How long the coordination of one global checkpoint takes, from the
 * prepare to the commit, with no image to write: the coordinator against
 * N {@link SimulatedAgent}s (each reply on another thread after a fixed
 * delay) and a real {@link FileCheckpointStore} in a directory given (a
 * tmpfs leaves out the disk; the manifest of N nodes is still written,
 * fsynced and renamed, and retention still deletes old epochs).
 *
 * <p>Prints one markdown row per configuration: agents, reply delay,
 * epochs measured, then the median, 90th and 99th percentile and the
 * maximum in milliseconds. Run by scripts/benchmark-coordination.sh.
 *
 * <pre>CoordinationBenchmark DIR EPOCHS AGENTS[,AGENTS...] DELAY_US[,DELAY_US...]</pre>
 */
public final class CoordinationBenchmark {
  private static final int WARM_UP = 30;

  private CoordinationBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: CoordinationBenchmark DIR EPOCHS AGENTS[,AGENTS...] DELAY_US[,DELAY_US...]");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    int epochs = Integer.parseInt(args[1]);
    int[] agentCounts = Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray();
    long[] delays = Arrays.stream(args[3].split(",")).mapToLong(Long::parseLong).toArray();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      for (int agents : agentCounts) {
        for (long delay : delays) {
          double[] ms = run(dir.resolve("n" + agents + "-d" + delay), agents, delay, epochs, pool);
          System.out.printf("| %d | %d | %d | %.1f | %.1f | %.1f | %.1f |%n", agents, delay, ms.length,
              percentile(ms, 50), percentile(ms, 90), percentile(ms, 99), ms[ms.length - 1]);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** Commits WARM_UP + epochs checkpoints; returns the measured ones' durations in ms, sorted. */
  static double[] run(Path dir, int agents, long delayMicros, int epochs, ExecutorService pool) throws Exception {
    Files.createDirectories(dir);
    FileCheckpointStore store = FileCheckpointStore.open(dir, "bench");
    List<AgentChannel> nodes = new ArrayList<>();
    for (int i = 0; i < agents; i++) {
      nodes.add(new SimulatedAgent("node" + i, SimulatedAgent.delayed(delayMicros, pool)));
    }
    Duration timeout = Duration.ofSeconds(30);
    CheckpointCoordinator coordinator = new CheckpointCoordinator(
        new CoordinatorConfig("bench", "simulated", 2, timeout, timeout, timeout), store, nodes, Faults.none(),
        Clock.systemUTC(), System::nanoTime, outcome -> {});
    try {
      double[] ms = new double[epochs];
      for (int i = 0; i < WARM_UP + epochs; i++) {
        long t0 = System.nanoTime();
        CheckpointOutcome outcome = coordinator.checkpoint("benchmark");
        long t1 = System.nanoTime();
        if (!(outcome instanceof CheckpointOutcome.Committed)) {
          throw new IllegalStateException("epoch not committed with " + agents + " agents: " + outcome);
        }
        if (i >= WARM_UP) {
          ms[i - WARM_UP] = (t1 - t0) / 1e6;
        }
      }
      Arrays.sort(ms);
      return ms;
    } finally {
      coordinator.closeAndAwaitIdle();
    }
  }

  static double percentile(double[] sorted, int p) {
    int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
