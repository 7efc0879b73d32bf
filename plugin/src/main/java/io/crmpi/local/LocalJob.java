package io.crmpi.local;

import io.crmpi.agent.NodeAgent;
import io.crmpi.agent.RankChannel;
import io.crmpi.coordinator.CheckpointCoordinator;
import io.crmpi.coordinator.CheckpointOutcome;
import io.crmpi.coordinator.CoordinatorConfig;
import io.crmpi.engine.AppEngine;
import io.crmpi.engine.CriuEngine;
import io.crmpi.engine.Engine;
import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.TreeExit;
import io.crmpi.fault.Faults;
import io.crmpi.nativeio.Criu;
import io.crmpi.nativeio.CriuInstallation;
import io.crmpi.policy.CheckpointPolicy;
import io.crmpi.policy.PeriodicCheckpoints;
import io.crmpi.store.FileCheckpointStore;
import io.crmpi.store.Manifest;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

/**
 * A job in embedded local mode: the coordinator and the one node agent in
 * this JVM. It launches (or restores) the node tree, takes periodic and
 * requested checkpoints, and when the tree fails restores the newest
 * committed epoch that verifies, until the job finishes or has failed more
 * than --max-restarts times.
 */
public final class LocalJob {
  private static final Logger LOG = Logger.getLogger(LocalJob.class.getName());
  static final String NODE = "local";

  private final JobDirectory dir;
  private final JobSpec spec;
  private final Settings settings;
  private final Clock clock = Clock.systemUTC();
  private final BlockingQueue<TreeExit> exits = new LinkedBlockingQueue<>();
  /** Held by a checkpoint and by a restore: they never overlap. */
  private final ReentrantLock lifecycle = new ReentrantLock();
  private final CountDownLatch done = new CountDownLatch(1);
  private volatile boolean stopping;
  private volatile boolean vacating;
  private FileCheckpointStore store;
  private NodeAgent agent;
  private CheckpointCoordinator coordinator;
  private JobHistory history;
  private JobState state;

  /** Tunables of a run; defaults suit a laptop and a cluster alike. */
  public record Settings(Path crmpiNs, Duration prepareTimeout, Duration dumpTimeout, Duration persistTimeout,
      Faults faults, Runnable onVacated) {}

