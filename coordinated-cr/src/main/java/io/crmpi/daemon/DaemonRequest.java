package io.crmpi.daemon;

import io.crmpi.engine.LaunchSpec;
import io.crmpi.store.FileDigest;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A request to crmpid. Every request names a tree by its {@link TreeId};
 * crmpid decides everything privileged about it itself (which binaries
 * run, whom the tree runs as, where root writes), so the paths here are
 * only places of the owner's that crmpid checks before it uses them.
 *
 * <p>Launch and Restore open the tree's lease: that connection then carries
 * the tree's output and exit back, and when the client closes it the tree
 * is killed. Every other request gets one reply on its own connection.
 */
public sealed interface DaemonRequest {
  TreeId tree();

  /** Start a fresh tree. spec's runtime directory is the owner's; its session directory must exist. */
  record Launch(LaunchSpec spec) implements DaemonRequest {
    public Launch {
      Objects.requireNonNull(spec, "spec");
      new TreeId(spec.job(), spec.node());
    }

    @Override
    public TreeId tree() {
      return new TreeId(spec.job(), spec.node());
    }
  }

  /**
   * Restore a tree from an epoch's image of the owner's, which must carry
   * crmpid's seal over exactly these files and attributes.
   */
  record Restore(LaunchSpec spec, Path imageDir, long epoch, List<FileDigest> files, Map<String, String> attributes)
      implements DaemonRequest {
    public Restore {
      Objects.requireNonNull(spec, "spec");
      new TreeId(spec.job(), spec.node());
      imageDir = requireAbsolute(imageDir, "imageDir");
      requirePositive(epoch);
      files = List.copyOf(files);
      attributes = Map.copyOf(attributes);
    }

    @Override
    public TreeId tree() {
      return new TreeId(spec.job(), spec.node());
    }
  }

  /** Stop every process of the tree. */
  record Freeze(TreeId tree) implements DaemonRequest {
    public Freeze {
      Objects.requireNonNull(tree, "tree");
    }
  }

  /** Let a frozen tree run again. */
  record Thaw(TreeId tree) implements DaemonRequest {
    public Thaw {
      Objects.requireNonNull(tree, "tree");
    }
  }

  /**
   * Dump the frozen tree into nodeDir/image (crmpid creates it; nodeDir is
   * the owner's); criu is killed after timeoutMillis (1 s to 24 h).
   */
  record Dump(TreeId tree, Path nodeDir, long timeoutMillis) implements DaemonRequest {
    public static final long MAX_TIMEOUT_MILLIS = 24 * 3600 * 1000L;

    public Dump {
      Objects.requireNonNull(tree, "tree");
      nodeDir = requireAbsolute(nodeDir, "nodeDir");
      if (timeoutMillis < 1000 || timeoutMillis > MAX_TIMEOUT_MILLIS) {
        throw new IllegalArgumentException("timeoutMillis must be 1000.." + MAX_TIMEOUT_MILLIS + ": " + timeoutMillis);
      }
    }
  }

  /** Make the last dump durable for epoch (fsync); its files stay root's until {@link Seal}. */
  record Persist(TreeId tree, long epoch) implements DaemonRequest {
    public Persist {
      Objects.requireNonNull(tree, "tree");
      requirePositive(epoch);
    }
  }

  /** Digest and seal the image persisted for epoch, then hand its files to the owner (the tree may have ended). */
  record Seal(TreeId tree, long epoch) implements DaemonRequest {
    public Seal {
      Objects.requireNonNull(tree, "tree");
      requirePositive(epoch);
    }
  }

  /** Start command inside the running tree, as the owner. */
  record Exec(TreeId tree, List<String> command) implements DaemonRequest {
    public Exec {
      Objects.requireNonNull(tree, "tree");
      command = List.copyOf(command);
      if (command.isEmpty()) {
        throw new IllegalArgumentException("empty command");
      }
    }
  }

  /** How many processes the tree has. */
  record Processes(TreeId tree) implements DaemonRequest {
    public Processes {
      Objects.requireNonNull(tree, "tree");
    }
  }

  /** Kill the tree. */
  record Kill(TreeId tree) implements DaemonRequest {
    public Kill {
      Objects.requireNonNull(tree, "tree");
    }
  }

  /**
   * What happened to the job of a tree this caller runs here, for the
   * node's metrics (docs/monitoring.md): a checkpoint committed, aborted or
   * skipped, or a restart. Only fixed words reach the metrics' labels.
   *
   * @param kind committed, aborted, skipped, restored (from an epoch),
   *     started-over (no usable epoch) or restore-failed
   * @param reason an aborted checkpoint's reason (an AbortReason name), else ""
   * @param trigger a committed checkpoint's trigger (periodic, manual, vacate), requeue for a restart after
   *     Slurm requeued the job, else ""
   * @param millis a committed checkpoint's duration, else 0
   */
  record JobEvent(TreeId tree, String kind, String reason, String trigger, long millis) implements DaemonRequest {
    public static final java.util.Set<String> KINDS = java.util.Set.of("committed", "aborted", "skipped", "restored",
        "started-over", "restore-failed");
    public static final java.util.Set<String> TRIGGERS = java.util.Set.of("", "periodic", "manual", "vacate",
        "requeue");

    public JobEvent {
      Objects.requireNonNull(tree, "tree");
      if (!KINDS.contains(kind)) {
        throw new IllegalArgumentException("unknown event kind '" + kind + "': one of " + new java.util.TreeSet<>(KINDS));
      }
      if (reason == null || !reason.matches("[A-Z_]{0,32}")) {
        throw new IllegalArgumentException("bad reason '" + reason + "': an abort reason such as DUMP_FAILED, or empty");
      }
      if (!TRIGGERS.contains(trigger)) {
        throw new IllegalArgumentException("unknown trigger '" + trigger + "': one of " + new java.util.TreeSet<>(TRIGGERS));
      }
      if (millis < 0 || millis > Dump.MAX_TIMEOUT_MILLIS) {
        throw new IllegalArgumentException("duration " + millis + " ms is out of range");
      }
    }
  }

  /** Kill whatever an earlier copy of the tree left on this node and free its network interface. */
  record Fence(LaunchSpec spec) implements DaemonRequest {
    public Fence {
      Objects.requireNonNull(spec, "spec");
      new TreeId(spec.job(), spec.node());
    }

    @Override
    public TreeId tree() {
      return new TreeId(spec.job(), spec.node());
    }
  }

  /**
   * The path, absolute and normalized: no "." or ".." and no trailing slash,
   * so that crmpid's O_NOFOLLOW applies to the directory itself ("link/."
   * or "link/" would open the symlink's target).
   */
  private static Path requireAbsolute(Path p, String what) {
    if (p == null || !p.isAbsolute()) {
      throw new IllegalArgumentException(what + " is not an absolute path: " + p);
    }
    return Path.of(p.toString()).normalize();
  }

  private static void requirePositive(long epoch) {
    if (epoch <= 0) {
      throw new IllegalArgumentException("epoch <= 0: " + epoch);
    }
  }
}
