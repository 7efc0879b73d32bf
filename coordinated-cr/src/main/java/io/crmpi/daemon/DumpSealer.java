package io.crmpi.daemon;

import io.crmpi.engine.Engine;
import io.crmpi.engine.ProgressListener;
import io.crmpi.nativeio.Posix;
import io.crmpi.store.FileDigest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * A dump and its seal, as root, into a place of the owner's: CRIU writes
 * into an image directory only root can enter; right after the dump's
 * reply crmpid opens every file and hands the directory (not the files) to
 * the owner; the persist fsyncs the files through those descriptors (the
 * epoch's commit waits for that); the seal, after the commit, digests them
 * through the same descriptors, seals them, and only then gives the files
 * to the owner.
 */
final class DumpSealer {
  private static final Logger LOG = Logger.getLogger(DumpSealer.class.getName());
  private final Engine engine;
  private final ImageSeal seal;
  private final Executor background;
  private final UnsealedImages unsealed;

  DumpSealer(Engine engine, ImageSeal seal, Executor background, UnsealedImages unsealed) {
    this.engine = engine;
    this.seal = seal;
    this.background = background;
    this.unsealed = unsealed;
  }

  Map<String, String> dump(Caller caller, HostedTree h, java.nio.file.Path nodeDir, java.time.Duration timeout,
      ProgressListener progress) throws IOException {
    int nodeFd = openOwnedDirectory(nodeDir, caller);
    int imageFd;
    try {
      // Root's until CRIU is done: nobody can plant a symlink under a name CRIU writes.
      Path image = Crmpid.fdPath(nodeFd).resolve("image");
      Files.createDirectory(image, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      imageFd = Posix.openDirectoryNoFollow(image);
    } finally {
      Posix.close(nodeFd);
    }
    Map<String, String> attributes;
    try {
      if ((Integer) Files.getAttribute(Crmpid.fdPath(imageFd), "unix:uid") != 0) {
        throw new IOException("the image directory under " + nodeDir + " was replaced during the dump");
      }
      if (caller.owner() != null) {
        TreeCredentials.requireOwner(h.tree.freezer().tasks(), caller.owner());
      }
      attributes = dumpWatched(h, imageFd, timeout, progress);
    } catch (IOException e) {
      // CRIU's messages name the directory by crmpid's descriptor: the owner knows it by its path.
      String fdDir = Crmpid.fdPath(imageFd).toString();
      handOver(imageFd, caller);
      throw new IOException(String.valueOf(e.getMessage()).replace(fdDir, nodeDir.resolve("image").toString()), e);
    } catch (RuntimeException e) {
      handOver(imageFd, caller);
      throw e;
    }
    // The ranks are frozen until every node has answered: opening the files and handing the directory
    // over happen after this reply (the directory stays root's until then; persist waits for it).
    java.util.concurrent.CompletableFuture<PendingImage> capture = java.util.concurrent.CompletableFuture.supplyAsync(
        () -> {
          try {
            return PendingImage.capture(imageFd, caller.uid(), gid(caller));
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }, background);
    capture.thenAccept(image -> {
      try {
        h.lastImageBytes(image.bytes());
      } catch (IOException e) {
        // no estimate for the next dump's progress
      }
    });
    HostedTree.PendingDump old = h.replacePending(
        new HostedTree.PendingDump(capture, nodeDir.resolve("image"), attributes));
    if (old != null) {
      old.discard();
    }
    return attributes;
  }

  /**
   * The engine's dump, while a background task tells progress every half
   * second how many bytes are in the image directory, of about the size of
   * the tree's previous image (none for its first dump). Nothing of the
   * tree is read for that estimate: walking its processes' memory while
   * CRIU dumps them made the frozen window longer (+0.1 s at 1 GiB of
   * ranks, docs/benchmarks-crmpid.md). The task looks only through
   * imageFd, and stops (under the lock) before the dump returns, so it
   * never lists a directory the descriptor's number names later.
   */
  private Map<String, String> dumpWatched(HostedTree h, int imageFd, java.time.Duration timeout,
      ProgressListener progress) throws IOException {
    Object lock = new Object();
    boolean[] done = {false};
    long total = h.lastImageBytes();
    background.execute(() -> {
      while (true) {
        try {
          Thread.sleep(ProgressReports.EVERY_MS);
        } catch (InterruptedException e) {
          return;
        }
        synchronized (lock) {
          if (done[0]) {
            return;
          }
          progress.at(bytesIn(imageFd), total);
        }
      }
    });
    try {
      return engine.dump(h.tree, h.placed, Crmpid.fdPath(imageFd), timeout);
    } finally {
      synchronized (lock) {
        done[0] = true;
      }
    }
  }

  private static long bytesIn(int dirFd) {
    try (Stream<Path> s = Files.list(Crmpid.fdPath(dirFd).resolve("."))) {
      long bytes = 0;
      for (Path p : s.toList()) {
        java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(p,
            java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        bytes += a.isRegularFile() ? a.size() : 0;
      }
      return bytes;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** A failed dump's directory goes to the owner as it is (unsealed, so never restored), for their store to delete. */
  private static void handOver(int dirFd, Caller caller) {
    try (Stream<Path> s = Files.list(Crmpid.fdPath(dirFd).resolve("."))) {
      for (Path p : s.toList()) {
        chown(p, caller);
      }
      chown(Crmpid.fdPath(dirFd).resolve("."), caller);
    } catch (IOException | RuntimeException e) {
      LOG.warning("crmpid: " + caller + ": cannot hand a failed dump over: " + e.getMessage());
    } finally {
      Posix.close(dirFd);
    }
  }

  /**
   * Makes the tree's last dump durable (fsync only) and keeps its
   * descriptors under key for {@link #seal}: the commit waits for the disk,
   * not for SHA-256 over every byte. The files stay root's until sealed.
   */
  DaemonReply.Persisted persist(HostedTree h, long epoch, String key) throws IOException {
    HostedTree.PendingDump pending = h.takePending();
    if (pending == null) {
      throw new IOException(h.id + " has no dump to persist (epoch " + epoch + ")");
    }
    PendingImage captured;
    try {
      captured = pending.image().join();
    } catch (java.util.concurrent.CompletionException e) {
      throw new IOException("the dump of " + h.id + " could not be opened for its seal: "
          + e.getCause().getMessage(), e.getCause());
    }
    try {
      List<FileDigest> files = captured.sync();
      unsealed.put(key, epoch, captured, pending.attributes());
      return new DaemonReply.Persisted(files, pending.attributes());
    } catch (IOException | RuntimeException e) {
      captured.close();
      throw e;
    }
  }

  /**
   * Digests the image persisted for epoch under key, seals it (the MAC
   * over owner, tree, epoch, every file's digest and the attributes), and
   * only then gives its files to the owner. Works after the tree ended.
   */
  DaemonReply.Sealed seal(Caller caller, TreeId tree, long epoch, String key) throws IOException {
    UnsealedImages.Entry e = unsealed.take(key, epoch);
    try (PendingImage image = e.image()) {
      List<FileDigest> files = image.digest();
      Map<String, String> attributes = new LinkedHashMap<>(e.attributes());
      attributes.put(ImageSeal.ATTRIBUTE, seal.seal(caller.uid(), tree, epoch, files, e.attributes()));
      // Sealed: from now on the owner's to keep, read and delete (a change breaks the seal).
      image.handFilesTo(caller.uid(), gid(caller));
      return new DaemonReply.Sealed(files, attributes);
    }
  }

  /** Closes the images that wait for their seal (crmpid is stopping). */
  void close() {
    unsealed.closeAll();
  }

  static int gid(Caller caller) {
    return caller.owner() == null ? 0 : caller.owner().gid();
  }

  private static void chown(Path p, Caller caller) throws IOException {
    Files.setAttribute(p, "unix:gid", gid(caller), LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(p, "unix:uid", caller.uid(), LinkOption.NOFOLLOW_LINKS);
  }

  private static int openOwnedDirectory(Path dir, Caller caller) throws IOException {
    int fd;
    try {
      fd = Posix.openDirectoryNoFollow(dir);
    } catch (RuntimeException e) {
      throw new IOException("cannot open " + dir + ": " + e.getMessage());
    }
    int owner = (Integer) Files.getAttribute(Crmpid.fdPath(fd), "unix:uid");
    if (owner != caller.uid()) {
      Posix.close(fd);
      throw new IOException(dir + " belongs to uid " + owner + ", not to " + caller);
    }
    return fd;
  }
}
