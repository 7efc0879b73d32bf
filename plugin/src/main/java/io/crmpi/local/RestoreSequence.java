package io.crmpi.local;

import io.crmpi.fault.Faults;
import io.crmpi.coordinator.EpochPins;
import io.crmpi.store.CheckpointStore;
import io.crmpi.store.Manifest;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Brings a job back after a failure: walks its committed epochs newest
 * first (skipping damaged ones), restores every node slot from the first
 * that verifies, and keeps it only once the restored job passed its
 * probation; a restore that fails or breaks is undone and the previous
 * epoch tried. The epoch kept is pinned against retention. With no usable
 * epoch left, the job starts over.
 */
final class RestoreSequence {
  private static final Logger LOG = Logger.getLogger(RestoreSequence.class.getName());
  /** How long crmpid may take to digest an epoch's images it still holds (a few seconds per GiB). */
  private static final java.time.Duration RESEAL_TIMEOUT = java.time.Duration.ofMinutes(10);

  private final String job;
  private final CheckpointStore store;
  private final NodeSlots nodes;
  private final RestoreProbation probation;
  private final EpochPins pins;
  private final JobHistory history;
  private final Runnable forgetExits;
  private final CheckpointStore.Scope verifyScope;
  private Faults faults = Faults.none();

  /**
   * @param forgetExits drops the tree exits heard so far (the trees a failed
   *     attempt killed must not count as failures of the next one)
   */
  RestoreSequence(String job, CheckpointStore store, NodeSlots nodes, RestoreProbation probation, EpochPins pins,
      JobHistory history, Runnable forgetExits) {
    this(job, store, nodes, probation, pins, history, forgetExits, CheckpointStore.Scope.EVERYTHING);
  }

  /** @param verifyScope what is verified before an epoch is restored (the engine may verify the images itself) */
  RestoreSequence(String job, CheckpointStore store, NodeSlots nodes, RestoreProbation probation, EpochPins pins,
      JobHistory history, Runnable forgetExits, CheckpointStore.Scope verifyScope) {
    this.verifyScope = verifyScope;
    this.job = job;
    this.store = store;
    this.nodes = nodes;
    this.probation = probation;
    this.pins = pins;
    this.history = history;
    this.forgetExits = forgetExits;
  }

  /** The same sequence, with faults armed at its verifications (tests: CRMPI_FAULTS=verify@E). */
  RestoreSequence withFaults(Faults faults) {
    this.faults = faults;
    return this;
  }

  /**
   * Restores the newest usable epoch no newer than atMost, or starts the job over.
   *
   * @return the epoch restored, 0 when the job was started over
   * @throws SlotLostException when a node is lost meanwhile: the job must
   *     be requeued, and no epoch was skipped for it
   */
  long restoreOrStart(long atMost, String why) throws IOException {
    return restoreOrStart(atMost, why, null);
  }

  /** As {@link #restoreOrStart(long, String)}; the history records trigger with the restart (see JobHistory). */
  long restoreOrStart(long atMost, String why, String trigger) throws IOException {
    nodes.killAll();
    forgetExits.run();
    requireEveryNode("before the restore");
    Optional<Manifest> newest = store.latest();
    if (newest.isPresent() && newest.get().nodes().size() != nodes.size()) {
      // Starting over on another layout would silently throw the job's progress away.
      throw new JobException("job " + job + " was checkpointed on " + newest.get().nodes().size()
          + " node(s) " + newest.get().nodes().stream().map(NodeImage::node).toList() + ", and this run has "
          + nodes.size() + ": restart it inside a Slurm allocation of " + newest.get().nodes().size()
          + " node(s) (sbatch -N" + newest.get().nodes().size() + ")", ExitCodes.USAGE);
    }
    // crmpi may have stopped between the newest epoch's commit and its seal: crmpid may still hold its images.
    io.crmpi.coordinator.UnsealedEpoch.sealNewest(job, store, nodes.all(), RESEAL_TIMEOUT,
        io.crmpi.coordinator.Deadlines.system());
    RestartPlanner planner = RestartPlanner.newestFirst(store, atMost, verifyScope,
        msg -> LOG.info("job " + job + " " + msg),
        msg -> LOG.warning("job " + job + ": " + msg)).withMeters(ProgressMeter::standardError).withFaults(faults);
    for (Optional<Manifest> m = planner.next(); m.isPresent(); m = planner.next()) {
      if (attempt(m.get(), why, trigger)) {
        return m.get().epoch();
      }
    }
    requireEveryNode("before starting over");
    LOG.warning("job " + job + ": no usable checkpoint; starting the job over from the beginning");
    history.restarted(0, why, trigger);
    nodes.launchAll();
    return 0;
  }

  /** One epoch: restored and healthy (true), or undone (false). */
  private boolean attempt(Manifest m, String why, String trigger) throws IOException {
    long epoch = m.epoch();
    Map<String, NodeImage> images = new HashMap<>();
    Map<String, Integer> expected = new HashMap<>();
    for (NodeImage n : m.nodes()) {
      images.put(n.node(), n);
      NodeImage.processes(n.attributes()).ifPresent(c -> expected.put(n.node(), c));
    }
    if (!images.keySet().equals(Set.copyOf(nodes.names()))) {
      LOG.warning("job " + job + " epoch " + epoch + ": its nodes " + images.keySet() + " are not this run's "
          + nodes.names() + "; skipped");
      return false;
    }
    try {
      LOG.info("job " + job + " epoch " + epoch + ": restoring (" + why + ")");
      LOG.info("job " + job + " epoch " + epoch + ": held at " + m.levels().describe() + "; each node reads the"
          + " fastest level where its part is intact");
      nodes.restoreAll(store.levelDirs(m), epoch, images, m.levels().holds(io.crmpi.store.StorageLevel.PARTNER)
          ? Path.of(m.levels().localDir()) : null);
      LOG.info("job " + job + " epoch " + epoch + ": every node tree is restored and runs again; watching it for "
          + Units.duration(probation.window()));
      if (probation.watch(nodes.all(), expected) instanceof RestoreProbation.Verdict.Broken broken) {
        // Never checkpoint a job that broke on its restore: that would replace good epochs with bad ones.
        LOG.warning("job " + job + " epoch " + epoch + ": the restored job is not healthy: " + broken.problem()
            + "; trying the previous epoch");
        history.restoreFailed(epoch, broken.problem());
        undo();
        return false;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new JobException("job " + job + ": interrupted while restoring epoch " + epoch, ExitCodes.STOPPED);
    } catch (IOException e) {
      // A node that went away is no fault of the epoch: never skip a good epoch for it.
      requireEveryNode("during the restore of epoch " + epoch + " (" + e.getMessage() + ")");
      LOG.warning("job " + job + " epoch " + epoch + ": restore failed: " + e.getMessage()
          + "; trying the previous epoch");
      undo();
      return false;
    }
    pins.pin("restored from", epoch);
    history.restarted(epoch, why, trigger);
    LOG.info("job " + job + " epoch " + epoch + ": restored; the job continues (every node tree kept its"
        + " processes for " + Units.duration(probation.window()) + ")");
    return true;
  }

  private void requireEveryNode(String when) throws SlotLostException {
    Optional<String> lost = nodes.unreachable();
    if (lost.isPresent()) {
      throw new SlotLostException(lost.get(), when);
    }
  }

  private void undo() {
    nodes.killAll();
    forgetExits.run();
  }
}
