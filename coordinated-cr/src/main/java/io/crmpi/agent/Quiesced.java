package io.crmpi.agent;

/**
 * How one node's quiesce went: how many ranks, and how long each of its
 * rounds took (nanoseconds), for the log and the quiesce benchmark.
 *
 * @param ranks the ranks quiesced (0: none carries libcrmpi, no rounds ran)
 * @param stateNanos from PREPARE until every rank reported its collectives
 * @param cutNanos from TARGET until every rank stopped at the cut and reported what it sent
 * @param drainNanos from EXPECT until every rank drained and ran its callbacks (READY)
 * @param disconnectNanos from GO until every rank closed its connection
 */
public record Quiesced(int ranks, long stateNanos, long cutNanos, long drainNanos, long disconnectNanos) {
  static final Quiesced NONE = new Quiesced(0, 0, 0, 0, 0);

  public long totalNanos() {
    return stateNanos + cutNanos + drainNanos + disconnectNanos;
  }

  /** "in 43 ms (state 2, cut 30, drain 6, disconnect 5)". */
  public String describe() {
    return "in " + ms(totalNanos()) + " ms (state " + ms(stateNanos) + ", cut " + ms(cutNanos) + ", drain "
        + ms(drainNanos) + ", disconnect " + ms(disconnectNanos) + ")";
  }

  private static long ms(long nanos) {
    return nanos / 1_000_000;
  }
}
