package io.crmpi.local;

import java.util.logging.Logger;
import sun.misc.Signal;

/**
 * SIGUSR1 to the crmpi process asks for a checkpoint and a vacate: the
 * signal Slurm sends before a walltime limit or a preemption
 * ({@code --signal=B:USR1@T}). The request runs on its own thread, never
 * in the signal dispatcher.
 */
final class VacateSignal {
  private static final Logger LOG = Logger.getLogger(VacateSignal.class.getName());

  private VacateSignal() {}

  static void install(Runnable vacate) {
    try {
      Signal.handle(new Signal("USR1"), sig -> {
        Thread t = new Thread(vacate, "crmpi-vacate");
        t.setDaemon(true);
        t.start();
      });
    } catch (IllegalArgumentException e) {
      LOG.warning("SIGUSR1 cannot be handled in this JVM (" + e.getMessage() + "): use 'crmpi vacate'");
    }
  }
}
