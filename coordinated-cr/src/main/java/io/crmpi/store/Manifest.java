package io.crmpi.store;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * The commit record of one global checkpoint. A global checkpoint exists
 * only once its manifest has been written (temp file, fsync, atomic rename,
 * fsync of the directory); everything else in an epoch directory without a
 * manifest is debris of an aborted or interrupted attempt.
 *
 * @param formatVersion {@link #FORMAT_VERSION} when written by this code;
 *     readers accept any version they know and ignore unknown fields
 * @param job the job key
 * @param epoch the epoch id, strictly increasing per job
 * @param createdAt when the commit happened
 * @param engine the engine that made the images ("criu" or "app")
 * @param trigger why the checkpoint was taken ("periodic", "manual", ...)
 * @param timings how long it took
 * @param nodes one image per node tree, at least one
 * @param levels which storage levels hold the images (absent in manifests
 *     written before the levels: the state directory only)
 */
public record Manifest(
    int formatVersion,
    String job,
    long epoch,
    Instant createdAt,
    String engine,
    String trigger,
    Timings timings,
    List<NodeImage> nodes,
    EpochLevels levels) {
  public static final int FORMAT_VERSION = 2;

  public Manifest {
    if (formatVersion < 1 || formatVersion > FORMAT_VERSION) {
      throw new IllegalArgumentException("unknown manifest formatVersion " + formatVersion
          + " (this crmpi reads 1.." + FORMAT_VERSION + ")");
    }
    Objects.requireNonNull(job, "job");
    if (epoch <= 0) {
      throw new IllegalArgumentException("epoch <= 0: " + epoch);
    }
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(engine, "engine");
    Objects.requireNonNull(trigger, "trigger");
    Objects.requireNonNull(timings, "timings");
    nodes = List.copyOf(nodes);
    if (nodes.isEmpty()) {
      throw new IllegalArgumentException("a manifest needs at least one node image");
    }
    levels = levels == null ? EpochLevels.sharedOnly() : levels;
  }

  /** A manifest of an epoch written straight to the state directory. */
  public Manifest(int formatVersion, String job, long epoch, Instant createdAt, String engine, String trigger,
      Timings timings, List<NodeImage> nodes) {
    this(formatVersion, job, epoch, createdAt, engine, trigger, timings, nodes, null);
  }

  /** The same manifest, its epoch now also held at level. */
  public Manifest withLevel(StorageLevel level) {
    return new Manifest(formatVersion, job, epoch, createdAt, engine, trigger, timings, nodes, levels.with(level));
  }

  /**
   * Whether every node's image is sealed: an epoch committed before its
   * seal (see {@link NodeImage#sealed()}) is not restored, and retention
   * does not count it.
   */
  public boolean sealed() {
    return nodes.stream().allMatch(NodeImage::sealed);
  }

  /** The same manifest with these timings. */
  public Manifest withTimings(Timings t) {
    return new Manifest(formatVersion, job, epoch, createdAt, engine, trigger, t, nodes, levels);
  }

  /** The same manifest with these node images (the sealed ones, in the same order of nodes). */
  public Manifest withNodes(List<NodeImage> sealedNodes) {
    List<String> before = nodes.stream().map(NodeImage::node).toList();
    List<String> after = sealedNodes.stream().map(NodeImage::node).toList();
    if (!before.equals(after)) {
      throw new IllegalArgumentException("epoch " + epoch + ": the nodes " + after + " are not the manifest's "
          + before);
    }
    return new Manifest(formatVersion, job, epoch, createdAt, engine, trigger, timings, sealedNodes, levels);
  }

  public long totalBytes() {
    return nodes.stream().mapToLong(NodeImage::totalBytes).sum();
  }
}
