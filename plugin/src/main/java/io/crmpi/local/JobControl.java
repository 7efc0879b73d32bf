package io.crmpi.local;

import io.crmpi.coordinator.CheckpointCoordinator;
import io.crmpi.coordinator.CheckpointOutcome;
import io.crmpi.store.Manifest;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Logger;

/**
 * The requests that drive a running job from outside it (crmpi checkpoint,
 * vacate and suspend on its control socket, SIGUSR1): each takes its
 * checkpoint under the job's lifecycle lock, so it never overlaps a restore
 * or another checkpoint, and remembers whether the job is being vacated or
 * suspended, which decides how the end of its trees ends the run.
 */
final class JobControl {
  private static final Logger LOG = Logger.getLogger(JobControl.class.getName());
  /** How often, and how far apart, the scheduler's vacate is tried when its checkpoint does not commit. */
  static final int SIGNAL_ATTEMPTS = 6;
  static final Duration SIGNAL_RETRY = Duration.ofSeconds(5);

  /** Waits between two tries of a vacate (a test's need not). */
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  private final String job;
  private final ReentrantLock lifecycle;
  private final NodeSlots nodes;
  private final CheckpointCoordinator coordinator;
  private final boolean slurmJob;
  private volatile boolean vacating;
  /** The vacate under way is a suspend: the job stops on this machine, and Slurm is not asked to requeue it. */
  private volatile boolean suspending;

  JobControl(String job, ReentrantLock lifecycle, NodeSlots nodes, CheckpointCoordinator coordinator, boolean slurmJob) {
    this.job = job;
    this.lifecycle = lifecycle;
    this.nodes = nodes;
    this.coordinator = coordinator;
    this.slurmJob = slurmJob;
  }

  /** A vacate (or suspend) committed: the trees end, and the run ends with them. */
  boolean vacating() {
    return vacating;
  }

  boolean suspending() {
    return suspending;
  }

  /**
   * The scheduler's signal to leave (SIGUSR1, before a walltime limit or a
   * preemption): a vacate whose checkpoint does not commit is tried again,
   * up to {@value #SIGNAL_ATTEMPTS} times {@link #SIGNAL_RETRY} apart, while
   * the job runs: a checkpoint can fail for a moment (while mpirun still
   * starts its daemons, a restart, another checkpoint), and the signal
   * comes only once. The last answer is returned.
   */
  ControlAnswer vacateOnSignal(BooleanSupplier jobRuns, Sleeper sleeper) {
    ControlAnswer answer = handle(new ControlCommand.Vacate());
    for (int attempt = 2; attempt <= SIGNAL_ATTEMPTS && answer instanceof ControlAnswer.Refused
        && jobRuns.getAsBoolean(); attempt++) {
      LOG.warning("job " + job + ": the vacate did not commit (" + answer.message() + "); trying again in "
          + SIGNAL_RETRY.toSeconds() + " s (" + attempt + " of " + SIGNAL_ATTEMPTS + ")");
      try {
        sleeper.sleep(SIGNAL_RETRY);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return answer;
      }
      if (!jobRuns.getAsBoolean()) {
        break;
      }
      answer = handle(new ControlCommand.Vacate());
    }
    return answer;
  }

  ControlAnswer handle(ControlCommand command) {
    if (command instanceof ControlCommand.Ping) {
      return new ControlAnswer.Ok("job " + job + " is running");
    }
    boolean suspend = command instanceof ControlCommand.Suspend;
    boolean vacate = command instanceof ControlCommand.Vacate || suspend;
    if (suspend && slurmJob) {
      return new ControlAnswer.Refused("job " + job + " is a Slurm job: its nodes go back to Slurm when it"
          + " stops, so it cannot be suspended on them; 'crmpi vacate' checkpoints it and has Slurm requeue it");
    }
    try {
      if (!lifecycle.tryLock(5, TimeUnit.MINUTES)) {
        return new ControlAnswer.Refused("job " + job + " is busy with a restart or another checkpoint");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new ControlAnswer.Refused("interrupted");
    }
    try {
      if (!nodes.allRunning()) {
        return new ControlAnswer.Refused("job " + job + " has no running node tree right now (it is restarting or"
            + " ending)");
      }
      if (vacate) {
        vacating = true;
        suspending = suspend;
      }
      CheckpointOutcome outcome = suspend ? coordinator.checkpointAndSuspend("suspend")
          : vacate ? coordinator.checkpointAndVacate("vacate") : coordinator.checkpoint("manual");
      if (outcome instanceof CheckpointOutcome.Committed c) {
        Manifest m = c.manifest();
        Long seal = m.timings().sealMillis();
        return new ControlAnswer.Ok(String.format("job %s epoch %d committed: %s in %.2f s (frozen %.2f s)%s%s", job,
            m.epoch(), Units.bytes(m.totalBytes()), m.timings().totalMillis() / 1000.0,
            m.timings().frozenMillis() / 1000.0, seal == null ? "" : String.format(", sealed %.2f s later", seal / 1000.0),
            suspend ? "; the job is suspended" : vacate ? "; the job is vacated" : ""));
      }
      vacating = false; // not vacated: the job runs on
      suspending = false;
      if (outcome instanceof CheckpointOutcome.Aborted a) {
        return new ControlAnswer.Refused("job " + job + " " + a.describe());
      }
      return new ControlAnswer.Refused("job " + job + ": " + ((CheckpointOutcome.Skipped) outcome).why());
    } finally {
      lifecycle.unlock();
    }
  }
}
