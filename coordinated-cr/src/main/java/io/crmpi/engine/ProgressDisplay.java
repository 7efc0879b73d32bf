package io.crmpi.engine;

/**
 * Where the node agent shows how far a long step of its tree has come (a
 * dump, a restore): each step opens a meter, which hears the engine's
 * progress and is closed when the step ends.
 */
@FunctionalInterface
public interface ProgressDisplay {
  /** Shows nothing. */
  ProgressDisplay NONE = what -> new Meter() {
    @Override
    public void at(long bytes, long total) {}

    @Override
    public void close() {}
  };

  /** A meter for one step; what names it (job, epoch, node and step). */
  Meter open(String what);

  /** One step's progress. */
  interface Meter extends ProgressListener, AutoCloseable {
    @Override
    void close();
  }
}
