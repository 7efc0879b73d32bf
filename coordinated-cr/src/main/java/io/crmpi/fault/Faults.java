package io.crmpi.fault;

import java.io.IOException;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The armed fault points of this process, parsed from a CRMPI_FAULTS value
 * such as {@code dump@2,commit@*} or {@code dump@3-} (epoch 3 and later). {@link #check} throws where a fault is
 * armed; with nothing armed it never does.
 */
public final class Faults {
  private static final long ANY = -1;
  private final Map<FaultPoint, Set<Long>> armed;
  private final Map<FaultPoint, Long> from;

  private Faults(Map<FaultPoint, Set<Long>> armed, Map<FaultPoint, Long> from) {
    this.armed = armed;
    this.from = from;
  }

  public static Faults none() {
    return new Faults(new EnumMap<>(FaultPoint.class), new EnumMap<>(FaultPoint.class));
  }

  /** Parses a CRMPI_FAULTS value; null or blank arms nothing. */
  public static Faults parse(String spec) {
    Map<FaultPoint, Set<Long>> armed = new EnumMap<>(FaultPoint.class);
    Map<FaultPoint, Long> from = new EnumMap<>(FaultPoint.class);
    if (spec == null || spec.isBlank()) {
      return new Faults(armed, from);
    }
    for (String item : spec.split(",")) {
      String[] parts = item.strip().split("@", 2);
      FaultPoint point = null;
      for (FaultPoint p : FaultPoint.values()) {
        if (p.key().equals(parts[0])) {
          point = p;
        }
      }
      if (point == null || parts.length != 2) {
        throw new IllegalArgumentException("bad CRMPI_FAULTS item '" + item
            + "': expected NAME@EPOCH, NAME@EPOCH- or NAME@* with NAME one of prepare, dump, commit");
      }
      try {
        if (parts[1].endsWith("-")) {
          from.merge(point, Long.parseLong(parts[1].substring(0, parts[1].length() - 1)), Math::min);
        } else {
          armed.computeIfAbsent(point, k -> new HashSet<>())
              .add(parts[1].equals("*") ? ANY : Long.parseLong(parts[1]));
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad epoch in CRMPI_FAULTS item '" + item + "'");
      }
    }
    return new Faults(armed, from);
  }

  public static Faults fromEnvironment() {
    return parse(System.getenv("CRMPI_FAULTS"));
  }

  /** Throws an IOException when point is armed for epoch. */
  public void check(FaultPoint point, long epoch) throws IOException {
    Set<Long> epochs = armed.get(point);
    Long first = from.get(point);
    if ((epochs != null && (epochs.contains(ANY) || epochs.contains(epoch))) || (first != null && epoch >= first)) {
      throw new IOException("injected fault '" + point.key() + "' at epoch " + epoch);
    }
  }
}
