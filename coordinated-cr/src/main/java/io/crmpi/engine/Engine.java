package io.crmpi.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * What dumps and restores a node tree. The node agent calls it in the
 * order of the protocol: {@link #freeze} (all node trees are frozen before
 * any is dumped), {@link #dump}, then {@link #thaw} whatever happened.
 */
public interface Engine {
  /** The engine's name as recorded in manifests ("criu", "app"). */
  String name();

  /**
   * Where the ranks' callbacks put their state for this epoch (sent to them
   * with PREPARE), or null when the engine saves the processes themselves.
   */
  default String statePath(LaunchSpec spec, long epoch) throws IOException {
    return null;
  }

  /**
   * Whether {@link #restore} checks every image file against its digest
   * itself (so the files need not be read once more before it).
   */
  default boolean verifiesImages() {
    return false;
  }

  /** Whether a checkpoint needs every rank to carry libcrmpi. */
  default boolean needsRanks() {
    return false;
  }

  /** Starts the node tree afresh. */
  NodeTree launch(LaunchSpec spec) throws IOException;

  /** Stops every process of the tree (it stays frozen until {@link #thaw}). */
  void freeze(NodeTree tree) throws IOException;

  /**
   * Dumps a frozen tree into imageDir (which the engine creates; its parent
   * exists), leaving it running (frozen), and returns what a restore needs
   * besides the files. The files are not yet durable: see {@link #persist}.
   * A dump that takes longer than timeout is stopped (the engine's helper
   * killed, the tree left frozen for the abort to thaw) and throws.
   */
  Map<String, String> dump(NodeTree tree, LaunchSpec spec, Path imageDir, java.time.Duration timeout)
      throws IOException;

  /** {@link #dump}, telling progress how many bytes of image are written (by engines that can tell). */
  default Map<String, String> dump(NodeTree tree, LaunchSpec spec, Path imageDir, java.time.Duration timeout,
      ProgressListener progress) throws IOException {
    return dump(tree, spec, imageDir, timeout);
  }

  /**
   * Makes the image of a dump durable and describes it for the manifest:
   * every file's digest, and the attributes to record. The tree may already
   * run again. An engine may leave the digests to {@link #seal} (crmpid
   * does: the commit then waits for the disk only).
   */
  default PersistedImage persist(NodeTree tree, LaunchSpec spec, Path imageDir, long epoch,
      Map<String, String> attributes) throws IOException {
    java.util.List<io.crmpi.store.FileDigest> files = io.crmpi.store.Digests.digestTree(imageDir);
    io.crmpi.store.Digests.fsyncTree(imageDir);
    return new PersistedImage(files, attributes);
  }

  /**
   * Digests and seals an image that {@link #persist} made durable without
   * its digests (crmpid's: see {@link PersistedImage#sealed()}); returns
   * the sealed files and attributes. The tree may have ended meanwhile,
   * and is null (imageDir too) when a restarted crmpi seals an epoch the
   * one before it committed.
   * Engines that digest at the persist return persisted as it is.
   */
  default PersistedImage seal(NodeTree tree, LaunchSpec spec, Path imageDir, long epoch, PersistedImage persisted)
      throws IOException {
    return persisted;
  }

  /** Lets a frozen tree run again; harmless on a running or dead tree. */
  void thaw(NodeTree tree) throws IOException;

  /** Starts command as a process of the running tree (a launcher's daemon for this node). */
  void exec(NodeTree tree, LaunchSpec spec, java.util.List<String> command) throws IOException;

  /**
   * Makes sure nothing of an earlier copy of spec's tree runs on this node
   * or holds the slot's job-network interface: its processes are killed
   * (thawed first) and a stale interface is deleted. Called on every slot
   * of a job before any of them is restored, so that no restored tree
   * talks to a stale copy of another.
   */
  default void fence(LaunchSpec spec) throws IOException {}

  /**
   * Restores a tree from imageDir, the files and attributes that image
   * records. The tree may come back frozen; the agent thaws it once every
   * node is restored.
   */
  NodeTree restore(LaunchSpec spec, Path imageDir, io.crmpi.store.NodeImage image, long epoch)
      throws IOException;

  /** {@link #restore}, telling progress how many bytes of the image are read (by engines that can tell). */
  default NodeTree restore(LaunchSpec spec, Path imageDir, io.crmpi.store.NodeImage image, long epoch,
      ProgressListener progress) throws IOException {
    return restore(spec, imageDir, image, epoch);
  }
}
