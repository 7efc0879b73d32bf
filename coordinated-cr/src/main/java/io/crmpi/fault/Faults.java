package io.crmpi.fault;

import io.crmpi.nativeio.Posix;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The armed fault points of this process, parsed from a CRMPI_FAULTS value
 * such as {@code dump@2,commit@*}, {@code dump@3-} (epoch 3 and later) or
 * {@code committed@2:kill}. {@link #check} throws where a fault is armed (or,
 * for {@code :kill}, kills this process with SIGKILL); with nothing armed it
 * never does.
 */
public final class Faults {
  /** One armed item: the epochs it fires at, and whether it kills. */
  private record Arm(long epoch, boolean andLater, boolean kill) {
    boolean firesAt(long e) {
      return epoch == ANY || e == epoch || andLater && e >= epoch;
    }
  }

  private static final long ANY = -1;
  private final Map<FaultPoint, List<Arm>> armed;

  private Faults(Map<FaultPoint, List<Arm>> armed) {
    this.armed = armed;
  }

  public static Faults none() {
    return new Faults(new EnumMap<>(FaultPoint.class));
  }

  /** Parses a CRMPI_FAULTS value; null or blank arms nothing. */
  public static Faults parse(String spec) {
    Map<FaultPoint, List<Arm>> armed = new EnumMap<>(FaultPoint.class);
    if (spec == null || spec.isBlank()) {
      return new Faults(armed);
    }
    for (String item : spec.split(",")) {
      String[] parts = item.strip().split("@", 2);
      FaultPoint point = Stream.of(FaultPoint.values()).filter(p -> p.key().equals(parts[0])).findFirst()
          .orElse(null);
      if (point == null || parts.length != 2) {
        throw new IllegalArgumentException("bad CRMPI_FAULTS item '" + item
            + "': expected NAME@EPOCH, NAME@EPOCH- or NAME@*, then optionally :kill, with NAME one of "
            + Stream.of(FaultPoint.values()).map(FaultPoint::key).collect(Collectors.joining(", ")));
      }
      String when = parts[1];
      boolean kill = when.endsWith(":kill");
      if (kill) {
        when = when.substring(0, when.length() - ":kill".length());
      }
      boolean andLater = when.endsWith("-");
      if (andLater) {
        when = when.substring(0, when.length() - 1);
      }
      try {
        long epoch = when.equals("*") && !andLater ? ANY : Long.parseLong(when);
        armed.computeIfAbsent(point, k -> new ArrayList<>()).add(new Arm(epoch, andLater, kill));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad epoch in CRMPI_FAULTS item '" + item + "'");
      }
    }
    return new Faults(armed);
  }

  public static Faults fromEnvironment() {
    return parse(System.getenv("CRMPI_FAULTS"));
  }

  /** Throws an IOException when point is armed for epoch, or kills this process when it is armed to. */
  public void check(FaultPoint point, long epoch) throws IOException {
    for (Arm arm : armed.getOrDefault(point, List.of())) {
      if (arm.firesAt(epoch)) {
        if (arm.kill()) {
          System.err.println("crmpi: injected fault '" + point.key() + "' at epoch " + epoch + ": SIGKILL");
          System.err.flush();
          Posix.kill(ProcessHandle.current().pid(), Posix.SIGKILL);
        }
        throw new IOException("injected fault '" + point.key() + "' at epoch " + epoch);
      }
    }
  }
}
