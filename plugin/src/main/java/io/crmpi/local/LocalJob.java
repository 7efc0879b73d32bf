package io.crmpi.local;

import io.crmpi.agent.NodeAgent;
import io.crmpi.engine.JobNetworkPlan;
import io.crmpi.cluster.RemoteSlots;
import io.crmpi.cluster.SlurmAllocation;
import io.crmpi.agent.RankChannel;
import io.crmpi.coordinator.CheckpointCoordinator;
import io.crmpi.coordinator.StoragePlan;
import io.crmpi.coordinator.CheckpointOutcome;
import io.crmpi.coordinator.CoordinatorConfig;
import io.crmpi.coordinator.EpochPins;
import io.crmpi.engine.Engine;
import io.crmpi.engine.TreeExit;
import io.crmpi.fault.Faults;
import io.crmpi.policy.CheckpointPolicy;
import io.crmpi.policy.PeriodicCheckpoints;
import io.crmpi.store.CheckpointStore;
import io.crmpi.store.FileCheckpointStore;
import io.crmpi.store.Manifest;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileLock;
import io.crmpi.workdir.WorkdirWatch;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

/**
 * The supervisor of a job: the coordinator and the batch node's agent in
 * this JVM, and in a multi-node Slurm job one remote agent per other node
 * (their node slots). It launches (or restores) the node trees, takes
 * periodic and requested checkpoints, and when a tree fails restores every
 * slot from the newest committed epoch that verifies, until the job
 * finishes or has failed more than --max-restarts times. A lost node ends
 * the run for Slurm to requeue the job on healthy nodes.
 */
public final class LocalJob {
  /** How long every node may take to flush one epoch from its node-local directory to the state directory. */
  static final Duration FLUSH_TIMEOUT = Duration.ofHours(1);

  private static final Logger LOG = Logger.getLogger(LocalJob.class.getName());
  static final String NODE = "local";
  /** The name of node slot i in a multi-node job. */
  static String slotName(int i) {
    return "node" + i;
  }

  private final JobDirectory dir;
  private final JobSpec spec;
  private final Settings settings;
  private final Clock clock = Clock.systemUTC();
  private final BlockingQueue<SlotExit> exits = new LinkedBlockingQueue<>();
  /** Held by a checkpoint and by a restore: they never overlap. */
  private final ReentrantLock lifecycle = new ReentrantLock();
  private final CountDownLatch done = new CountDownLatch(1);
  /** Counted down once supervise holds the lifecycle lock: a control request from then on waits for the tree. */
  private final CountDownLatch supervising = new CountDownLatch(1);
  private volatile boolean stopping;
  /** Set once the trees run (the control socket opens then); read by a SIGUSR1 only after {@link #supervising}. */
  private volatile JobControl control;
  /** Epochs retention keeps beyond --keep: the one restored from, the last before a failure streak. */
  private final EpochPins pins = new EpochPins();
  private FileCheckpointStore store;
  private CheckpointStore.Scope verifyScope = CheckpointStore.Scope.EVERYTHING;
  private NodeSlots nodes;
  private CheckpointCoordinator coordinator;
  private JobHistory history;
  private JobState state;
  private String resumeWhy = "crmpi restart";
  private String resumeTrigger;

  /** Tunables of a run; defaults suit a laptop and a cluster alike. */
  public record Settings(Path crmpiNs, Duration prepareTimeout, Duration dumpTimeout, Duration persistTimeout,
      Duration restoreProbation, Faults faults, Runnable onVacated) {}

  /** A tree of one slot ended. */
  private record SlotExit(int slot, TreeExit exit) {}

  public LocalJob(JobDirectory dir, JobSpec spec, Settings settings) {
    this.dir = dir;
    this.spec = spec;
    this.settings = settings;
  }

  /**
   * Marks a resuming run as Slurm's requeue of the job (restart count n):
   * its log says so, and its history and metrics count it as a requeue.
   */
  public LocalJob requeuedBySlurm(int n) {
    this.resumeWhy = "requeued by Slurm, restart " + n;
    this.resumeTrigger = JobHistory.REQUEUE;
    return this;
  }

