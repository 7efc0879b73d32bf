package io.crmpi.policy;

import java.time.Duration;

/**
 * The checkpoint interval that wastes the least machine time, given what
 * one checkpoint costs and how often the machine fails. Too few
 * checkpoints lose much work to each failure; too many spend the run
 * writing them. {@link CheckpointPolicy.Auto} uses it to pick its interval
 * from the measured cost of the last checkpoint.
 *
 * <p>With δ the cost of a checkpoint (the time the job stands still) and M
 * the mean time between failures of the whole job:
 *
 * <ul>
 *   <li>Young's first-order estimate (J. W. Young, "A first order
 *       approximation to the optimum checkpoint interval", CACM 1974):
 *       τ = √(2δM).
 *   <li>Daly's higher-order estimate (J. T. Daly, "A higher order estimate
 *       of the optimum checkpoint interval for restart dumps", Future
 *       Generation Computer Systems 22, 2006), for δ &lt; 2M:
 *       τ = √(2δM) · [1 + (1/3)·√(δ/(2M)) + (1/9)·(δ/(2M))] − δ;
 *       and τ = M for δ ≥ 2M (checkpoints cost so much that one per
 *       expected failure is the best that can be done).
 * </ul>
 *
 * <p>In both, τ is the compute time between the end of one checkpoint and
 * the start of the next, and failures arrive as a Poisson process. When δ
 * is small next to M, as it must be for checkpointing to pay, τ is much
 * larger than δ and serves as the period from one checkpoint's start to
 * the next one's.
 */
public final class YoungDaly {
  private YoungDaly() {}

  /**
   * Daly's higher-order optimum interval: √(2δM)·[1 + (1/3)·√(δ/(2M)) +
   * (1/9)·(δ/(2M))] − δ when δ &lt; 2M, else M.
   *
   * @param cost δ, what one checkpoint costs; zero or more
   * @param mtbf M, the mean time between failures; more than zero
   */
  public static Duration interval(Duration cost, Duration mtbf) {
    double delta = seconds(check(cost, mtbf));
    double m = seconds(mtbf);
    if (delta >= 2 * m) {
      return mtbf;
    }
    double ratio = delta / (2 * m);
    double tau = Math.sqrt(2 * delta * m) * (1 + Math.sqrt(ratio) / 3 + ratio / 9) - delta;
    return ofSeconds(Math.max(0, tau));
  }

  /**
   * Young's first-order optimum interval √(2δM).
   *
   * @param cost δ, what one checkpoint costs; zero or more
   * @param mtbf M, the mean time between failures; more than zero
   */
  public static Duration young(Duration cost, Duration mtbf) {
    double delta = seconds(check(cost, mtbf));
    return ofSeconds(Math.sqrt(2 * delta * seconds(mtbf)));
  }

  /** Value, raised to min or lowered to max when it lies outside [min, max]. */
  public static Duration clamp(Duration value, Duration min, Duration max) {
    if (min.compareTo(max) > 0) {
      throw new IllegalArgumentException("min " + Durations.format(min) + " > max " + Durations.format(max));
    }
    if (value.compareTo(min) < 0) {
      return min;
    }
    return value.compareTo(max) > 0 ? max : value;
  }

  private static Duration check(Duration cost, Duration mtbf) {
    if (cost.isNegative()) {
      throw new IllegalArgumentException("cost < 0: " + cost);
    }
    if (mtbf.isNegative() || mtbf.isZero()) {
      throw new IllegalArgumentException("mtbf <= 0: " + mtbf);
    }
    return cost;
  }

  private static double seconds(Duration d) {
    return d.getSeconds() + d.getNano() / 1e9;
  }

  /** Rounded to the nanosecond; saturates instead of overflowing. */
  private static Duration ofSeconds(double s) {
    double whole = Math.floor(s);
    return Duration.ofSeconds((long) whole, Math.round((s - whole) * 1e9));
  }
}
