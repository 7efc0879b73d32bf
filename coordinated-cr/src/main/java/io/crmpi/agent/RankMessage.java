package io.crmpi.agent;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a rank's libcrmpi says on the rank channel, parsed and validated by
 * {@link RankWire#parse} (the wire is text, written by C).
 */
sealed interface RankMessage {
  /** A message about one epoch's quiesce. */
  sealed interface OfEpoch extends RankMessage {
    long epoch();
  }

  /**
   * "HELLO abi pid rank size NEW" or "... RESUME epoch": a rank connects,
   * at MPI_Init or after a dump or restore of resumeEpoch (0 when new). abi
   * is one this agent speaks ({@link RankChannel#OLDEST_ABI_VERSION} to
   * {@link RankChannel#ABI_VERSION}).
   */
  record Hello(int abi, int pid, int rank, int size, long resumeEpoch) implements RankMessage {
    public Hello {
      if (abi < RankChannel.OLDEST_ABI_VERSION || abi > RankChannel.ABI_VERSION) {
        throw new IllegalArgumentException("HELLO of libcrmpi ABI " + abi + ", which this agent does not speak");
      }
      if (pid <= 0 || size <= 0 || rank < 0 || rank >= size || resumeEpoch < 0) {
        throw new IllegalArgumentException("HELLO out of range: pid " + pid + ", rank " + rank + " of " + size
            + ", epoch " + resumeEpoch);
      }
    }
  }

  /** A HELLO of a libcrmpi ABI this agent does not speak: nothing else of it can be trusted to parse. */
  record ForeignHello(int abi, String rank) implements RankMessage {}

  /** "BYE": the rank finalized. */
  record Bye() implements RankMessage {}

  /** "STATE epoch gid=n ...": the collectives the rank entered per communicator. */
  record State(long epoch, Map<String, Long> entered) implements OfEpoch {
    public State {
      entered = Map.copyOf(entered);
    }
  }

  /** "SENT epoch round gid:peer=n ...": the rank's cumulative sent counts after target round. */
  record Sent(long epoch, int round, List<Count> counts) implements OfEpoch {
    public Sent {
      if (round <= 0) {
        throw new IllegalArgumentException("SENT round <= 0: " + round);
      }
      counts = List.copyOf(counts);
    }
  }

  /** Messages sent on communicator gid to world rank peer. */
  record Count(String gid, int peer, long messages) {
    public Count {
      Objects.requireNonNull(gid, "gid");
    }
  }

  /** "RAISE epoch gid=n": inside a critical section, the rank must reach collective n of gid first. */
  record Raise(long epoch, String gid, long collectives) implements OfEpoch {}

  /** "READY epoch": the rank drained its messages and ran its checkpoint callbacks. */
  record Ready(long epoch) implements OfEpoch {}

  /** "DECLINED epoch why": the rank cannot take this checkpoint. */
  record Declined(long epoch, String why) implements OfEpoch {}
}
