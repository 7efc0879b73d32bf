package io.crmpi.local;

import io.crmpi.nativeio.Posix;
import java.util.logging.Logger;
import sun.misc.Signal;

/**
 * SIGUSR1 to the crmpi process asks for a checkpoint and a vacate: the
 * signal Slurm sends before a walltime limit or a preemption
 * ({@code --signal=B:USR1@T}). It may come at any moment, also while crmpi
 * starts: bin/crmpi starts the JVM with SIGUSR1 blocked (crmpi-ns
 * hold-signal), {@link #hold} installs the handler first thing in main and
 * only then unblocks it, and a request that comes before the job has said
 * what to do ({@link #onSignal}) waits for it. The request runs on its own
 * thread, never in the signal dispatcher.
 */
public final class VacateSignal {
  private static final Logger LOG = Logger.getLogger(VacateSignal.class.getName());
  private static Runnable action;
  private static int pending;

  private VacateSignal() {}

  /**
   * Takes SIGUSR1 from now on (held until {@link #onSignal}), and unblocks
   * it in this thread and the threads it starts (so that the processes
   * crmpi starts get it unblocked too).
   */
  public static void hold() {
    try {
      Signal.handle(new Signal("USR1"), sig -> arrived());
    } catch (IllegalArgumentException e) {
      LOG.warning("SIGUSR1 cannot be handled in this JVM (" + e.getMessage() + "): use 'crmpi vacate'");
      return;
    }
    try {
      Posix.unblockSignal(Posix.SIGUSR1);
    } catch (RuntimeException | LinkageError e) {
      LOG.warning("cannot unblock SIGUSR1 (" + e.getMessage() + "): use 'crmpi vacate'");
    }
  }

  /** What SIGUSR1 does from now on; a signal that came before runs it now. */
  static synchronized void onSignal(Runnable vacate) {
    action = vacate;
    for (; pending > 0; pending--) {
      start(vacate);
    }
  }

  private static synchronized void arrived() {
    if (action == null) {
      pending++;
      LOG.info("SIGUSR1 while crmpi starts: the vacate follows once the job runs");
    } else {
      start(action);
    }
  }

  private static void start(Runnable vacate) {
    Thread t = new Thread(vacate, "crmpi-vacate");
    t.setDaemon(true);
    t.start();
  }
}
