package io.crmpi.engine;

/**
 * Hears how far a long engine step (a dump, a restore's staging) has come:
 * bytes done so far, of total (0 when the total is not known). Called from
 * the thread that waits for the step, a few times a second at most.
 */
@FunctionalInterface
public interface ProgressListener {
  ProgressListener NONE = (bytes, total) -> {};

  void at(long bytes, long total);
}
