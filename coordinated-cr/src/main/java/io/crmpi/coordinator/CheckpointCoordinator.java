package io.crmpi.coordinator;

import io.crmpi.fault.FaultPoint;
import io.crmpi.fault.Faults;
import io.crmpi.protocol.AgentChannel;
import io.crmpi.protocol.AgentReply;
import io.crmpi.protocol.AgentRequest;
import io.crmpi.store.CheckpointStore;
import io.crmpi.store.EpochLevels;
import io.crmpi.store.Manifest;
import io.crmpi.store.StorageLevel;
import io.crmpi.coordinator.Broadcast.Phase;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * Runs global checkpoints of one job, one epoch at a time: PREPARE (every
 * node freezes or quiesces), DUMP, RESUME (the cut is complete, the ranks
 * run on), PERSIST (fsync and digests), COMMIT (the manifest's atomic
 * rename). {@link #abort} is the one place that rolls an epoch back: it
 * always lets the ranks go on and deletes the epoch's directory, so the
 * previous committed epoch stays the latest.
 *
 * <p>A request that arrives while an epoch runs is answered with
 * {@link CheckpointOutcome.Skipped}, never queued. Time comes from the
 * injected clock and nano ticker, and timeouts from the injected {@link
 * Deadlines}.
 */
public final class CheckpointCoordinator {
  private static final Logger LOG = Logger.getLogger(CheckpointCoordinator.class.getName());
  private static final Duration RESUME_TIMEOUT = Duration.ofSeconds(30);

  private final CoordinatorConfig config;
  private final CheckpointStore store;
  private final List<AgentChannel> agents;
  private final Faults faults;
  private final Clock clock;
  private final LongSupplier nanoTime;
  private final CheckpointListener listener;
  private final EpochPins pins;
  private final Deadlines deadlines;
  private final FailureTracker failures = new FailureTracker(3);
  private final ReentrantLock running = new ReentrantLock();
  private volatile boolean closed;
  private final StoragePlan storage;
  private final NodeLocalCopies local;

  public CheckpointCoordinator(CoordinatorConfig config, CheckpointStore store, List<AgentChannel> agents,
      Faults faults, Clock clock, LongSupplier nanoTime, CheckpointListener listener) {
    this(config, store, agents, faults, clock, nanoTime, listener, new EpochPins());
  }

  /** @param pins epochs that retention keeps until the next commit (see {@link EpochPins}) */
  public CheckpointCoordinator(CoordinatorConfig config, CheckpointStore store, List<AgentChannel> agents,
      Faults faults, Clock clock, LongSupplier nanoTime, CheckpointListener listener, EpochPins pins) {
    this(config, store, agents, faults, clock, nanoTime, listener, pins, Deadlines.system());
  }

  /** @param deadlines where the phases' timeouts are scheduled (see {@link Deadlines}) */
  public CheckpointCoordinator(CoordinatorConfig config, CheckpointStore store, List<AgentChannel> agents,
      Faults faults, Clock clock, LongSupplier nanoTime, CheckpointListener listener, EpochPins pins,
      Deadlines deadlines) {
    this.deadlines = deadlines;
    this.pins = pins;
    if (agents.isEmpty()) {
      throw new IllegalArgumentException("a job needs at least one node agent");
    }
    this.config = config;
    this.store = store;
    this.agents = List.copyOf(agents);
    this.faults = faults;
    this.clock = clock;
    this.nanoTime = nanoTime;
    this.listener = listener;
    this.storage = config.storage();
    this.local = new NodeLocalCopies(config.job(), storage, store, this.agents, deadlines, nanoTime, listener);
  }

  /** Takes a global checkpoint; the job keeps running. */
  public CheckpointOutcome checkpoint(String trigger) {
    return run(trigger, false, true);
  }

  /**
   * Takes a global checkpoint and ends the job's node trees once it is
   * committed (preemption, walltime). When the epoch aborts, the job keeps
   * running: it is never ended without a checkpoint.
   */
  public CheckpointOutcome checkpointAndVacate(String trigger) {
    return run(trigger, true, true);
  }

  /**
   * Takes a global checkpoint and ends the job's node trees once it is
   * committed, like a vacate, but without flushing it to the state
   * directory: the job is suspended on its nodes and resumes there, from
   * their node-local copies. When the epoch aborts, the job keeps running.
   */
  public CheckpointOutcome checkpointAndSuspend(String trigger) {
    return run(trigger, true, false);
  }

  /** No epoch starts after this; one that runs finishes. A flush that runs is stopped. */
  public void close() {
    closed = true;
    local.close();
  }

  /** Closes, and waits until an epoch that runs has ended (committed or aborted). */
  public void closeAndAwaitIdle() {
    closed = true;
    running.lock();
    running.unlock();
    local.close();
  }

  /**
   * Every node deletes its node-local copies of the job's epochs (the job is
   * over: it succeeded). No-op without a node-local level.
   */
  public void dropLocalCopies() {
    local.dropAll();
  }

  /** The newest flush's outcome, if the job has a node-local level and flushed once. */
  public Optional<FlushOutcome> lastFlush() {
    return local.lastFlush();
  }

  public int consecutiveFailures() {
    return failures.consecutive();
  }

  private CheckpointOutcome run(String trigger, boolean vacate, boolean flush) {
    if (!running.tryLock()) {
      return report(new CheckpointOutcome.Skipped("a checkpoint of job " + config.job() + " is already running"));
    }
    try {
      if (closed) {
        return report(new CheckpointOutcome.Skipped("job " + config.job() + " is shutting down"));
      }
      // A vacate is never skipped on this estimate: without its checkpoint the job loses its work; if the
      // disk really is full, its dump fails and the job runs on.
      Optional<String> shortage = vacate ? Optional.empty() : spaceShortage();
      if (shortage.isPresent()) {
        LOG.warning("job " + config.job() + ": " + shortage.get());
        return report(new CheckpointOutcome.Skipped(shortage.get()));
      }
      long epoch;
      try {
        epoch = store.beginEpoch();
      } catch (IOException e) {
        return report(failed(new CheckpointOutcome.Aborted(0, AbortReason.STORE_UNAVAILABLE, e.toString())));
      }
      return report(runEpoch(new PendingCheckpoint(config.job(), epoch, trigger, nanoTime.getAsLong()), vacate,
          flush));
    } finally {
      running.unlock();
    }
  }

  /**
   * Why the state directory cannot take another epoch: less free space than
   * the newest epoch's images took, plus a tenth. A checkpoint that would fill the
   * disk is skipped before it freezes anything; the job runs on.
   */
  private Optional<String> spaceShortage() {
    try {
      Optional<Manifest> latest = store.latest();
      if (latest.isEmpty()) {
        return Optional.empty();
      }
      // The images are written anew each time; the working-directory snapshot mostly links the last one's files.
      long images = latest.get().nodes().stream()
          .flatMap(n -> n.files().stream()).mapToLong(io.crmpi.store.FileDigest::size).sum();
      long need = images + images / 10;
      long free = store.usableBytes();
      if (free >= need) {
        return Optional.empty();
      }
      return Optional.of("checkpoint skipped: the state directory has " + mib(free) + " MiB free, and epoch "
          + latest.get().epoch() + "'s images took " + mib(images) + " MiB; the job runs on (free"
          + " space there, or give the job a --state-dir with room, for its next checkpoint)");
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // the dump itself will say what is wrong with the store
    }
  }

  private static long mib(long bytes) {
    return (bytes + (1 << 20) - 1) >> 20;
  }

  private CheckpointOutcome runEpoch(PendingCheckpoint p, boolean vacate, boolean flush) {
    long epoch = p.epoch();
    Path shared = store.epochDir(epoch);
    Path dir = storage.hasLocal() ? storage.local().epochDir(epoch) : shared;
    LOG.fine(() -> "job " + config.job() + " epoch " + epoch + ": prepare");

    Phase prepare = broadcast(a -> new AgentRequest.Prepare(epoch), config.prepareTimeout());
    if (!prepare.ok(AgentReply.Prepared.class)) {
      if (prepare.onlyTreesEnded(AgentReply.Prepared.class)) {
        return abort(p, AbortReason.TREE_ENDED, prepare.problem());
      }
      return abort(p, prepare.timedOut() ? AbortReason.PREPARE_TIMEOUT : AbortReason.PREPARE_FAILED,
          prepare.problem());
    }
    p.prepared(nanoTime.getAsLong());

    Path previous;
    try {
      previous = store.latest().map(local::previousDir).orElse(null);
    } catch (IOException e) {
      previous = null;
    }
    Path prev = previous;
    Path localJobDir = storage.hasLocal() ? storage.localJobDir() : null;
    Phase dump = broadcast(a -> new AgentRequest.Dump(epoch, dir, prev, config.dumpTimeout(), localJobDir),
        config.dumpTimeout());
    if (!dump.ok(AgentReply.Dumped.class)) {
      return abort(p, dump.timedOut() ? AbortReason.DUMP_TIMEOUT : AbortReason.DUMP_FAILED, dump.problem());
    }
    p.dumped(nanoTime.getAsLong(), dump.replies().values().stream()
        .mapToLong(r -> ((AgentReply.Dumped) r).dumpMillis()).max().orElse(0));

    if (!vacate) {
      Phase resume = broadcast(a -> AgentRequest.Resume.proceed(epoch), RESUME_TIMEOUT);
      p.resumed(nanoTime.getAsLong());
      if (!resume.ok(AgentReply.Resumed.class)) {
        LOG.warning("job " + config.job() + " epoch " + epoch + ": resume after dump: " + resume.problem());
      }
    }

    Phase persist = broadcast(a -> new AgentRequest.Persist(epoch), config.persistTimeout());
    if (!persist.ok(AgentReply.Persisted.class)) {
      return abort(p, persist.timedOut() ? AbortReason.PERSIST_TIMEOUT : AbortReason.PERSIST_FAILED,
          persist.problem());
    }
    persist.replies().values().forEach(r -> p.addImage(((AgentReply.Persisted) r).image()));
    // crmpid's images are sealed after the commit, which then waits for the disk only; before it when the commit
    // waits for the state directory (the flush reads the files as their owner, who gets them at the seal).
    boolean sealAfterCommit = !p.sealed() && !(storage.hasLocal() && storage.commitLevel() == StorageLevel.SHARED);
    if (!p.sealed() && !sealAfterCommit) {
      Phase seal = seal(p);
      if (!seal.ok(AgentReply.Sealed.class)) {
        return abort(p, seal.timedOut() ? AbortReason.SEAL_TIMEOUT : AbortReason.SEAL_FAILED, seal.problem());
      }
    }

    EpochLevels levels = storage.hasLocal() ? EpochLevels.local(dir) : EpochLevels.sharedOnly();
    if (storage.hasLocal() && storage.commitLevel() == StorageLevel.SHARED) {
      FlushOutcome flushed = local.flushBeforeCommit(epoch, dir, shared);
      if (!flushed.ok()) {
        return abort(p, AbortReason.FLUSH_FAILED, flushed.problem());
      }
      levels = levels.with(StorageLevel.SHARED);
    }
    EpochLevels held = levels;
    Manifest manifest;
    try {
      manifest = p.complete(config.engine(), clock.instant(), nanoTime.getAsLong(), held);
      faults.check(FaultPoint.COMMIT, epoch);
      store.commit(manifest);
      faults.check(FaultPoint.COMMITTED, epoch);
    } catch (IOException | RuntimeException e) {
      if (isCommitted(epoch)) {
        // The rename (the commit point) happened; only what followed it failed.
        LOG.warning("job " + config.job() + " epoch " + epoch + ": committed, but after the commit: " + e);
        manifest = p.complete(config.engine(), clock.instant(), nanoTime.getAsLong(), held);
      } else {
        return abort(p, AbortReason.COMMIT_FAILED, e.toString());
      }
    }
    if (sealAfterCommit) {
      long committedAt = nanoTime.getAsLong();
      Phase seal = seal(p);
      if (!seal.ok(AgentReply.Sealed.class)) {
        return withdraw(p, seal.timedOut() ? AbortReason.SEAL_TIMEOUT : AbortReason.SEAL_FAILED, seal.problem());
      }
      Manifest sealed = manifest.withNodes(p.complete(config.engine(), clock.instant(), nanoTime.getAsLong(), held)
          .nodes()).withTimings(manifest.timings().sealedAfter((nanoTime.getAsLong() - committedAt) / 1_000_000));
      try {
        store.recordSeal(sealed);
      } catch (IOException | RuntimeException e) {
        return withdraw(p, AbortReason.SEAL_FAILED, "the sealed manifest could not be written: " + e);
      }
      manifest = sealed;
    }
    failures.success();
    LOG.fine(() -> "job " + config.job() + " epoch " + epoch + ": committed");

    if (vacate) {
      Phase end = broadcast(a -> new AgentRequest.Resume(epoch, true, true), RESUME_TIMEOUT);
      if (!end.ok(AgentReply.Resumed.class)) {
        LOG.warning("job " + config.job() + " epoch " + epoch + ": vacate: " + end.problem());
      }
    }
    if (flush) {
      manifest = local.flushAfterCommit(manifest, vacate);
      local.replicate(manifest, vacate);
    }
    try {
      Map<String, Long> pinned = pins.describe();
      faults.check(FaultPoint.RETENTION, epoch);
      java.util.Set<Long> keepAlso = new java.util.TreeSet<>(pins.epochs());
      local.newestShared().ifPresent(keepAlso::add);
      List<Long> removed = store.retain(config.keep(), keepAlso);
      if (!removed.isEmpty()) {
        LOG.fine(() -> "job " + config.job() + " epoch " + epoch + ": retention removed epochs " + removed
            + (pinned.isEmpty() ? "" : " and kept the pinned " + pinned));
      }
      pins.releaseAll();
    } catch (IOException e) {
      LOG.warning("job " + config.job() + " epoch " + epoch + ": retention failed: " + e);
    }
    local.prune(epoch, pins.epochs());
    return new CheckpointOutcome.Committed(manifest);
  }

  /**
   * The one place that rolls an epoch back: the ranks always go on, the
   * epoch's directory goes away, the previous commit stays the latest.
   */
  private CheckpointOutcome abort(PendingCheckpoint p, AbortReason reason, String detail) {
    long epoch = p.epoch();
    if (reason.isFailure()) {
      LOG.warning("job " + config.job() + " epoch " + epoch + ": aborting: " + reason + ": " + detail);
    } else {
      LOG.info("job " + config.job() + " epoch " + epoch + ": calling it off: " + reason + ": " + detail);
    }
    Phase resume = broadcast(a -> AgentRequest.Resume.proceed(epoch), RESUME_TIMEOUT);
    if (!resume.ok(AgentReply.Resumed.class)) {
      LOG.severe("job " + config.job() + " epoch " + epoch + ": could not resume every node after the abort: "
          + resume.problem());
    }
    try {
      store.abort(epoch);
    } catch (IOException | RuntimeException e) {
      LOG.warning("job " + config.job() + " epoch " + epoch + ": could not delete the aborted epoch: " + e);
    }
    // The failed dump's node-local copy goes now (a full node-local disk would otherwise fail every
    // dump after it); not after a timeout, when an agent may not answer at all.
    if (!reason.beforeDump() && reason != AbortReason.DUMP_TIMEOUT && reason != AbortReason.PERSIST_TIMEOUT
        && reason != AbortReason.SEAL_TIMEOUT) {
      local.prune(epoch, pins.epochs());
    }
    CheckpointOutcome.Aborted aborted = new CheckpointOutcome.Aborted(epoch, reason, detail);
    return reason.isFailure() ? failed(aborted) : aborted;
  }

  /**
   * An epoch committed whose seal failed: it could never be restored, so
   * its manifest and files go (the store's withdraw), and then the abort
   * rolls it back as any other: the ranks go on, and the epoch before,
   * which retention kept, is again the newest.
   */
  private CheckpointOutcome withdraw(PendingCheckpoint p, AbortReason reason, String detail) {
    try {
      store.withdraw(p.epoch());
    } catch (IOException | RuntimeException e) {
      LOG.warning("job " + config.job() + " epoch " + p.epoch() + ": could not withdraw the unsealed epoch (it is"
          + " never restored; retention deletes it): " + e);
    }
    return abort(p, reason, detail);
  }

  /** The Seal round: every node's image gets its digests and crmpid's seal, which p then holds. */
  private Phase seal(PendingCheckpoint p) {
    long epoch = p.epoch();
    Phase seal = broadcast(a -> new AgentRequest.Seal(epoch), config.persistTimeout());
    if (seal.ok(AgentReply.Sealed.class)) {
      p.sealImages(seal.replies().values().stream().map(r -> ((AgentReply.Sealed) r).image()).toList());
    }
    return seal;
  }

  private CheckpointOutcome failed(CheckpointOutcome.Aborted aborted) {
    if (failures.failure()) {
      LOG.severe("job " + config.job() + ": " + failures.consecutive()
          + " checkpoints in a row failed; the job runs on from its last committed checkpoint. Latest: "
          + aborted.describe());
    }
    return aborted;
  }

  private CheckpointOutcome report(CheckpointOutcome outcome) {
    try {
      listener.epochEnded(outcome);
    } catch (RuntimeException e) {
      LOG.warning("job " + config.job() + ": checkpoint listener failed: " + e);
    }
    return outcome;
  }

  private Phase broadcast(Function<AgentChannel, AgentRequest> request, Duration timeout) {
    return Broadcast.send(agents, request, timeout, deadlines);
  }

  private boolean isCommitted(long epoch) {
    try {
      return store.get(epoch).isPresent();
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** The store, for callers that restart from it. */
  public Optional<Manifest> latestCommitted() throws IOException {
    return store.latest();
  }
}
