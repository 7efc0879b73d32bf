package io.crmpi.remote;

import io.crmpi.store.Digests;
import io.crmpi.store.DurableFiles;
import io.crmpi.store.NodeLocalLevel;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.logging.Logger;

/**
 * The partner copies this node holds for the other nodes of its job, under
 * the job's node-local directory as {@link NodeLocalLevel#partnerDir} lays
 * them out. A put is received into a partial copy beside its final place
 * and renamed there only once durable, so a crash or a broken connection
 * leaves either the old copy or the new one, plus at most a partial copy
 * that {@link NodeLocalLevel#prune} removes. Nothing outside {@code
 * partners/} is written, and nothing is deleted but crmpi's own partial
 * copies and the copy that a put of the same node and epoch replaces.
 */
final class PartnerCopies {
  private static final Logger LOG = Logger.getLogger(PartnerCopies.class.getName());
  private final NodeLocalLevel level;
  private final Object placing = new Object();

  PartnerCopies(Path localJobDir) {
    this.level = NodeLocalLevel.at(localJobDir);
  }

  /**
   * Answers a put: Ready, then receives the copy, puts it in place, and
   * answers Ok once it is durable. Returns the bytes of file data received.
   * On failure the partial copy is gone and the old copy, if any, is kept.
   */
  long put(SecureChannel<PartnerMessage, PartnerMessage> channel, PartnerMessage.Put put) throws IOException {
    Path target = level.partnerDir(put.node(), put.epoch());
    if (!Files.isDirectory(level.jobDir(), LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("the job's node-local directory " + level.jobDir() + " does not exist on this node:"
          + " it cannot hold partner copies before the job's agent has prepared it");
    }
    directory(target.getParent().getParent());
    directory(target.getParent());
    Path partial = CopyReceiver.partialBeside(target);
    boolean placed = false;
    try {
      channel.send(new PartnerMessage.Ready());
      long bytes = CopyReceiver.receive(channel, partial, put.dirs(), put.files(), put.bytes(), true);
      place(partial, target);
      placed = true;
      channel.send(new PartnerMessage.Ok(bytes));
      return bytes;
    } finally {
      if (!placed) {
        deleteQuietly(partial);
      }
    }
  }

  /** Answers a get: the held copy of the node's part of the epoch, or NoCopy. Returns the bytes sent. */
  long get(SecureChannel<PartnerMessage, PartnerMessage> channel, PartnerMessage.Get get) throws IOException {
    Path copy = level.partnerDir(get.node(), get.epoch());
    if (!Files.isDirectory(copy, LinkOption.NOFOLLOW_LINKS)) {
      channel.send(new PartnerMessage.NoCopy(get.node(), get.epoch()));
      return 0;
    }
    CopyTree tree = CopyTree.of(copy);
    channel.send(new PartnerMessage.Holding(tree.dirs(), tree.files(), tree.bytes()));
    tree.send(channel);
    return tree.bytes();
  }

  /** Renames the durable partial copy to target, moving an older copy of the same node and epoch aside first. */
  private void place(Path partial, Path target) throws IOException {
    synchronized (placing) {
      Path old = null;
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        old = CopyReceiver.partialBeside(target);
        Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
      }
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
      Digests.fsyncDirectory(target.getParent());
      if (old != null) {
        deleteQuietly(old);
      }
    }
  }

  /** Creates d (0700) unless it exists; refuses it when it is not a directory, a symlink to one included. */
  private static void directory(Path d) throws IOException {
    try {
      Files.createDirectory(d, CopyReceiver.DIR_MODE);
      Digests.fsyncDirectory(d.getParent());
    } catch (FileAlreadyExistsException e) {
      // checked below
    }
    if (!Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(d + " is not a directory (a symlink?): partner copies are not kept there; remove it");
    }
  }

  private static void deleteQuietly(Path dir) {
    try {
      DurableFiles.deleteTree(dir);
    } catch (IOException e) {
      LOG.warning("could not delete " + dir + " (" + e.getMessage() + "): the next prune of its epoch removes it");
    }
  }
}
