package io.crmpi.local;

/** The exit codes of the crmpi command. */
public final class ExitCodes {
  /** The job finished, or the command did what was asked. */
  public static final int OK = 0;
  /** crmpi could not do what was asked (a runtime error, named on stderr). */
  public static final int ERROR = 1;
  /** Bad input: a usage error, an unknown job, a missing program. Nothing was changed. */
  public static final int USAGE = 2;
  /** The job failed more often than --max-restarts allows; its checkpoints are kept. */
  public static final int GAVE_UP = 3;
  /** A requested checkpoint was aborted; the job runs on from its previous one. */
  public static final int CHECKPOINT_ABORTED = 4;
  /**
   * The job was checkpointed and vacated ({@code crmpi vacate}, SIGUSR1, as
   * before preemption or walltime); 'crmpi restart' (or a requeue) resumes it.
   */
  public static final int VACATED = 75;
  /** crmpi was stopped by a signal; 'crmpi restart' resumes the job. */
  public static final int STOPPED = 143;

  private ExitCodes() {}
}
