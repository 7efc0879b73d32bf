package io.crmpi.store;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * Where a copy of an epoch's images lives. The levels are ordered from the
 * fastest to the slowest: a restart reads the first one that holds the
 * epoch and verifies.
 */
public enum StorageLevel {
  /**
   * A directory on each node (local SSD, or /dev/shm for small jobs): the
   * dump goes there, and the ranks are frozen only for that dump. Lost with
   * its node.
   */
  LOCAL,
  /**
   * A copy of each node's node-local part on another node of the job (its
   * partner, the next node by name): an epoch held at the node-local level
   * and here survives the loss of any one node, and a restart after a node
   * loss reads it without touching the state directory.
   */
  PARTNER,
  /**
   * The job's state directory, on the file system every node shares: an
   * epoch there survives the loss of any node and a requeue to other nodes.
   */
  SHARED;

  /** The name in manifests and options: "local", "partner", "shared". */
  @JsonValue
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** What logs and status call it. */
  public String label() {
    return switch (this) {
      case LOCAL -> "node-local";
      case PARTNER -> "partner";
      case SHARED -> "shared";
    };
  }

  /** The level named name ("local", "shared"); a clear error otherwise. */
  @JsonCreator
  public static StorageLevel of(String name) {
    for (StorageLevel l : values()) {
      if (l.wireName().equals(name)) {
        return l;
      }
    }
    throw new IllegalArgumentException("unknown storage level '" + name + "' (use local, partner or shared)");
  }
}