  /**
   * Runs the job to its end.
   *
   * @param restart restore from the newest usable epoch no newer than
   *     atMostEpoch instead of starting afresh
   * @return the exit code of crmpi ({@link ExitCodes})
   */
  public int run(boolean restart, long atMostEpoch, PrintStream out, PrintStream err) throws IOException {
    Optional<FileLock> lock = dir.tryLock();
    if (lock.isEmpty()) {
      long pid = dir.readState().map(JobState::pid).orElse(-1L);
      throw new JobException("job " + spec.name() + " is already running (crmpi pid " + pid
          + "); 'crmpi status " + spec.name() + "' shows it", ExitCodes.USAGE);
    }
    Logs.toFile(dir.log());
    VacateSignal.onSignal(this::vacateOnSignal);
    int previousRestarts = restart ? dir.readState().map(JobState::restarts).orElse(0) : 0;
    state = new JobState(JobStatus.RUNNING, ProcessHandle.current().pid(), previousRestarts, -1, "starting",
        dir.controlSocket().toString(), clock.instant());
    store = FileCheckpointStore.open(dir.checkpoints(), spec.name());
    Engine engine = Engines.forThisUser(spec.engine(), settings.crmpiNs());
    verifyScope = engine.verifiesImages() ? CheckpointStore.Scope.WORKDIR_ONLY : CheckpointStore.Scope.EVERYTHING;
    Path workdir = Path.of(spec.workdir());
    Set<Path> excluded = dir.dir().startsWith(workdir) ? Set.of(dir.dir()) : Set.of();
    int nodeCount = SlurmAllocation.nodeCount(System.getenv());
    JobNetworkPlan network = nodeCount > 1 ? JobNetworkPlan.fromEnvironment(System.getenv()) : null;
    history = new JobHistory(dir.history(), clock, spec.name());
    Duration quiesceTimeout = settings.prepareTimeout().multipliedBy(3).dividedBy(4);
    try (TeeSink sink = new TeeSink(out, err, dir.output())) {
      String slot0 = nodeCount > 1 ? slotName(0) : NODE;
      history.observe(DaemonJobEvents.forThisUser(spec.name(), slot0));
      RankChannel ranks = RankChannel.listen(dir.rankSocket(slot0), spec.name());
      WorkdirWatch written = new WorkdirWatch(spec.name(), workdir, excluded, clock, WorkdirWatch.INTERVAL);
      SlotSpecs slots = new SlotSpecs(spec, dir, nodeCount, network);
      NodeAgent local = new NodeAgent(slots.forSlot(0), engine, sink, settings.faults(),
          written, System::nanoTime, ranks, quiesceTimeout).withProgress(what -> ProgressMeter.standardError(what, 0));
      StoragePlan storage = spec.storage().plan(spec.name(), io.crmpi.nativeio.Posix.uid(), FLUSH_TIMEOUT);
      Path partnerDir = storage.partnerCopy() && nodeCount > 1 ? storage.localJobDir() : null;
      RemoteSlots remotes = null;
      io.crmpi.agent.NodeHandle slot0Handle = local;
      if (nodeCount > 1) {
        SlurmAllocation allocation = SlurmAllocation.current(System.getenv());
        LOG.info("job " + spec.name() + ": " + nodeCount + " nodes " + allocation.hosts() + "; starting the node"
            + " agents");
        remotes = RemoteSlots.start(spec.name(), allocation, slots::forSlot,
            engine.name(), quiesceTimeout, System.getenv().getOrDefault("CRMPI_FAULTS", ""), sink,
            slots.crmpiCommand(), err, partnerDir);
        if (partnerDir != null) {
          slot0Handle = remotes.withPartnerPort(local, partnerDir);
        }
      }
      nodes = new NodeSlots(spec.name(), slot0Handle, remotes);
      java.nio.file.Files.createDirectories(dir.runtime(slot0));
      for (int i = 0; i < nodes.size(); i++) {
        int slot = i;
        nodes.get(slot).onTreeExit(e -> exits.add(new SlotExit(slot, e)));
      }
      coordinator = new CheckpointCoordinator(
          new CoordinatorConfig(spec.name(), engine.name(), spec.keep(), settings.prepareTimeout(),
              settings.dumpTimeout(), settings.persistTimeout(), storage),
          store, List.copyOf(nodes.all()), settings.faults(), clock, System::nanoTime, history, pins);
      control = new JobControl(spec.name(), lifecycle, nodes, coordinator,
          System.getenv().containsKey("SLURM_JOB_ID"));
      Thread hook = new Thread(this::stopOnSignal, "crmpi-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      try (ControlServer controlServer = ControlServer.start(dir.controlSocket(), ControlWire.service(control::handle));
          ControlServer launches = nodeCount > 1
              ? ControlServer.start(dir.launchSocket(slot0), new LaunchService(nodes::launch))
              : null) {
        return supervise(restart, atMostEpoch);
      } finally {
        nodes.close();
        done.countDown();
        if (!stopping) {
          Runtime.getRuntime().removeShutdownHook(hook);
        }
      }
    }
  }

