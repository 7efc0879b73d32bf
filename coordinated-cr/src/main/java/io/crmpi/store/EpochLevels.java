package io.crmpi.store;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Which storage levels hold a committed epoch's images, and where its
 * node-local copy is.
 *
 * @param localDir the epoch's directory at the node-local level (absolute,
 *     the same path on every node: each node holds its own part there), or
 *     null when the epoch never had a node-local copy
 * @param held the levels the epoch was made durable at, fastest first (at
 *     least one). A node-local copy may since have been removed by the
 *     node-local retention, or lost with its node: a restore checks what is
 *     there
 */
public record EpochLevels(String localDir, List<StorageLevel> held) {
  public EpochLevels {
    if (held == null || held.isEmpty()) {
      throw new IllegalArgumentException("an epoch is held at one storage level at least");
    }
    Set<StorageLevel> set = EnumSet.copyOf(held);
    held = List.copyOf(set); // distinct, fastest first
    if (localDir != null && !Path.of(localDir).isAbsolute()) {
      throw new IllegalArgumentException("localDir must be absolute: " + localDir);
    }
    if ((set.contains(StorageLevel.LOCAL) || set.contains(StorageLevel.PARTNER)) && localDir == null) {
      throw new IllegalArgumentException("an epoch held at the node-local level needs its localDir");
    }
  }

  /** An epoch written straight to the state directory (every manifest before the levels). */
  public static EpochLevels sharedOnly() {
    return new EpochLevels(null, List.of(StorageLevel.SHARED));
  }

  /** An epoch committed at the node-local level only, at localDir. */
  public static EpochLevels local(Path localDir) {
    return new EpochLevels(localDir.toString(), List.of(StorageLevel.LOCAL));
  }

  public boolean holds(StorageLevel level) {
    return held.contains(level);
  }

  /** The same, also held at level. */
  public EpochLevels with(StorageLevel level) {
    List<StorageLevel> more = new java.util.ArrayList<>(held);
    more.add(level);
    return new EpochLevels(localDir, more);
  }

  /**
   * The node that holds node's partner copy: the next of nodes by name,
   * the first after the last; null for a job of one node.
   */
  public static String partnerOf(String node, java.util.Collection<String> nodes) {
    List<String> sorted = nodes.stream().distinct().sorted().toList();
    int i = sorted.indexOf(node);
    if (i < 0) {
      throw new IllegalArgumentException("node " + node + " is not one of " + sorted);
    }
    return sorted.size() < 2 ? null : sorted.get((i + 1) % sorted.size());
  }

  /** What logs and status print: "node-local+shared". */
  public String describe() {
    return String.join("+", held.stream().map(StorageLevel::label).toList());
  }
}
