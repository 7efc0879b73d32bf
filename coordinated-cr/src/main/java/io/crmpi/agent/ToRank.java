package io.crmpi.agent;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** What the agent tells a rank's libcrmpi on the rank channel; {@link #line} is its text on the wire. */
sealed interface ToRank {
  String line();

  /** Start the quiesce of epoch; statePath is where the rank saves drained messages (null: none). */
  record Prepare(long epoch, String statePath) implements ToRank {
    public Prepare {
      if (statePath != null && (statePath.isEmpty() || statePath.matches("(?s).*[\\n\\r\\x00].*"))) {
        throw new IllegalArgumentException("a state path must be one non-empty line: " + statePath);
      }
    }

    @Override
    public String line() {
      return "PREPARE " + epoch + " " + (statePath == null ? "-" : statePath);
    }
  }

  /** Stop at these collective counts (gid to count); a new round when sent again. */
  record Target(long epoch, Map<String, Long> targets) implements ToRank {
    public Target {
      targets = new TreeMap<>(targets);
      targets.keySet().forEach(RankWire::requireGid);
    }

    @Override
    public String line() {
      StringBuilder b = new StringBuilder("TARGET " + epoch);
      targets.forEach((gid, n) -> b.append(' ').append(gid).append('=').append(n));
      return b.toString();
    }
  }

  /** Receive until these counts arrived (a count's peer is the sender's world rank). */
  record Expect(long epoch, List<RankMessage.Count> from) implements ToRank {
    public Expect {
      from = List.copyOf(from);
      from.forEach(c -> RankWire.requireGid(c.gid()));
    }

    @Override
    public String line() {
      StringBuilder b = new StringBuilder("EXPECT " + epoch);
      from.forEach(c -> b.append(' ').append(c.gid()).append(':').append(c.peer()).append('=').append(c.messages()));
      return b.toString();
    }
  }

  /** Every rank is ready: close the channel; the dump follows. */
  record Go(long epoch) implements ToRank {
    @Override
    public String line() {
      return "GO " + epoch;
    }
  }

  /** The epoch is off: run on. */
  record Abort(long epoch) implements ToRank {
    @Override
    public String line() {
      return "ABORT " + epoch;
    }
  }

  /** To a rank that reconnected after epoch: go on, or restart after a restore, or the epoch aborted. */
  record Outcome(RankChannel.Outcome outcome, long epoch) implements ToRank {
    public Outcome {
      Objects.requireNonNull(outcome, "outcome");
    }

    @Override
    public String line() {
      return outcome.name() + " " + epoch;
    }
  }
}
