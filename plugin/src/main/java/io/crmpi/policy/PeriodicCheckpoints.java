package io.crmpi.policy;

import java.text.ParseException;
import java.time.Duration;
import java.util.Date;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.quartz.CronExpression;
import org.quartz.CronScheduleBuilder;
import org.quartz.DisallowConcurrentExecution;
import org.quartz.Job;
import org.quartz.JobBuilder;
import org.quartz.JobExecutionContext;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.SimpleScheduleBuilder;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;
import org.quartz.TriggerListener;
import org.quartz.impl.StdSchedulerFactory;
import org.quartz.impl.matchers.EverythingMatcher;

/**
 * Carries out a {@link CheckpointPolicy} for one running job: it calls the
 * job's {@link CheckpointAction} whenever the policy says a checkpoint is
 * due, from a Quartz scheduler of its own with a single worker thread.
 * Checkpoints never overlap: one that falls due while the previous one is
 * still running is skipped and logged, not queued. Under an
 * {@link CheckpointPolicy.Auto} policy the interval follows the measured
 * cost of each committed checkpoint. Closing it stops the schedule and
 * waits for a running checkpoint to end.
 *
 * <p>Schedules: an interval's first checkpoint comes one interval after
 * {@link #start}; an automatic policy starts at
 * {@link CheckpointPolicy.Auto#initialInterval()} (Young/Daly for an
 * assumed cost of 1s) and, after every committed checkpoint, moves to
 * {@link CheckpointPolicy.Auto#intervalFor} of its cost when that differs
 * from the current interval by more than 10%, counting the new interval
 * from the end of that checkpoint.
 */
