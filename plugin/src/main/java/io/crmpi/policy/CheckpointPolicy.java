package io.crmpi.policy;

import java.text.ParseException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.quartz.CronExpression;

/**
 * When a running job takes its periodic checkpoints: never, at a fixed
 * interval, on a Quartz cron schedule, or automatically at the interval
 * that Young and Daly's formula finds best for the measured checkpoint
 * cost and the expected time between failures. {@link #parse} reads the
 * command-line form; {@link PeriodicCheckpoints} carries a policy out.
 */
public sealed interface CheckpointPolicy {
  /** The accepted command-line forms, for error messages. */
  String FORMS = "none, off, an interval like 90s, 5m, 2h or 1h30m (at least 1s),"
      + " cron:<Quartz cron expression> like cron:0 0/30 * * * ?,"
      + " auto or auto:mtbf=6h[,min=30s,max=6h]";

  /** No periodic checkpoints; checkpoints are taken only on request. */
  record None() implements CheckpointPolicy {}

  /**
   * A checkpoint every {@code every}, the first one {@code every} after the
   * job starts. A checkpoint due while the previous one still runs is
   * skipped.
   */
  record Interval(Duration every) implements CheckpointPolicy {
    public Interval {
      Objects.requireNonNull(every, "every");
      if (every.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException("interval " + Durations.format(every) + " is shorter than 1s");
      }
    }
  }

  /**
   * A checkpoint whenever the Quartz cron expression fires, for example
   * "0 0/30 * * * ?" (on the hour and half hour). The fields are seconds,
   * minutes, hours, day of month, month, day of week and an optional year.
   */
  record Cron(String expression) implements CheckpointPolicy {
    public Cron {
      Objects.requireNonNull(expression, "expression");
      expression = expression.strip();
      if (!CronExpression.isValidExpression(expression)) {
        throw new IllegalArgumentException("'" + expression + "' is not a Quartz cron expression"
            + reason(expression) + "; expected seconds, minutes, hours, day of month, month, day of week"
            + " [, year], like \"0 0/30 * * * ?\"");
      }
    }

    private static String reason(String expression) {
      try {
        CronExpression.validateExpression(expression);
        return "";
      } catch (ParseException e) {
        return " (" + e.getMessage() + ")";
      }
    }
  }

  /**
   * Checkpoints at the interval {@link YoungDaly#interval} computes from the
   * cost of the newest committed checkpoint and the mean time between
   * failures {@code mtbf}, kept within [{@code min}, {@code max}]. Until a
   * checkpoint has been measured the interval is {@link #initialInterval()},
   * which assumes a cost of {@link #ASSUMED_COST}.
   */
  record Auto(Duration mtbf, Duration min, Duration max) implements CheckpointPolicy {
    public static final Duration DEFAULT_MTBF = Duration.ofHours(24);
    public static final Duration DEFAULT_MIN = Duration.ofMinutes(1);
    /** The cost assumed before the first checkpoint has been measured. */
    public static final Duration ASSUMED_COST = Duration.ofSeconds(1);

    public Auto {
      Objects.requireNonNull(mtbf, "mtbf");
      Objects.requireNonNull(min, "min");
      Objects.requireNonNull(max, "max");
      Duration second = Duration.ofSeconds(1);
      if (mtbf.compareTo(second) < 0) {
        throw new IllegalArgumentException("mtbf " + Durations.format(mtbf) + " is shorter than 1s");
      }
      if (min.compareTo(second) < 0) {
        throw new IllegalArgumentException("min " + Durations.format(min) + " is shorter than 1s");
      }
      if (max.compareTo(min) < 0) {
        throw new IllegalArgumentException("max " + Durations.format(max) + " is shorter than min "
            + Durations.format(min));
      }
    }

