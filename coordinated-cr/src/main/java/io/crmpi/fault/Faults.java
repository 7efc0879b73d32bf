package io.crmpi.fault;

import io.crmpi.engine.ProcessTree;
import io.crmpi.nativeio.Posix;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The armed fault points of this process, parsed from a CRMPI_FAULTS value
 * such as {@code dump@2,commit@*}, {@code dump@3-} (epoch 3 and later),
 * {@code committed@2:kill} or {@code persist@2:killrank}. {@link #check}
 * throws where a fault is armed; with {@code :kill} it kills this process
 * with SIGKILL instead; with {@code :killrank} it kills one rank of the node
 * tree (its first leaf process) with SIGKILL and lets the step go on; with
 * {@code :stop} it stops this process with SIGSTOP where it stands (and, if
 * continued, this thread never goes on), for a test that then takes its
 * whole node away ({@code agent:dump@2:stop}). With
 * nothing armed it never does anything.
 */
public final class Faults {
  /** What an armed point does when it fires. */
  private enum Action { FAIL, KILL, KILL_RANK, STOP }

  /** The kind of process whose faults are armed. */
  public enum Role {
    /** {@code crmpi run}: the coordinator and the first node's agent. */
    COORDINATOR,
    /** {@code crmpi agent}: the agent of another node. */
    AGENT
  }

  /** One armed item: the epochs it fires at, and what it does. */
  private record Arm(long epoch, boolean andLater, Action action) {
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

  /** Parses a CRMPI_FAULTS value for the coordinator's process; null or blank arms nothing. */
  public static Faults parse(String spec) {
    return parse(spec, Role.COORDINATOR);
  }

  /** Parses a CRMPI_FAULTS value, arming the items for role (and those without a scope). */
  public static Faults parse(String spec, Role role) {
    Map<FaultPoint, List<Arm>> armed = new EnumMap<>(FaultPoint.class);
    if (spec == null || spec.isBlank()) {
      return new Faults(armed);
    }
    for (String raw : spec.split(",")) {
      String item = raw.strip();
      Role scope = null;
      for (Role r : Role.values()) {
        String prefix = r.name().toLowerCase(java.util.Locale.ROOT) + ":";
        if (item.startsWith(prefix)) {
          scope = r;
          item = item.substring(prefix.length());
        }
      }
      String[] parts = item.split("@", 2);
      FaultPoint point = Stream.of(FaultPoint.values()).filter(p -> p.key().equals(parts[0])).findFirst()
          .orElse(null);
      if (point == null || parts.length != 2) {
        throw new IllegalArgumentException("bad CRMPI_FAULTS item '" + item
            + "': expected [agent:|coordinator:]NAME@EPOCH, NAME@EPOCH- or NAME@*, then optionally :kill,"
            + " :killrank or :stop, with NAME one of "
            + Stream.of(FaultPoint.values()).map(FaultPoint::key).collect(Collectors.joining(", ")));
      }
      String when = parts[1];
      Action action = Action.FAIL;
      if (when.endsWith(":kill")) {
        action = Action.KILL;
        when = when.substring(0, when.length() - ":kill".length());
      } else if (when.endsWith(":stop")) {
        action = Action.STOP;
        when = when.substring(0, when.length() - ":stop".length());
      } else if (when.endsWith(":killrank")) {
        action = Action.KILL_RANK;
        when = when.substring(0, when.length() - ":killrank".length());
      }
      boolean andLater = when.endsWith("-");
      if (andLater) {
        when = when.substring(0, when.length() - 1);
      }
      try {
        long epoch = when.equals("*") && !andLater ? ANY : Long.parseLong(when);
        if (scope == null || scope == role) {
          armed.computeIfAbsent(point, k -> new ArrayList<>()).add(new Arm(epoch, andLater, action));
        }
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
    check(point, epoch, () -> 0);
  }

  /**
   * As {@link #check(FaultPoint, long)}, at a point where a node tree runs:
   * a {@code :killrank} item kills the first leaf process under treeInit
   * (0: no tree) with SIGKILL, says so, and returns.
   */
  public void check(FaultPoint point, long epoch, LongSupplier treeInit) throws IOException {
    for (Arm arm : armed.getOrDefault(point, List.of())) {
      if (!arm.firesAt(epoch)) {
        continue;
      }
      String what = "injected fault '" + point.key() + "' at epoch " + epoch;
      switch (arm.action()) {
        case KILL -> {
          System.err.println("crmpi: " + what + ": SIGKILL");
          System.err.flush();
          Posix.kill(ProcessHandle.current().pid(), Posix.SIGKILL);
          throw new IOException(what);
        }
        case STOP -> {
          System.err.println("crmpi: " + what + ": SIGSTOP");
          System.err.flush();
          Posix.kill(ProcessHandle.current().pid(), Posix.SIGSTOP);
          // Continued (Slurm sends SIGCONT to a step's tasks before it signals them): this thread stays
          // where it stopped, as on a node that is gone, until the test's kill of the node ends it.
          while (true) {
            try {
              Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
              // still gone
            }
          }
        }
        case KILL_RANK -> {
          long init = treeInit.getAsLong();
          OptionalLong rank = init > 0 ? new ProcessTree(Path.of("/proc")).firstLeaf(init) : OptionalLong.empty();
          if (rank.isEmpty()) {
            throw new IOException(what + ": no rank to kill");
          }
          Posix.kill(rank.getAsLong(), Posix.SIGKILL);
          System.err.println("crmpi: " + what + ": SIGKILL to rank process " + rank.getAsLong());
          System.err.flush();
        }
        default -> throw new IOException(what);
      }
    }
  }
}
