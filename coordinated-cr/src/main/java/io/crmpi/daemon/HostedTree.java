package io.crmpi.daemon;

import io.crmpi.engine.LaunchSpec;
import io.crmpi.engine.LocalTree;
import java.nio.file.Path;
import java.util.Map;

/**
 * A node tree crmpid runs for a caller: the tree, the spec crmpid placed it
 * with, and the dump waiting for its persist (a descriptor of its root-owned
 * image directory, so that a rename by the owner changes nothing).
 */
final class HostedTree {
  final Caller caller;
  final TreeId id;
  final LaunchSpec placed;
  final LocalTree tree;
  private PendingDump pending;
  /** The size of this tree's last image, the estimate of the next dump's (-1: none yet). */
  private volatile long lastImageBytes = -1;

  /**
   * @param image the files opened and the directory handed over, which
   *     happens after the dump's reply (outside the frozen window)
   */
  record PendingDump(java.util.concurrent.CompletableFuture<PendingImage> image, Path shownAs,
      Map<String, String> attributes) {
    /** Closes the image's descriptors once its capture is done. */
    void discard() {
      image.thenAccept(PendingImage::close);
    }
  }

  HostedTree(Caller caller, TreeId id, LaunchSpec placed, LocalTree tree) {
    this.caller = caller;
    this.id = id;
    this.placed = placed;
    this.tree = tree;
  }

  long lastImageBytes() {
    return lastImageBytes;
  }

  void lastImageBytes(long bytes) {
    lastImageBytes = bytes;
  }

  synchronized PendingDump takePending() {
    PendingDump p = pending;
    pending = null;
    return p;
  }

  /** Sets the pending dump and returns the one it replaces (to be closed), or null. */
  synchronized PendingDump replacePending(PendingDump next) {
    PendingDump old = pending;
    pending = next;
    return old;
  }
}
