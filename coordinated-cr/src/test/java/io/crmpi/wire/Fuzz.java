package io.crmpi.wire;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * A small mutation fuzzer for the wires' decoders: from a corpus of valid
 * lines it makes inputs by flipping, dropping, repeating and splicing bytes
 * and tokens, and checks that the decoder either returns a message or
 * throws {@link BadMessage} with a message, never anything else. Fixed
 * seeds always run; then random ones until the budget,
 * {@code -Dcrmpi.fuzz.seconds=N} (default 3), is spent. A failure names its
 * seed and input.
 */
public final class Fuzz {
  private static final long[] SEEDS = {1, 2, 3, 42, 4711, 0xC0FFEEL, -1};
  private static final int PER_SEED = 3000;

  private Fuzz() {}

  /** Runs the fuzzer; returns {tried, decoded, refused}. */
  public static long[] run(String name, List<byte[]> corpus, String[] tokens, Function<byte[], ?> decode) {
    long[] stats = new long[3];
    for (long seed : SEEDS) {
      one(name, seed, PER_SEED, corpus, tokens, decode, stats);
    }
    long budget = Long.getLong("crmpi.fuzz.seconds", 3) * 1_000_000_000L;
    long start = System.nanoTime();
    Random seeds = new Random();
    while (System.nanoTime() - start < budget) {
      one(name, seeds.nextLong(), 500, corpus, tokens, decode, stats);
    }
    System.out.printf("%s fuzz: %d inputs: %d decoded, %d refused as BadMessage%n", name, stats[0], stats[1],
        stats[2]);
    return stats;
  }

  private static void one(String name, long seed, int n, List<byte[]> corpus, String[] tokens,
      Function<byte[], ?> decode, long[] stats) {
    Random r = new Random(seed);
    for (int i = 0; i < n; i++) {
      byte[] input = mutate(r, corpus.get(r.nextInt(corpus.size())), corpus, tokens);
      stats[0]++;
      try {
        if (decode.apply(input) == null) {
          fail(name + ": seed " + seed + ": decoded to null: " + show(input));
        }
        stats[1]++;
      } catch (BadMessage e) {
        if (e.getMessage() == null || e.getMessage().isBlank()) {
          fail(name + ": seed " + seed + ": a BadMessage without a message for " + show(input));
        }
        stats[2]++;
      } catch (RuntimeException | StackOverflowError e) {
        fail(name + ": seed " + seed + ": " + e + " for " + show(input), e);
      }
    }
  }

  public static byte[] mutate(Random r, byte[] seed, List<byte[]> corpus, String[] tokens) {
    List<Byte> b = new ArrayList<>();
    for (byte x : seed) {
      b.add(x);
    }
    int edits = 1 + r.nextInt(4);
    for (int e = 0; e < edits; e++) {
      int at = b.isEmpty() ? 0 : r.nextInt(b.size() + 1);
      switch (r.nextInt(6)) {
        case 0 -> {
          if (!b.isEmpty()) {
            b.set(Math.min(at, b.size() - 1), (byte) r.nextInt(256));
          }
        }
        case 1 -> {
          if (!b.isEmpty()) {
            b.remove(Math.min(at, b.size() - 1));
          }
        }
        case 2 -> {
          for (byte x : tokens[r.nextInt(tokens.length)].getBytes(StandardCharsets.UTF_8)) {
            b.add(at++, x);
          }
        }
        case 3 -> {
          byte[] other = corpus.get(r.nextInt(corpus.size()));
          int from = other.length == 0 ? 0 : r.nextInt(other.length);
          for (int k = from; k < other.length && k < from + 20; k++) {
            b.add(at++, other[k]);
          }
        }
        case 4 -> {
          if (!b.isEmpty()) {
            int len = Math.min(b.size() - Math.min(at, b.size() - 1), 1 + r.nextInt(8));
            int from = Math.min(at, b.size() - 1);
            b.subList(from, from + len).clear();
          }
        }
        default -> {
          String digits = Long.toString(r.nextBoolean() ? r.nextLong() : r.nextInt(3) - 1);
          for (byte x : digits.getBytes(StandardCharsets.US_ASCII)) {
            b.add(at++, x);
          }
        }
      }
    }
    byte[] out = new byte[b.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = b.get(i);
    }
    return out;
  }

  private static String show(byte[] input) {
    return BadMessage.quote(new String(input, StandardCharsets.UTF_8)) + " (" + input.length + " bytes)";
  }
}
