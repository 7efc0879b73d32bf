package io.crmpi.agent;

import io.crmpi.wire.BadMessage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The rank channel's one parser: a line from libcrmpi (C, text; see
 * agent.c and quiesce.c) becomes a {@link RankMessage}, or a {@link
 * BadMessage} that says what was wrong. Fields are separated by single
 * spaces; numbers are decimal and in range; communicator ids are
 * libcrmpi's ("w", "w.1", "w.1.2": digits and dots, under 64 bytes). Nothing is guessed:
 * a line with a field too many or too few is refused.
 */
final class RankWire {
  private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(RankWire.class.getName());
  /** The longest line a rank may send (a STATE or SENT line lists every communicator and peer). */
  static final int MAX_LINE = 64 << 20;
  /**
   * libcrmpi's communicator ids: "w", then ".N" per derived communicator
   * (pmpi.c); a deeply nested one is cut to 48 characters before its ".N",
   * which can leave a lone "." in it. Digits and dots, under 64 bytes.
   */
  private static final Pattern GID = Pattern.compile("w[.0-9]{0,62}");

  private static final int WARM_UP_ROUNDS = 5_000;

  private RankWire() {}

  /**
   * Parses every kind of rank line and formats every message to the ranks
   * until the JIT has compiled them: a quiesce exchanges a handful of lines
   * per rank per checkpoint, so without this the first checkpoints' quiesce
   * would run as interpreted code while every rank waits. Costs a fraction
   * of a second of one core, once; call it on a background thread.
   */
  static void warmUp() {
    List<String> lines = List.of("HELLO " + RankChannel.ABI_VERSION + " 4242 3 16 NEW", "STATE 7 w=12 w.1=3",
        "SENT 7 1 w:0=18 w:2=4 w.1:5=1", "RAISE 7 w=13", "READY 7", "DECLINED 7 in a critical section", "BYE");
    List<ToRank> out = List.of(new ToRank.Prepare(7, "/warm-up/state"), new ToRank.Target(7, Map.of("w", 12L)),
        new ToRank.Expect(7, List.of(new RankMessage.Count("w", 0, 18))), new ToRank.Go(7), new ToRank.Abort(7));
    int sink = 0;
    for (int i = 0; i < WARM_UP_ROUNDS; i++) {
      for (String line : lines) {
        sink += parse(line).hashCode();
      }
      for (ToRank m : out) {
        sink += m.line().length();
      }
    }
    if (sink == 42) {
      LOG.finest("warm-up done"); // keeps the work from being optimised away
    }
  }

  static void requireGid(String gid) {
    if (gid == null || gid.length() >= 64 || !GID.matcher(gid).matches()) {
      throw new BadMessage("bad communicator id '" + BadMessage.quote(String.valueOf(gid)) + "'");
    }
  }

  static RankMessage parse(String line) {
    String[] f = line.split(" ", -1);
    switch (f[0]) {
      case "HELLO":
        return hello(f);
      case "BYE":
        arity(f, 1, 1);
        return new RankMessage.Bye();
      case "STATE": {
        arity(f, 2, Integer.MAX_VALUE);
        Map<String, Long> entered = new LinkedHashMap<>();
        for (int i = 2; i < f.length; i++) {
          String[] kv = pair(f[i], '=');
          requireGid(kv[0]);
          if (entered.put(kv[0], count(kv[1])) != null) {
            throw new BadMessage("STATE names communicator " + kv[0] + " twice");
          }
        }
        return new RankMessage.State(epoch(f[1]), entered);
      }
      case "SENT": {
        arity(f, 3, Integer.MAX_VALUE);
        List<RankMessage.Count> counts = new ArrayList<>();
        for (int i = 3; i < f.length; i++) {
          String[] kv = pair(f[i], '=');
          String[] gp = pair(kv[0], ':');
          requireGid(gp[0]);
          counts.add(new RankMessage.Count(gp[0], rank(gp[1]), count(kv[1])));
        }
        return valid(() -> new RankMessage.Sent(epoch(f[1]), (int) number(f[2], Integer.MAX_VALUE), counts));
      }
      case "RAISE": {
        arity(f, 3, 3);
        String[] kv = pair(f[2], '=');
        requireGid(kv[0]);
        return new RankMessage.Raise(epoch(f[1]), kv[0], count(kv[1]));
      }
      case "READY":
        arity(f, 2, 2);
        return new RankMessage.Ready(epoch(f[1]));
      case "DECLINED": {
        String[] d = line.split(" ", 3);
        if (d.length < 2) {
          throw new BadMessage("DECLINED without an epoch");
        }
        return new RankMessage.Declined(epoch(d[1]), d.length == 3 ? BadMessage.quote(d[2]) : "");
      }
      default:
        throw new BadMessage("unknown rank message '" + BadMessage.quote(f[0]) + "'");
    }
  }

  /** "HELLO abi pid rank size NEW" or "HELLO abi pid rank size RESUME epoch". */
  private static RankMessage hello(String[] f) {
    arity(f, 2, Integer.MAX_VALUE);
    int abi = (int) number(f[1], Integer.MAX_VALUE);
    if (abi < RankChannel.OLDEST_ABI_VERSION || abi > RankChannel.ABI_VERSION) {
      return new RankMessage.ForeignHello(abi, f.length > 3 ? BadMessage.quote(f[3]) : "?");
    }
    arity(f, 6, 7);
    long resume;
    if (f[5].equals("NEW") && f.length == 6) {
      resume = 0;
    } else if (f[5].equals("RESUME") && f.length == 7) {
      resume = epoch(f[6]);
    } else {
      throw new BadMessage("HELLO must end in NEW or RESUME EPOCH");
    }
    return valid(() -> new RankMessage.Hello(abi, (int) number(f[2], Integer.MAX_VALUE), rank(f[3]),
        (int) number(f[4], Integer.MAX_VALUE), resume));
  }

  private static <T> T valid(java.util.function.Supplier<T> make) {
    try {
      return make.get();
    } catch (IllegalArgumentException e) {
      throw new BadMessage(e.getMessage());
    }
  }

  private static void arity(String[] f, int min, int max) {
    if (f.length < min || f.length > max) {
      throw new BadMessage(f[0] + " with " + (f.length - 1) + " fields");
    }
  }

  private static String[] pair(String s, char sep) {
    int at = s.lastIndexOf(sep);
    if (at <= 0 || at == s.length() - 1) {
      throw new BadMessage("'" + BadMessage.quote(s) + "' is not KEY" + sep + "VALUE");
    }
    return new String[] {s.substring(0, at), s.substring(at + 1)};
  }

  private static long epoch(String s) {
    long e = number(s, Long.MAX_VALUE);
    if (e == 0) {
      throw new BadMessage("epoch 0");
    }
    return e;
  }

  private static int rank(String s) {
    return (int) number(s, Integer.MAX_VALUE - 1);
  }

  private static long count(String s) {
    return number(s, Long.MAX_VALUE);
  }

  /** A decimal number in 0..max, digits only. */
  private static long number(String s, long max) {
    if (s.isEmpty() || s.length() > 19 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new BadMessage("'" + BadMessage.quote(s) + "' is not a number");
    }
    try {
      long v = Long.parseLong(s);
      if (v > max) {
        throw new BadMessage(s + " is out of range");
      }
      return v;
    } catch (NumberFormatException e) {
      throw new BadMessage(s + " is out of range");
    }
  }
}