public final class PeriodicCheckpoints implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(PeriodicCheckpoints.class.getName());
  /**
   * Quartz logs a banner at INFO each time a scheduler starts or stops; a
   * job's log needs only its warnings. Kept in a field because the logging
   * framework holds loggers weakly; a level set in the logging
   * configuration wins.
   */
  private static final Logger QUARTZ_LOG = quietQuartz();
  /** How late Quartz may start a checkpoint before it counts as skipped. */
  static final long MISFIRE_THRESHOLD_MILLIS = 1000;
  private static final AtomicLong INSTANCES = new AtomicLong();
  private static final JobKey JOB = JobKey.jobKey("checkpoint", "crmpi");
  private static final TriggerKey TRIGGER = TriggerKey.triggerKey("periodic", "crmpi");

  private final String job;
  private final CheckpointPolicy policy;
  private final CheckpointAction action;
  /** Null under {@link CheckpointPolicy.None}. */
  private final Scheduler scheduler;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** The period of the trigger; null for cron and none. */
  private volatile Duration interval;
  /** When the newest checkpoint ended, on Quartz's clock (epoch millis). */
  private volatile long lastEnd = Long.MIN_VALUE;
  /** Held while the action runs; close() takes it to wait for a running checkpoint. */
  private final ReentrantLock checkpointing = new ReentrantLock();

  private PeriodicCheckpoints(String job, CheckpointPolicy policy, CheckpointAction action, Scheduler scheduler) {
    this.job = job;
    this.policy = policy;
    this.action = action;
    this.scheduler = scheduler;
  }

  /**
   * Starts carrying out policy for the named job.
   *
   * @throws IllegalArgumentException when job is blank or a cron policy
   *     would never fire again
   * @throws IllegalStateException when Quartz cannot be started
   */
  public static PeriodicCheckpoints start(String job, CheckpointPolicy policy, CheckpointAction action) {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(policy, "policy");
    Objects.requireNonNull(action, "action");
    if (job.isBlank()) {
      throw new IllegalArgumentException("job name is blank");
    }
    if (policy instanceof CheckpointPolicy.None) {
      return new PeriodicCheckpoints(job, policy, action, null);
    }
    Trigger trigger;
    Duration first = null;
    if (policy instanceof CheckpointPolicy.Cron) {
      trigger = cronTrigger(((CheckpointPolicy.Cron) policy).expression());
    } else {
      first = policy instanceof CheckpointPolicy.Interval
          ? ((CheckpointPolicy.Interval) policy).every()
          : ((CheckpointPolicy.Auto) policy).initialInterval();
      trigger = simpleTrigger(first);
    }
    Scheduler scheduler = null;
    try {
      scheduler = new StdSchedulerFactory(quartzProperties(job)).getScheduler();
      PeriodicCheckpoints periodic = new PeriodicCheckpoints(job, policy, action, scheduler);
      periodic.interval = first;
      scheduler.setJobFactory((bundle, s) -> new CheckpointJob(periodic));
      scheduler.getListenerManager().addTriggerListener(periodic.new SkipLogger(), EverythingMatcher.allTriggers());
      scheduler.scheduleJob(JobBuilder.newJob(CheckpointJob.class).withIdentity(JOB).storeDurably().build(), trigger);
      scheduler.start();
      LOG.fine(() -> "job " + job + ": periodic checkpoints " + periodic.describe());
      return periodic;
    } catch (SchedulerException e) {
      if (scheduler != null) {
        try {
          scheduler.shutdown(false);
        } catch (SchedulerException ignored) {
          // Reporting the first failure matters more.
        }
      }
      throw new IllegalStateException("job " + job + ": cannot start periodic checkpoints: " + e.getMessage(), e);
    }
  }

  /** The current period between checkpoints; empty for cron and none. */
  public Optional<Duration> currentInterval() {
    return Optional.ofNullable(interval);
  }

  /**
   * The schedule in words: "none", "every 5s", "cron 0 0/30 * * * ?",
   * "auto (Young/Daly, MTBF 24h): every 2m13s".
   */
  public String describe() {
    if (policy instanceof CheckpointPolicy.Cron) {
      return "cron " + ((CheckpointPolicy.Cron) policy).expression();
    }
    if (policy instanceof CheckpointPolicy.Auto) {
      return "auto (Young/Daly, MTBF " + Durations.format(((CheckpointPolicy.Auto) policy).mtbf()) + "): every "
          + Durations.format(interval);
    }
    if (policy instanceof CheckpointPolicy.Interval) {
      return "every " + Durations.format(interval);
    }
    return "none";
  }

  /**
   * Stops the schedule and waits for a running checkpoint to end (unless
   * called from within that checkpoint). No checkpoint starts after it
   * returns. Calling it again does nothing.
   */
  @Override
  public void close() {
    if (scheduler == null || !closed.compareAndSet(false, true)) {
      return;
    }
    try {
      // Not shutdown(true): Quartz's idle workers poll every 500ms, and waiting on them slows every close.
      scheduler.shutdown(false);
    } catch (SchedulerException e) {
      LOG.log(Level.WARNING, "job " + job + ": stopping periodic checkpoints failed: " + e.getMessage(), e);
    }
    checkpointing.lock();
    checkpointing.unlock();
  }

  /** True when the interval moves by more than 10% from current to next. */
  static boolean changedEnough(Duration current, Duration next) {
    return next.minus(current).abs().multipliedBy(10).compareTo(current) > 0;
  }

  /** Runs on the scheduler's worker thread, one call at a time. */
  private void fired(Date scheduled) {
    if (scheduled != null && scheduled.getTime() < lastEnd) {
      // Due while the previous checkpoint ran, yet within Quartz's misfire threshold.
      logSkipped();
      return;
    }
    Optional<Duration> cost = Optional.empty();
    checkpointing.lock();
    try {
      if (closed.get()) {
        return;
      }
      cost = action.checkpoint("periodic");
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "job " + job + ": periodic checkpoint failed: " + e, e);
    } finally {
      lastEnd = System.currentTimeMillis();
      checkpointing.unlock();
    }
    if (policy instanceof CheckpointPolicy.Auto && cost != null && cost.isPresent()) {
      adapt((CheckpointPolicy.Auto) policy, cost.get());
    }
  }

  private void adapt(CheckpointPolicy.Auto auto, Duration cost) {
    Duration current = interval;
    Duration next = auto.intervalFor(cost);
    if (!changedEnough(current, next) || closed.get()) {
      return;
    }
    try {
      scheduler.rescheduleJob(TRIGGER, simpleTrigger(next));
      interval = next;
      LOG.info("job " + job + ": checkpoint cost " + Durations.format(cost) + ", MTBF " + Durations.format(auto.mtbf())
          + ": periodic checkpoints now every " + Durations.format(next) + " (Young/Daly, was "
          + Durations.format(current) + ")");
    } catch (SchedulerException e) {
      if (!closed.get()) {
        LOG.log(Level.WARNING, "job " + job + ": cannot change the checkpoint interval to " + Durations.format(next)
            + ": " + e.getMessage(), e);
      }
    }
  }

  private void logSkipped() {
    LOG.warning("job " + job + ": periodic checkpoint skipped: the previous one is still running");
  }

  private static Trigger simpleTrigger(Duration every) {
    long millis = every.toMillis();
    return TriggerBuilder.newTrigger()
        .withIdentity(TRIGGER)
        .forJob(JOB)
        .startAt(new Date(System.currentTimeMillis() + millis))
        .withSchedule(SimpleScheduleBuilder.simpleSchedule()
            .withIntervalInMilliseconds(millis)
            .repeatForever()
            .withMisfireHandlingInstructionNextWithRemainingCount())
        .build();
  }

  private static Trigger cronTrigger(String expression) {
    try {
      if (new CronExpression(expression).getNextValidTimeAfter(new Date()) == null) {
        throw new IllegalArgumentException("cron expression '" + expression + "' never fires after now");
      }
    } catch (ParseException e) {
      throw new IllegalArgumentException("'" + expression + "' is not a Quartz cron expression: " + e.getMessage(), e);
    }
    return TriggerBuilder.newTrigger()
        .withIdentity(TRIGGER)
        .forJob(JOB)
        .withSchedule(CronScheduleBuilder.cronSchedule(expression).withMisfireHandlingInstructionDoNothing())
        .build();
  }

  private static Logger quietQuartz() {
    Logger quartz = Logger.getLogger("org.quartz");
    if (quartz.getLevel() == null) {
      quartz.setLevel(Level.WARNING);
    }
    return quartz;
  }

  private static Properties quartzProperties(String job) {
    Properties p = new Properties();
    p.setProperty("org.quartz.scheduler.instanceName", "crmpi-checkpoints-" + job + "-" + INSTANCES.incrementAndGet());
    p.setProperty("org.quartz.scheduler.instanceId", "NON_CLUSTERED");
    p.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
    p.setProperty("org.quartz.scheduler.jmx.export", "false");
    p.setProperty("org.quartz.scheduler.rmi.export", "false");
    // Daemon threads: a supervisor that forgets close() must still be able to exit.
    p.setProperty("org.quartz.scheduler.makeSchedulerThreadDaemon", "true");
    p.setProperty("org.quartz.threadPool.class", "org.quartz.simpl.SimpleThreadPool");
    p.setProperty("org.quartz.threadPool.threadCount", "1");
    p.setProperty("org.quartz.threadPool.makeThreadsDaemons", "true");
    p.setProperty("org.quartz.threadPool.threadNamePrefix", "crmpi-checkpoints-" + job);
    p.setProperty("org.quartz.jobStore.class", "org.quartz.simpl.RAMJobStore");
    p.setProperty("org.quartz.jobStore.misfireThreshold", Long.toString(MISFIRE_THRESHOLD_MILLIS));
    return p;
  }

  /**
   * The Quartz job. Quartz never runs two of it at once; a trigger due
   * meanwhile stays blocked and, once later than the misfire threshold,
   * is skipped by its misfire instruction and reported to {@link SkipLogger}.
   * Built by the scheduler's job factory, which hands it its owner.
   */
  @DisallowConcurrentExecution
  private static final class CheckpointJob implements Job {
    private final PeriodicCheckpoints owner;

    CheckpointJob(PeriodicCheckpoints owner) {
      this.owner = owner;
    }

    @Override
    public void execute(JobExecutionContext context) {
      owner.fired(context.getScheduledFireTime());
    }
  }

  /** Logs the checkpoints that Quartz skipped through a misfire instruction. */
  private final class SkipLogger implements TriggerListener {
    @Override
    public String getName() {
      return "crmpi-skipped-checkpoints";
    }

    @Override
    public void triggerMisfired(Trigger trigger) {
      // Quartz passes the trigger as it was before skipping: its next fire time is the one missed.
      Date missed = trigger.getNextFireTime();
      if (checkpointing.isLocked() || missed == null || missed.getTime() < lastEnd) {
        logSkipped();
      } else {
        LOG.warning("job " + job + ": periodic checkpoint skipped: it was due " + Durations.format(
            Duration.ofMillis(System.currentTimeMillis() - missed.getTime())) + " ago and the scheduler was held up");
      }
    }

    @Override
    public void triggerFired(Trigger trigger, JobExecutionContext context) {}

    @Override
    public boolean vetoJobExecution(Trigger trigger, JobExecutionContext context) {
      return false;
    }

    @Override
    public void triggerComplete(Trigger trigger, JobExecutionContext context,
        Trigger.CompletedExecutionInstruction instruction) {}
  }
}
