package io.crmpi.daemon;

import io.crmpi.wire.BadMessage;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes crmpid's request decoder: whatever bytes a local user sends, decode
 * either gives a valid request or throws {@link BadMessage} (with a
 * message) -- never another exception or error.
 *
 * <p>A fixed list of seeds always runs; then random seeds run until the time
 * budget, {@code -Dcrmpi.fuzz.seconds=N} (default 20), is spent. A failure
 * names its seed and input; {@code -Dcrmpi.fuzz.seed=S} replays one seed alone.
 */
class DaemonWireFuzzTest {
  private static final long[] SEEDS = {1, 2, 3, 5, 8, 13, 42, 4711, 1234567, 0xC0FFEEL, 0xDEADBEEFL, -1};
  private static final int PER_SEED = 2500;
  private static final int PER_TIMED_SEED = 2000;
  private final DaemonFuzzInputs inputs = new DaemonFuzzInputs();

  /** What one run found; the first failure stops it. */
  private static final class Stats {
    long tried;
    long decoded;
    long refused;
    long specNamesRefusedOnlyByTree;
    long notItselfAtFirst;
    String failure;
  }

  @Test
  void anyRequestLineEitherDecodesToAValidRequestOrIsABadMessage() {
    String replay = System.getProperty("crmpi.fuzz.seed");
    double seconds = Double.parseDouble(System.getProperty("crmpi.fuzz.seconds", "20"));
    long start = System.nanoTime();
    long deadline = start + (long) (seconds * 1e9);
    Stats stats = new Stats();
    long fixed;
    if (replay != null) {
      run(Long.decode(replay), PER_TIMED_SEED, DaemonRequest.class, stats);
      fixed = stats.tried;
    } else {
      for (long seed : SEEDS) {
        run(seed, PER_SEED, DaemonRequest.class, stats);
      }
      fixed = stats.tried;
      Random seeds = new Random();
      while (stats.failure == null && System.nanoTime() < deadline) {
        run(seeds.nextLong(), PER_TIMED_SEED, DaemonRequest.class, stats);
      }
    }
    double took = (System.nanoTime() - start) / 1e9;
    System.out.printf("DaemonWire request fuzz: %d inputs tried (%d from the fixed seeds, %d timed) in %.1f s:"
            + " %d decoded to valid requests, %d refused as BadMessage; %d of the decoded ones had a LaunchSpec"
            + " whose job/node names only tree() refuses, %d read back as an equal request only after one"
            + " more round (unnormalized paths)%n",
        stats.tried, fixed, stats.tried - fixed, took, stats.decoded, stats.refused,
        stats.specNamesRefusedOnlyByTree, stats.notItselfAtFirst);
    if (stats.failure != null) {
      fail(stats.failure);
    }
  }

  @Test
  void anyReplyLineEitherDecodesToAReplyOrIsABadMessage() {
    Stats stats = new Stats();
    for (long seed : SEEDS) {
      run(seed, 1000, DaemonReply.class, stats);
    }
    System.out.printf("DaemonWire reply fuzz: %d inputs tried: %d decoded, %d refused as BadMessage%n",
        stats.tried, stats.decoded, stats.refused);
    if (stats.failure != null) {
      fail(stats.failure);
    }
  }

  private void run(long seed, int count, Class<?> sealed, Stats stats) {
    Random r = new Random(seed);
    for (int i = 0; i < count && stats.failure == null; i++) {
      byte[] input = inputs.next(r);
      stats.tried++;
      String why = check(input, sealed, stats);
      if (why != null) {
        stats.failure = "seed " + seed + " (replay with -Dcrmpi.fuzz.seed=" + seed + "), input #" + i + " ("
            + input.length + " bytes): " + why + "\ninput: " + show(input);
      }
    }
  }

  /** Null when the decoder behaved, else what it did wrong. */
  private static String check(byte[] input, Class<?> sealed, Stats stats) {
    Object decoded;
    try {
      decoded = DaemonWire.decode(input, sealed);
    } catch (BadMessage e) {
      if (e.getMessage() == null || e.getMessage().isBlank()) {
        return "a BadMessage without a message";
      }
      stats.refused++;
      return null;
    } catch (Throwable t) {
      return "threw " + trace(t);
    }
    if (!sealed.isInstance(decoded)) {
      return "decoded to " + (decoded == null ? "null" : decoded.getClass()) + ", not a " + sealed.getSimpleName();
    }
    try {
      if (decoded instanceof DaemonRequest q) {
        try {
          q.tree();
        } catch (IllegalArgumentException e) {
          if (!(q instanceof DaemonRequest.Launch || q instanceof DaemonRequest.Restore
              || q instanceof DaemonRequest.Fence)) {
            return "decoded " + decoded + ", whose tree() throws " + e;
          }
          // the known gap (DaemonWireTest.aSpecWithABadTreeNameIsRefusedByTheDecoder): counted, not failed
          stats.specNamesRefusedOnlyByTree++;
        }
      }
      // a valid message writes and reads back as a message of its type; and once written, as itself. (Not
      // always as itself the first time: the JDK makes file:///a/b// the unnormalized Path "/a/b/", written
      // back as file:///a/b/, which reads as "/a/b" -- see DaemonWireTest.aPathFromTheWireIsNormalized.)
      Object again = DaemonWire.decode(DaemonSamples.line(decoded), sealed);
      if (again.getClass() != decoded.getClass()) {
        return "decoded " + decoded + ", which reads back as " + again;
      }
      if (!DaemonSamples.same(decoded, again)) {
        stats.notItselfAtFirst++;
        Object third = DaemonWire.decode(DaemonSamples.line(again), sealed);
        if (!DaemonSamples.same(again, third)) {
          return "decoded " + decoded + ", which reads back as " + again + " and then as " + third;
        }
      }
    } catch (Throwable t) {
      return "decoded " + decoded + ", which does not write and read back: " + trace(t);
    }
    stats.decoded++;
    return null;
  }

  // ---- reporting ----

  private static String show(byte[] b) {
    StringBuilder s = new StringBuilder();
    int n = Math.min(b.length, 4000);
    for (int i = 0; i < n; i++) {
      int c = b[i] & 0xff;
      if (c >= 0x20 && c < 0x7f && c != '\\') {
        s.append((char) c);
      } else {
        s.append(String.format("\\x%02x", c));
      }
    }
    return n < b.length ? s + "... (" + (b.length - n) + " more bytes)" : s.toString();
  }

  private static String trace(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    String s = w.toString();
    return s.length() > 6000 ? s.substring(0, 6000) + "..." : s;
  }
}