  public LocalJob(JobDirectory dir, JobSpec spec, Settings settings) {
    this.dir = dir;
    this.spec = spec;
    this.settings = settings;
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
    int previousRestarts = restart ? dir.readState().map(JobState::restarts).orElse(0) : 0;
    state = new JobState(JobStatus.RUNNING, ProcessHandle.current().pid(), previousRestarts, -1, "starting",
        dir.controlSocket().toString(), clock.instant());
    store = FileCheckpointStore.open(dir.checkpoints(), spec.name());
    Engine engine = spec.engine().equals("app") ? new AppEngine(settings.crmpiNs())
        : new CriuEngine(Criu.load(CriuInstallation.locate()), settings.crmpiNs());
    Path workdir = Path.of(spec.workdir());
    Set<Path> excluded = dir.dir().startsWith(workdir) ? Set.of(dir.dir()) : Set.of();
    LaunchSpec launch = new LaunchSpec(spec.name(), NODE, spec.command(), workdir, jobEnvironment(),
        dir.runtime(NODE));
    history = new JobHistory(dir.history(), clock, spec.name());
    try (TeeSink sink = new TeeSink(out, err, dir.output())) {
      RankChannel ranks = RankChannel.listen(dir.rankSocket(NODE), spec.name());
      agent = new NodeAgent(launch, engine, sink, settings.faults(), excluded, System::nanoTime, ranks,
          settings.prepareTimeout().multipliedBy(3).dividedBy(4));
      agent.onTreeExit(exits::add);
      coordinator = new CheckpointCoordinator(
          new CoordinatorConfig(spec.name(), engine.name(), spec.keep(), settings.prepareTimeout(),
              settings.dumpTimeout(), settings.persistTimeout()),
          store, List.of(agent), settings.faults(), clock, System::nanoTime, history);
      Thread hook = new Thread(this::stopOnSignal, "crmpi-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      VacateSignal.install(() -> {
        String answer = control("vacate");
        LOG.warning("job " + spec.name() + ": SIGUSR1: " + answer.replaceFirst("^(OK|ERR) ", ""));
      });
      try (ControlServer control = ControlServer.start(dir.controlSocket(), this::control)) {
        return supervise(restart, atMostEpoch);
      } finally {
        agent.kill();
        agent.close();
        done.countDown();
        if (!stopping) {
          Runtime.getRuntime().removeShutdownHook(hook);
        }
      }
    }
  }

  private int supervise(boolean restart, long atMostEpoch) throws IOException {
    saveState("starting");
    // Under the lifecycle lock, like every restore: a checkpoint or vacate requested meanwhile waits for the tree.
    lifecycle.lock();
    try {
      if (restart) {
        restoreOrStart(atMostEpoch, "crmpi restart");
      } else {
        LOG.info("job " + spec.name() + ": starting " + String.join(" ", spec.command()));
        agent.launch();
      }
    } finally {
      lifecycle.unlock();
    }
    saveState("running");
    CheckpointPolicy policy = CheckpointPolicy.parse(spec.policy());
    try (PeriodicCheckpoints periodic = PeriodicCheckpoints.start(spec.name(), policy, this::periodic)) {
      LOG.info("job " + spec.name() + ": checkpoints " + periodic.describe() + ", keeping " + spec.keep());
      while (true) {
        TreeExit exit;
        try {
          exit = exits.take();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return ExitCodes.STOPPED;
        }
        if (vacating && exit.killedByCrmpi()) {
          long epoch = newestCommitted();
          settings.onVacated().run();
          return finish(JobStatus.STOPPED, ExitCodes.VACATED, -1, "vacated after its checkpoint at epoch " + epoch
              + "; 'crmpi restart " + spec.name() + "' resumes it");
        }
        if (stopping || exit.killedByCrmpi()) {
          return finish(JobStatus.STOPPED, ExitCodes.STOPPED, -1, "stopped; 'crmpi restart " + spec.name()
              + "' resumes it from its newest checkpoint");
        }
        if (exit.succeeded()) {
          return finish(JobStatus.SUCCEEDED, ExitCodes.OK, 0, "finished after " + state.restarts()
              + " restart(s)");
        }
        if (state.restarts() >= spec.maxRestarts()) {
          return finish(JobStatus.FAILED, ExitCodes.GAVE_UP, exit.code(), "failed (" + exit.describe()
              + ") and has used all " + spec.maxRestarts() + " restarts (--max-restarts); its checkpoints are"
              + " kept: 'crmpi restart " + spec.name() + "' resumes it");
        }
        state = state.restarted("restarting after " + exit.describe(), clock.instant());
        LOG.warning("job " + spec.name() + ": node tree ended (" + exit.describe() + "); restart "
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
        } finally {
          lifecycle.unlock();
        }
        saveState("running");
      }
    }
  }

  private long lastRestored;

  private long newestCommitted() throws IOException {
    return store.latest().map(Manifest::epoch).orElse(0L);
  }

  /** Restores the newest epoch that verifies and restores; else starts over. */
  private void restoreOrStart(long atMost, String why) throws IOException {
    agent.kill();
    exits.clear();
    RestartPlanner planner = RestartPlanner.newestFirst(store, atMost,
        msg -> LOG.info("job " + spec.name() + " " + msg),
        msg -> LOG.warning("job " + spec.name() + ": " + msg));
    for (Optional<Manifest> m = planner.next(); m.isPresent(); m = planner.next()) {
      long epoch = m.get().epoch();
      NodeImage image = m.get().nodes().stream().filter(n -> n.node().equals(NODE)).findFirst().orElse(null);
      if (image == null) {
        LOG.warning("job " + spec.name() + " epoch " + epoch + ": has no image of node " + NODE + "; skipped");
        continue;
      }
      try {
        LOG.info("job " + spec.name() + " epoch " + epoch + ": restoring (" + why + ")");
        agent.restore(store.epochDir(epoch), epoch, image, msg -> LOG.info("job " + spec.name() + " epoch "
            + epoch + ": " + msg));
        lastRestored = epoch;
        history.restarted(epoch, why);
        LOG.info("job " + spec.name() + " epoch " + epoch + ": restored; the job continues");
        return;
      } catch (IOException e) {
        LOG.warning("job " + spec.name() + " epoch " + epoch + ": restore failed: " + e.getMessage()
            + "; trying the previous epoch");
        agent.kill();
        exits.clear();
      }
    }
    LOG.warning("job " + spec.name() + ": no usable checkpoint; starting the job over from the beginning");
    lastRestored = 0;
    history.restarted(0, why);
    agent.launch();
  }

  private Optional<Duration> periodic(String trigger) {
    if (!lifecycle.tryLock()) {
      LOG.info("job " + spec.name() + ": periodic checkpoint skipped: a checkpoint or restart is running");
      return Optional.empty();
    }
    try {
      if (stopping || !agent.isRunning()) {
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

  private String control(String request) {
    if (request.equals("checkpoint") || request.equals("vacate")) {
      boolean vacate = request.equals("vacate");
      try {
        if (!lifecycle.tryLock(5, TimeUnit.MINUTES)) {
          return "ERR job " + spec.name() + " is busy with a restart or another checkpoint";
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "ERR interrupted";
      }
      try {
        if (!agent.isRunning()) {
          return "ERR job " + spec.name() + " has no running node tree right now (it is restarting or ending)";
        }
        if (vacate) {
          vacating = true;
        }
        CheckpointOutcome outcome = vacate ? coordinator.checkpointAndVacate("vacate")
            : coordinator.checkpoint("manual");
        if (outcome instanceof CheckpointOutcome.Committed c) {
          Manifest m = c.manifest();
          return String.format("OK job %s epoch %d committed: %s in %.2f s (frozen %.2f s)%s", spec.name(),
              m.epoch(), Units.bytes(m.totalBytes()), m.timings().totalMillis() / 1000.0,
              m.timings().frozenMillis() / 1000.0, vacate ? "; the job is vacated" : "");
        }
        vacating = false; // not vacated: the job runs on
        if (outcome instanceof CheckpointOutcome.Aborted a) {
          return "ERR job " + spec.name() + " " + a.describe();
        }
        return "ERR job " + spec.name() + ": " + ((CheckpointOutcome.Skipped) outcome).why();
      } finally {
        lifecycle.unlock();
      }
    }
    if (request.equals("ping")) {
      return "OK job " + spec.name() + " is running";
    }
    return "ERR unknown request '" + request + "'";
  }

  private void stopOnSignal() {
    if (vacating) {
      // A vacate is taking its checkpoint (Slurm sends SIGTERM with the preemption signal): let it finish.
      try {
        done.await(120, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    stopping = true;
    coordinator.close();
    LOG.warning("job " + spec.name() + ": stopping on signal; the node tree is killed, checkpoints are kept");
    agent.kill();
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
    } else {
      LOG.warning("job " + spec.name() + ": " + message);
    }
    return code;
  }

  private void saveState(String message) throws IOException {
    state = state.with(JobStatus.RUNNING, -1, message, clock.instant());
    dir.writeState(state);
  }

  /** The job's environment plus what Open MPI needs inside the node tree. */
  private Map<String, String> jobEnvironment() {
    Map<String, String> env = new HashMap<>(spec.environment());
    env.put("OMPI_MCA_orte_tmpdir_base", dir.runtime(NODE).resolve("session").toString());
    env.put("CRMPI_JOB", spec.name());
    env.put("CRMPI_AGENT_SOCKET", dir.rankSocket(NODE).toString());
    if (io.crmpi.nativeio.Posix.isRoot()) {
      env.putIfAbsent("OMPI_ALLOW_RUN_AS_ROOT", "1");
      env.putIfAbsent("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    }
    return env;
  }
}
