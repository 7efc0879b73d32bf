package io.crmpi.coordinator;

import io.crmpi.store.Manifest;
import io.crmpi.store.NodeImage;
import io.crmpi.store.Timings;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One epoch in progress, used by the coordinator's thread alone. It
 * collects the phase times and the node images; once every node has
 * persisted its image it becomes an immutable {@link Manifest}.
 */
final class PendingCheckpoint {
  private final String job;
  private final long epoch;
  private final String trigger;
  private final long startNanos;
  private long preparedNanos;
  private long dumpedNanos;
  private long resumedNanos;
  private boolean resumed;
  private long slowestDumpMillis;
  private final List<NodeImage> images = new ArrayList<>();

  PendingCheckpoint(String job, long epoch, String trigger, long startNanos) {
    this.job = job;
    this.epoch = epoch;
    this.trigger = trigger;
    this.startNanos = startNanos;
  }

  long epoch() {
    return epoch;
  }

  void prepared(long nanos) {
    preparedNanos = nanos;
  }

  void dumped(long nanos, long slowestDumpMillis) {
    dumpedNanos = nanos;
    this.slowestDumpMillis = slowestDumpMillis;
  }

  void resumed(long nanos) {
    resumedNanos = nanos;
    resumed = true;
  }

  void addImage(NodeImage image) {
    images.add(image);
  }

  /** Whether every node's image carries its digests (crmpid's images do only after their seal). */
  boolean sealed() {
    return images.stream().allMatch(NodeImage::sealed);
  }

  /** Replaces each node's image by its sealed one (the Seal round's answers). */
  void sealImages(List<NodeImage> sealed) {
    for (NodeImage s : sealed) {
      int i = indexOf(s.node());
      if (i < 0) {
        throw new IllegalArgumentException("epoch " + epoch + ": a sealed image of node " + s.node()
            + ", which persisted none");
      }
      images.set(i, s);
    }
  }

  private int indexOf(String node) {
    for (int i = 0; i < images.size(); i++) {
      if (images.get(i).node().equals(node)) {
        return i;
      }
    }
    return -1;
  }

  /** The manifest of this epoch; frozen time ends at the commit for a vacate. */
  Manifest complete(String engine, Instant now, long nowNanos) {
    return complete(engine, now, nowNanos, null);
  }

  /** The manifest of this epoch, held at levels (null: the state directory only). */
  Manifest complete(String engine, Instant now, long nowNanos, io.crmpi.store.EpochLevels levels) {
    long frozenEnd = resumed ? resumedNanos : nowNanos;
    Timings t = new Timings(
        millis(preparedNanos - startNanos),
        slowestDumpMillis,
        millis(frozenEnd - startNanos),
        millis(nowNanos - startNanos));
    List<NodeImage> sorted = new ArrayList<>(images);
    sorted.sort(Comparator.comparing(NodeImage::node));
    return new Manifest(Manifest.FORMAT_VERSION, job, epoch, now, engine, trigger, t, sorted, levels);
  }

  private static long millis(long nanos) {
    return Math.max(0, nanos / 1_000_000);
  }
}
