package io.crmpi.coordinator;

import io.crmpi.protocol.AgentChannel;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.CheckpointStore;
import io.crmpi.store.Manifest;
import io.crmpi.store.StorageLevel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * The coordinator's side of the node-local level (see {@link StoragePlan}):
 * the flush of committed epochs to the state directory and the record of
 * it in their manifests, which epochs retention must keep for a lost node,
 * and the pruning of the nodes' local copies. Every method is a no-op (or
 * says "none") for a job without a node-local level. The commit or
 * rollback itself stays {@link CheckpointCoordinator}'s.
 */
final class NodeLocalCopies implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(NodeLocalCopies.class.getName());
  private static final Duration PRUNE_TIMEOUT = Duration.ofSeconds(30);

  private final String job;
  private final StoragePlan storage;
  private final CheckpointStore store;
  private final List<AgentChannel> agents;
  private final Deadlines deadlines;
  private final CheckpointListener listener;
  /** Null without a node-local level. */
  private final FlushQueue flushes;
  /** Null without partner copies. */
  private final PartnerQueue partners;
  /** Touched only by the coordinator's epoch (under its lock). */
  private int commitsSinceFlush;

  NodeLocalCopies(String job, StoragePlan storage, CheckpointStore store, List<AgentChannel> agents,
      Deadlines deadlines, LongSupplier nanoTime, CheckpointListener listener) {
    this.job = job;
    this.storage = storage;
    this.store = store;
    this.agents = List.copyOf(agents);
    this.deadlines = deadlines;
    this.listener = listener;
    this.flushes = storage.hasLocal() ? new FlushQueue(job, this.agents, storage, deadlines, nanoTime)
        : null;
    this.partners = storage.partnerCopy() && this.agents.size() > 1
        ? new PartnerQueue(job, this.agents, store, storage, deadlines, nanoTime) : null;
    if (storage.partnerCopy() && partners == null) {
      LOG.warning("job " + job + ": no partner copies: the job has one node, and a partner copy needs another");
    }
    if (flushes != null) {
      seedFromStore();
    }
  }

  /**
   * A committed epoch held at the node-local level is copied to the nodes'
   * partners, in the background (not for a vacate: the job leaves all its
   * nodes, and only the state directory outlives that).
   */
  void replicate(Manifest manifest, boolean vacate) {
    if (partners != null && !vacate && manifest.levels().holds(StorageLevel.LOCAL)) {
      partners.request(manifest.epoch());
    }
  }

  /**
   * After a restart the first flush builds on the newest epoch the state
   * directory already holds (its chunks are reused), not on nothing.
   */
  private void seedFromStore() {
    try {
      List<Manifest> committed = store.committed();
      for (int i = committed.size() - 1; i >= 0; i--) {
        Manifest m = committed.get(i);
        if (m.levels().holds(StorageLevel.SHARED) && m.levels().localDir() != null) {
          flushes.flushedBefore(Path.of(m.levels().localDir()), store.epochDir(m.epoch()));
          return;
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.fine(() -> "job " + job + ": no earlier flushed epoch to build on: " + e);
    }
  }

  /** Where the next dump's working-directory snapshot links unchanged files from: the same level's copy. */
  Path previousDir(Manifest m) {
    if (!storage.hasLocal()) {
      return store.epochDir(m.epoch());
    }
    return m.levels().holds(StorageLevel.LOCAL) ? Path.of(m.levels().localDir()) : null;
  }

  /** With commits at the shared level: the epoch's flush, before its commit; the listener hears it. */
  FlushOutcome flushBeforeCommit(long epoch, Path local, Path shared) {
    FlushOutcome flushed = flushes.flushNow(epoch, local, shared);
    listener.flushEnded(flushed);
    return flushed;
  }

  /**
   * A committed epoch held only at the node-local level is flushed to the
   * state directory: in the background (every flushEvery-th epoch), or now
   * for a vacate, whose job leaves its nodes (their node-local copies with
   * them). Returns the manifest as it stands afterwards.
   */
  Manifest flushAfterCommit(Manifest manifest, boolean vacate) {
    if (!storage.hasLocal() || manifest.levels().holds(StorageLevel.SHARED)) {
      return manifest;
    }
    long epoch = manifest.epoch();
    Path local = Path.of(manifest.levels().localDir());
    Path shared = store.epochDir(epoch);
    commitsSinceFlush++;
    if (vacate) {
      LOG.info("job " + job + " epoch " + epoch + ": vacate: flushing the epoch to the state directory"
          + " before the job leaves its nodes");
      FlushOutcome outcome = flushes.flushNow(epoch, local, shared);
      Manifest after = recordFlush(outcome);
      if (!outcome.ok()) {
        LOG.severe("job " + job + " epoch " + epoch + ": vacate: the flush to the state directory failed ("
            + outcome.problem() + "); the epoch is only on the nodes' local storage, and a requeue to other nodes"
            + " resumes from the newest epoch in the state directory");
      }
      return after == null ? manifest : after;
    }
    if (commitsSinceFlush >= storage.flushEvery()) {
      commitsSinceFlush = 0;
      flushes.request(epoch, local, shared, this::recordFlush);
    }
    return manifest;
  }

  /** Records a flush's end: the epoch's manifest gains the shared level. Returns the new manifest, or null. */
  private Manifest recordFlush(FlushOutcome outcome) {
    Manifest after = null;
    if (outcome.ok()) {
      try {
        if (store.addLevel(outcome.epoch(), StorageLevel.SHARED)) {
          after = store.get(outcome.epoch()).orElse(null);
        }
      } catch (IOException | RuntimeException e) {
        outcome = FlushOutcome.failed(outcome.epoch(), "its manifest could not be updated: " + e);
      }
    }
    FlushOutcome o = outcome;
    if (o.ok()) {
      long checkpointMillis = after == null ? 0 : after.timings().totalMillis();
      LOG.info(String.format("job %s epoch %d: flushed to the state directory: %.1f MiB written, %.1f MiB already"
          + " there (unchanged files and chunks),"
          + " in %.2f s; this job needs about %.0f s to vacate (checkpoint and flush: give it that much grace"
          + " time)", job, o.epoch(), o.bytes() / 1048576.0, o.linkedBytes() / 1048576.0,
          o.millis() / 1000.0, Math.ceil((checkpointMillis + o.millis()) / 1000.0)));
    } else {
      LOG.warning("job " + job + " epoch " + o.epoch() + ": flush to the state directory failed: "
          + o.problem() + "; the epoch stays committed at the node-local level");
    }
    try {
      listener.flushEnded(o);
    } catch (RuntimeException e) {
      LOG.warning("job " + job + ": flush listener failed: " + e);
    }
    return after;
  }

  /** The newest committed epoch held in the state directory: retention keeps it whatever its count says. */
  Optional<Long> newestShared() {
    if (!storage.hasLocal()) {
      return Optional.empty();
    }
    try {
      List<Manifest> all = store.committed();
      for (int i = all.size() - 1; i >= 0; i--) {
        if (all.get(i).levels().holds(StorageLevel.SHARED)) {
          return Optional.of(all.get(i).epoch());
        }
      }
    } catch (IOException e) {
      LOG.warning("job " + job + ": cannot list the committed epochs: " + e);
    }
    return Optional.empty();
  }

  /**
   * Every node deletes its node-local copies except the newest localKeep
   * committed ones and pinned (this epoch's commit or abort is the occasion).
   */
  void prune(long epoch, Set<Long> pinned) {
    if (!storage.hasLocal()) {
      return;
    }
    Set<Long> keep = new TreeSet<>(pinned);
    try {
      List<Manifest> all = store.committed();
      for (int i = all.size() - 1, n = 0; i >= 0 && n < storage.localKeep(); i--) {
        if (all.get(i).levels().holds(StorageLevel.LOCAL) && all.get(i).sealed()) {
          keep.add(all.get(i).epoch());
          n++;
        }
      }
    } catch (IOException e) {
      return; // keep everything this time
    }
    if (partners != null && partners.copying() > 0) {
      keep.add(partners.copying()); // its partner copy is being made from it
    }
    broadcastPrune(epoch, keep, "removing old node-local copies");
  }

  /** Every node deletes every node-local copy of the job (it is over: it succeeded). */
  void dropAll() {
    if (!storage.hasLocal()) {
      return;
    }
    long epoch = 1;
    try {
      epoch = store.latest().map(Manifest::epoch).orElse(1L);
    } catch (IOException e) {
      // any positive epoch names the request in the agents' logs
    }
    broadcastPrune(epoch, Set.of(), "could not remove every node-local copy");
  }

  private void broadcastPrune(long epoch, Set<Long> keep, String what) {
    Broadcast.Phase prune = Broadcast.send(agents, a -> new AgentRequest.Prune(epoch, storage.localJobDir(), keep),
        PRUNE_TIMEOUT, deadlines);
    if (!prune.ok(AgentReply.Pruned.class)) {
      LOG.warning("job " + job + " epoch " + epoch + ": " + what + ": " + prune.problem());
    }
  }

  /** The newest flush's outcome, if the job flushed once. */
  Optional<FlushOutcome> lastFlush() {
    return flushes == null ? Optional.empty() : Optional.ofNullable(flushes.last());
  }

  /** A flush that runs is stopped; none starts after this. */
  @Override
  public void close() {
    if (partners != null) {
      partners.close();
    }
    if (flushes != null) {
      flushes.close();
    }
  }
}