  /**
   * SIGUSR1: checkpoint and vacate. One that comes while the job starts
   * (the signal may come any time after the job began) waits until the job
   * is being started or restored, and then for its tree, like a control
   * request.
   */
  private void vacateOnSignal() {
    try {
      supervising.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    ControlAnswer answer = control.vacateOnSignal(() -> done.getCount() > 0 && !stopping,
        d -> Thread.sleep(d.toMillis()));
    LOG.warning("job " + spec.name() + ": SIGUSR1: " + answer.message());
  }

  private int supervise(boolean restart, long atMostEpoch) throws IOException {
    saveState("starting");
    // Under the lifecycle lock, like every restore: a checkpoint or vacate requested meanwhile waits for the tree.
    lifecycle.lock();
    supervising.countDown();
    try {
      if (restart) {
        try {
          restoreOrStart(atMostEpoch, resumeWhy, resumeTrigger);
        } catch (SlotLostException e) {
          return requeueWithout(e.node());
        }
      } else {
        LOG.info("job " + spec.name() + ": starting " + String.join(" ", spec.command()));
        try {
          nodes.launchAll();
        } catch (IOException | RuntimeException e) {
          // Recorded as failed (not left "running" for status to call dead), with whatever did start gone.
          nodes.killAll();
          return finish(JobStatus.FAILED, ExitCodes.ERROR, -1, "could not start: " + e.getMessage());
        }
      }
    } finally {
      lifecycle.unlock();
    }
    saveState("running");
    CheckpointPolicy policy = CheckpointPolicy.parse(spec.policy());
    try (PeriodicCheckpoints periodic = PeriodicCheckpoints.start(spec.name(), policy, this::periodic)) {
      LOG.info("job " + spec.name() + ": checkpoints " + periodic.describe() + ", keeping " + spec.keep() + "; "
          + spec.storage().plan(spec.name(), io.crmpi.nativeio.Posix.uid(), FLUSH_TIMEOUT).describe());
      while (true) {
        SlotExit slotExit;
        try {
          slotExit = exits.take();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return ExitCodes.STOPPED;
        }
        TreeExit exit = slotExit.exit();
        if (slotExit.slot() != 0 && (exit.killedByCrmpi() || stopping)) {
          continue; // a node tree ended by crmpi itself; slot 0 decides how the run ends
        }
        if (exit.nodeLost()) {
          return requeueWithout(nodes.get(slotExit.slot()).node());
        }
        if (slotExit.slot() != 0 && exit.succeeded()) {
          exit = new TreeExit(1, false); // only the job's own command may end the job
        }
        if (control.vacating() && exit.killedByCrmpi()) {
          // The trees end at the vacate's commit; its flush to the state directory (with a node-local level)
          // runs after that, under the lifecycle lock: the job leaves its nodes only once it is done.
          lifecycle.lock();
          lifecycle.unlock();
          long epoch = newestCommitted();
          if (control.suspending()) {
            return finish(JobStatus.STOPPED, ExitCodes.STOPPED, -1, "suspended after its checkpoint at epoch " + epoch
                + "; 'crmpi resume " + spec.name() + "' resumes it (from its node-local copy, if it has one)");
          }
          // State and log first: the requeue makes Slurm end this process.
          int code = finish(JobStatus.STOPPED, ExitCodes.VACATED, -1, "vacated after its checkpoint at epoch "
              + epoch + "; 'crmpi restart " + spec.name() + "' resumes it");
          settings.onVacated().run();
          return code;
        }
        if (stopping || exit.killedByCrmpi()) {
          return finish(JobStatus.STOPPED, ExitCodes.STOPPED, -1, "stopped; 'crmpi restart " + spec.name()
              + "' resumes it from its newest checkpoint");
        }
        if (exit.succeeded()) {
          nodes.killAll();
          return finish(JobStatus.SUCCEEDED, ExitCodes.OK, 0, "finished after " + state.restarts()
              + " restart(s)");
        }
        if (state.restarts() >= spec.maxRestarts()) {
          return finish(JobStatus.FAILED, ExitCodes.GAVE_UP, exit.code(), "failed (" + exit.describe()
              + ") and has used all " + spec.maxRestarts() + " restarts (--max-restarts); its checkpoints are"
              + " kept: 'crmpi restart " + spec.name() + "' resumes it");
        }
        // Until the job has a newer epoch from a healthy tree, the newest one from before the failures stays.
        pins.pinIfAbsent("the last epoch before the failures", newestCommitted());
        state = state.restarted("restarting after " + exit.describe(), clock.instant());
        LOG.warning("job " + spec.name() + ": node tree of " + nodes.get(slotExit.slot()).node() + " ended ("
            + exit.describe() + "); restart "
            + state.restarts() + " of " + spec.maxRestarts());
        long atMost = Long.MAX_VALUE;
        if (lastRestored > 0 && newestCommitted() <= lastRestored) {
          // The tree restored from that epoch failed again before a newer one was committed: the
          // epoch itself may carry the failure (a restore error, a rank saved while dying), so
          // the next try goes one epoch further back.
          atMost = lastRestored - 1;
          LOG.warning("job " + spec.name() + " epoch " + lastRestored + ": failed again before a newer"
              + " checkpoint; trying older epochs");
        }
        lifecycle.lock();
        try {
          restoreOrStart(atMost, "failure: " + exit.describe());
        } catch (SlotLostException e) {
          return requeueWithout(e.node());
        } finally {
          lifecycle.unlock();
        }
        saveState("running");
      }
    }
  }

  private long lastRestored;

  /** A node is lost: the run ends, and Slurm requeues the job to resume on healthy nodes. */
  private int requeueWithout(String node) throws IOException {
    long epoch = newestCommitted();
    nodes.killAll();
    // State and log first: the requeue makes Slurm end this process.
    int code = finish(JobStatus.STOPPED, ExitCodes.VACATED, -1, "node " + node + " was lost; requeued to resume"
        + " from epoch " + epoch + " on healthy nodes");
    settings.onVacated().run();
    return code;
  }

  private long newestCommitted() throws IOException {
    return store.latest().map(Manifest::epoch).orElse(0L);
  }

  /** Restores the newest epoch that verifies, restores and stays healthy; else starts over. */
  private void restoreOrStart(long atMost, String why) throws IOException {
    restoreOrStart(atMost, why, null);
  }

  private void restoreOrStart(long atMost, String why, String trigger) throws IOException {
    RestoreProbation probation = new RestoreProbation(settings.restoreProbation(), Duration.ofSeconds(3),
        Duration.ofMillis(200), System::nanoTime, d -> Thread.sleep(d.toMillis()));
    lastRestored = new RestoreSequence(spec.name(), store, nodes, probation, pins, history, exits::clear,
        verifyScope)
        .withFaults(settings.faults())
        .restoreOrStart(atMost, why, trigger);
  }

  private Optional<Duration> periodic(String trigger) {
    if (!lifecycle.tryLock()) {
      LOG.info("job " + spec.name() + ": periodic checkpoint skipped: a checkpoint or restart is running");
      return Optional.empty();
    }
    try {
      if (stopping || !nodes.allRunning()) {
        return Optional.empty();
      }
      CheckpointOutcome outcome = coordinator.checkpoint(trigger);
      if (outcome instanceof CheckpointOutcome.Committed c) {
        return Optional.of(Duration.ofMillis(c.manifest().timings().frozenMillis()));
      }
      return Optional.empty();
    } finally {
      lifecycle.unlock();
    }
  }

  private void stopOnSignal() {
    if (control != null && control.vacating()) {
      // A vacate is taking its checkpoint (Slurm sends SIGTERM with the preemption signal): let it finish.
      try {
        done.await(120, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    stopping = true;
    coordinator.close();
    LOG.warning("job " + spec.name() + ": stopping on signal; the node trees are killed, checkpoints are kept");
    nodes.killAll();
    try {
      done.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private int finish(JobStatus status, int code, int jobExit, String message) throws IOException {
    coordinator.close();
    state = state.with(status, jobExit, message, clock.instant());
    dir.writeState(state);
    if (status == JobStatus.SUCCEEDED) {
      LOG.info("job " + spec.name() + ": " + message);
      removeImagesAfterSuccess();
    } else {
      LOG.warning("job " + spec.name() + ": " + message);
    }
    return code;
  }

  /** A job that succeeded needs its images no more: they go, its manifests and history stay. */
  private void removeImagesAfterSuccess() {
    if (spec.keepAfterSuccess()) {
      return;
    }
    // A periodic epoch may still run: its commit after the removal would bring back a manifest whose files are
    // gone (and take away the marker). It ends first.
    coordinator.closeAndAwaitIdle();
    coordinator.dropLocalCopies();
    try {
      long freed = store.removeImages("job " + spec.name() + " succeeded at " + clock.instant()
          + "; its images were removed (crmpi run --keep-after-success keeps them)");
      LOG.info("job " + spec.name() + ": removed its checkpoint images (" + Units.bytes(freed)
          + "); the manifests and the history stay (--keep-after-success keeps the images)");
    } catch (IOException e) {
      LOG.warning("job " + spec.name() + ": could not remove its checkpoint images: " + e.getMessage()
          + " ('crmpi rm " + spec.name() + "' removes the whole job)");
    }
  }

  private void saveState(String message) throws IOException {
    state = state.with(JobStatus.RUNNING, -1, message, clock.instant());
    dir.writeState(state);
  }
}
