package io.crmpi.local;

import io.crmpi.fault.FaultPoint;
import io.crmpi.fault.Faults;
import io.crmpi.store.CheckpointStore;
import io.crmpi.store.Manifest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Chooses what to restart from: committed epochs, newest first (no newer
 * than a requested epoch), each verified just before it is used. A damaged
 * epoch is reported and skipped for the previous one, never used.
 */
final class RestartPlanner {
  private final CheckpointStore store;
  private final List<Manifest> queue;
  private final Consumer<String> progress;
  private final Consumer<String> log;
  private java.util.function.BiFunction<String, Long, ProgressMeter> meters =
      (what, total) -> new ProgressMeter(what, total, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()),
          false, System::nanoTime);
  private final CheckpointStore.Scope scope;
  private Faults faults = Faults.none();

  private RestartPlanner(CheckpointStore store, List<Manifest> queue, CheckpointStore.Scope scope,
      Consumer<String> progress, Consumer<String> log) {
    this.scope = scope;
    this.store = store;
    this.queue = queue;
    this.progress = progress;
    this.log = log;
  }

  /**
   * @param progress hears "epoch N: verifying ..." before each verification
   * @param log hears each damaged epoch
   */
  static RestartPlanner newestFirst(CheckpointStore store, long atMost, Consumer<String> progress,
      Consumer<String> log) throws IOException {
    return newestFirst(store, atMost, CheckpointStore.Scope.EVERYTHING, progress, log);
  }

  /** @param scope what is checked before an epoch is offered (the engine may check the rest itself) */
  static RestartPlanner newestFirst(CheckpointStore store, long atMost, CheckpointStore.Scope scope,
      Consumer<String> progress, Consumer<String> log) throws IOException {
    List<Manifest> committed = new ArrayList<>(store.committed());
    committed.removeIf(m -> m.epoch() > atMost);
    Collections.reverse(committed);
    return new RestartPlanner(store, committed, scope, progress, log);
  }

  /** The same planner, with faults armed at its verifications (tests: CRMPI_FAULTS=verify@E). */
  RestartPlanner withFaults(Faults faults) {
    this.faults = faults;
    return this;
  }

  /** The same planner, showing each verification's progress on meters (by default, nowhere). */
  RestartPlanner withMeters(java.util.function.BiFunction<String, Long, ProgressMeter> meters) {
    this.meters = meters;
    return this;
  }

  /** The next epoch whose files verify, or empty when none is left. */
  Optional<Manifest> next() throws IOException {
    while (!queue.isEmpty()) {
      Manifest m = queue.remove(0);
      if (!m.sealed()) {
        log.accept("epoch " + m.epoch() + " was committed but never sealed (crmpi or crmpid stopped before crmpid"
            + " had digested its images), so it cannot be trusted and is skipped");
        continue;
      }
      progress.accept("epoch " + m.epoch() + ": verifying " + Units.bytes(m.totalBytes()) + " of checkpoint files"
          + (scope == CheckpointStore.Scope.WORKDIR_ONLY ? " (crmpid checks the images as it restores them)" : ""));
      List<String> problems;
      long bytes = scope == CheckpointStore.Scope.WORKDIR_ONLY ? m.nodes().stream()
          .flatMap(n -> n.workdirFiles().stream()).mapToLong(io.crmpi.store.FileDigest::size).sum() : m.totalBytes();
      try (ProgressMeter meter = meters.apply("epoch " + m.epoch() + ": verifying", bytes)) {
        faults.check(FaultPoint.VERIFY, m.epoch());
        problems = store.verify(m, scope, meter);
      } catch (IOException e) {
        // What an I/O error reading the epoch's files comes to (the verifier reports those as unreadable).
        problems = List.of("unreadable: " + e.getMessage());
      }
      if (problems.isEmpty()) {
        return Optional.of(m);
      }
      log.accept("epoch " + m.epoch() + " is damaged and skipped: " + String.join("; ", problems));
    }
    return Optional.empty();
  }
}
