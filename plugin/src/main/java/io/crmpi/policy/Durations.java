package io.crmpi.policy;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes durations the way people type them on a command line:
 * "45" (seconds), "90s", "5m", "2h", "1h30m", "7d", "500ms". What
 * {@link #format} writes, {@link #parse} reads back.
 */
final class Durations {
  static final String FORMS = "a whole number with units d, h, m, s or ms, like 90s, 5m, 2h or 1h30m,"
      + " or plain seconds like 45";

  private static final Pattern PART = Pattern.compile("(\\d+)(ms|d|h|m|s)");
  private static final Pattern SECONDS = Pattern.compile("\\d+");
  /** Units from largest to smallest; a duration names each at most once, in this order. */
  private static final String[] UNITS = {"d", "h", "m", "s", "ms"};

  private Durations() {}

  /** See {@link CheckpointPolicy#parseDuration(String)}. */
  static Duration parse(String text) {
    return parse(text, "; expected " + FORMS);
  }

  /** Like {@link #parse(String)}; hint ends the message of unreadable input. */
  static Duration parse(String text, String hint) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("empty duration" + hint);
    }
    String s = text.strip().toLowerCase(Locale.ROOT);
    if (s.startsWith("-")) {
      throw new IllegalArgumentException("negative duration: " + text.strip());
    }
    try {
      if (SECONDS.matcher(s).matches()) {
        return Duration.ofSeconds(Long.parseLong(s));
      }
      Duration total = Duration.ZERO;
      int lastUnit = -1;
      Matcher m = PART.matcher(s);
      int at = 0;
      while (at < s.length()) {
        m.region(at, s.length());
        if (!m.lookingAt()) {
          throw new IllegalArgumentException("not a duration: '" + text.strip() + "'" + hint);
        }
        int unit = indexOf(m.group(2));
        if (unit <= lastUnit) {
          throw new IllegalArgumentException("not a duration: '" + text.strip()
              + "' (units must go from largest to smallest, each once)" + hint);
        }
        lastUnit = unit;
        total = total.plus(of(Long.parseLong(m.group(1)), m.group(2)));
        at = m.end();
      }
      return total;
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("duration too large: " + text.strip(), e);
    }
  }

  /**
   * Writes d as hours, minutes, seconds and milliseconds, leaving out the
   * parts that are zero: "1h30m", "2m13s", "1s500ms", "0s".
   */
  static String format(Duration d) {
    if (d.isNegative()) {
      return "-" + format(d.negated());
    }
    if (d.isZero()) {
      return "0s";
    }
    StringBuilder out = new StringBuilder();
    long hours = d.toHours();
    append(out, hours, "h");
    append(out, d.toMinutesPart(), "m");
    append(out, d.toSecondsPart(), "s");
    append(out, d.toMillisPart(), "ms");
    return out.length() == 0 ? "0s" : out.toString();
  }

  private static void append(StringBuilder out, long value, String unit) {
    if (value != 0) {
      out.append(value).append(unit);
    }
  }

  private static int indexOf(String unit) {
    for (int i = 0; i < UNITS.length; i++) {
      if (UNITS[i].equals(unit)) {
        return i;
      }
    }
    throw new AssertionError(unit);
  }

  private static Duration of(long n, String unit) {
    switch (unit) {
      case "d":
        return Duration.ofDays(n);
      case "h":
        return Duration.ofHours(n);
      case "m":
        return Duration.ofMinutes(n);
      case "s":
        return Duration.ofSeconds(n);
      case "ms":
        return Duration.ofMillis(n);
      default:
        throw new AssertionError(unit);
    }
  }
}