    /**
     * The given MTBF, a minimum interval of {@link #DEFAULT_MIN} (or the
     * MTBF, if shorter) and a maximum of the MTBF: Daly's estimate never
     * exceeds the MTBF anyway.
     */
    public static Auto withMtbf(Duration mtbf) {
      return new Auto(mtbf, min(DEFAULT_MIN, mtbf), mtbf);
    }

    /** The interval for a checkpoint that cost {@code cost}, to whole seconds, within [min, max]. */
    public Duration intervalFor(Duration cost) {
      Duration tau = YoungDaly.interval(cost, mtbf);
      Duration seconds = Duration.ofSeconds(tau.getSeconds() + (tau.getNano() >= 500_000_000 ? 1 : 0));
      return YoungDaly.clamp(seconds, min, max);
    }

    /** The interval until a checkpoint has been measured: {@code intervalFor(ASSUMED_COST)}. */
    public Duration initialInterval() {
      return intervalFor(ASSUMED_COST);
    }

    private static Duration min(Duration a, Duration b) {
      return a.compareTo(b) <= 0 ? a : b;
    }
  }

  /**
   * Reads a policy as given on the command line: "none" or "off"; an
   * interval like "90s", "5m", "2h" or "1h30m" (see {@link #parseDuration},
   * at least 1s); "cron:" and a Quartz cron expression, like
   * "cron:0 0/30 * * * ?"; "auto" (MTBF 24h) or "auto:mtbf=6h", optionally
   * followed by ",min=30s" and ",max=6h".
   *
   * @throws IllegalArgumentException naming what is wrong and the accepted
   *     forms
   */
  static CheckpointPolicy parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("empty checkpoint policy; accepted: " + FORMS);
    }
    String s = spec.strip();
    String lower = s.toLowerCase(Locale.ROOT);
    try {
      if (lower.equals("none") || lower.equals("off")) {
        return new None();
      }
      if (lower.startsWith("cron:")) {
        return new Cron(s.substring("cron:".length()));
      }
      if (lower.equals("auto")) {
        return Auto.withMtbf(Auto.DEFAULT_MTBF);
      }
      if (lower.startsWith("auto:")) {
        return parseAuto(lower.substring("auto:".length()));
      }
      if (!Character.isDigit(s.charAt(0)) && s.charAt(0) != '-') {
        throw new IllegalArgumentException("neither a policy name nor a duration");
      }
      return new Interval(Durations.parse(s, ""));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("bad checkpoint policy '" + s + "': " + e.getMessage() + "; accepted: "
          + FORMS, e);
    }
  }

  /**
   * Reads a duration as typed on a command line: "45" (seconds), "10s",
   * "5m", "2h", "1h30m", "7d", "500ms". Units go from largest to smallest,
   * each at most once.
   *
   * @throws IllegalArgumentException for negative, empty or unreadable
   *     input, naming it and the accepted forms
   */
  static Duration parseDuration(String text) {
    return Durations.parse(text);
  }

  private static Auto parseAuto(String options) {
    Map<String, Duration> values = new HashMap<>();
    for (String option : options.split(",", -1)) {
      int eq = option.indexOf('=');
      String key = eq < 0 ? option.strip() : option.substring(0, eq).strip();
      if (eq < 0 || !(key.equals("mtbf") || key.equals("min") || key.equals("max"))) {
        throw new IllegalArgumentException("auto option '" + option.strip() + "' is not mtbf=, min= or max=");
      }
      if (values.containsKey(key)) {
        throw new IllegalArgumentException("auto option " + key + " is given twice");
      }
      try {
        values.put(key, Durations.parse(option.substring(eq + 1), ""));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("auto " + key + ": " + e.getMessage(), e);
      }
    }
    Auto defaults = Auto.withMtbf(values.getOrDefault("mtbf", Auto.DEFAULT_MTBF));
    return new Auto(defaults.mtbf(), values.getOrDefault("min", defaults.min()),
        values.getOrDefault("max", defaults.max()));
  }
}
