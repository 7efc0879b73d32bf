package io.crmpi.chunks;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pack file's name: {@code EEEEEEEEEE-NODE-RANDOM.pack}, the epoch whose
 * flush wrote it (ten digits), the node, and 8 random bytes (two flushes of
 * one epoch never share a pack). The epoch is what keeps the sweep away
 * from packs a flush is still writing.
 */
final class PackName {
  private static final Pattern NAME = Pattern.compile("([0-9]{10})-[A-Za-z0-9._-]+-[0-9a-f]{16}\\.pack");
  private static final SecureRandom RANDOM = new SecureRandom();

  private PackName() {}

  static String next(long epoch, String node) {
    byte[] r = new byte[8];
    RANDOM.nextBytes(r);
    String name = String.format("%010d-%s-%s.pack", epoch, node, HexFormat.of().formatHex(r));
    check(name);
    return name;
  }

  /** The epoch in a pack's name, or -1 when the name is not a pack's. */
  static long epoch(String name) {
    Matcher m = NAME.matcher(name);
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  static void check(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("not a pack file's name: " + name);
    }
  }
}
