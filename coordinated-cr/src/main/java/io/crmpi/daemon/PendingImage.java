package io.crmpi.daemon;

import io.crmpi.nativeio.Posix;
import io.crmpi.store.FileDigest;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A dump between crmpid's CRIU run and its seal. CRIU wrote the files as
 * root into a directory only root could enter. Right after the dump crmpid
 * opens every file (read-only) and then gives the directory to the owner,
 * so that the owner's store can delete an aborted epoch; the files stay
 * root's (0600) until they are sealed, and the seal is computed from the
 * descriptors opened before the owner could touch anything. Whatever the
 * owner does to the names in between (rename, replace) ends up in a digest
 * mismatch at restore, never in a seal over their content.
 */
final class PendingImage implements Closeable {
  private final int dirFd;
  private final Map<String, FileChannel> files;

  private PendingImage(int dirFd, Map<String, FileChannel> files) {
    this.dirFd = dirFd;
    this.files = files;
  }

  /** Opens every file CRIU wrote in the directory of dirFd, then hands the directory (only) to uid:gid. */
  static PendingImage capture(int dirFd, int uid, int gid) throws IOException {
    Path dir = Crmpid.fdPath(dirFd).resolve(".");
    Map<String, FileChannel> files = new LinkedHashMap<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.sorted(Comparator.comparing(Path::toString)).toList()) {
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          files.put(p.getFileName().toString(), FileChannel.open(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS));
        }
      }
      Files.setAttribute(dir, "unix:gid", gid);
      Files.setAttribute(dir, "unix:uid", uid);
    } catch (IOException | RuntimeException e) {
      PendingImage p = new PendingImage(dirFd, files);
      p.close();
      throw e;
    }
    return new PendingImage(dirFd, files);
  }

  /** The bytes of every file, as they are now. */
  long bytes() throws IOException {
    long total = 0;
    for (FileChannel ch : files.values()) {
      total += ch.size();
    }
    return total;
  }

  /**
   * Digests and fsyncs every file through its descriptor; sorted by name.
   * The fsyncs start first, on threads of their own, so the disk writes
   * the image while it is digested from the page cache: one after the
   * other, the disk idled through every hash and the hash through every
   * fsync (1 GiB: about 0.7 s of SHA-256 on one core, then the writes).
   */
  List<FileDigest> digestAndSync() throws IOException {
    List<Map.Entry<String, FileChannel>> byName = new ArrayList<>(files.entrySet());
    List<FileChannel> largestFirst = new ArrayList<>(files.values());
    largestFirst.sort(Comparator.comparingLong(PendingImage::sizeOrZero).reversed());
    java.util.concurrent.CompletableFuture<Void> synced = new java.util.concurrent.CompletableFuture<>();
    Thread syncer = new Thread(() -> {
      try {
        io.crmpi.store.ParallelFiles.map(largestFirst, "crmpid-seal-fsync", ch -> {
          ch.force(true);
          return null;
        });
        synced.complete(null);
      } catch (IOException | RuntimeException e) {
        synced.completeExceptionally(e);
      }
    }, "crmpid-seal-fsync");
    syncer.setDaemon(true);
    syncer.start();
    List<FileDigest> out;
    try {
      out = io.crmpi.store.ParallelFiles.map(byName, "crmpid-seal-digest", e -> digest(e.getKey(), e.getValue()));
    } finally {
      // Every fsync has ended before this returns or throws: the descriptors are closed after it.
      awaitQuietly(syncer);
    }
    try {
      synced.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw e.getCause() instanceof IOException io ? io
          : new IOException("fsync of the image failed: " + e.getCause(), e.getCause());
    }
    Posix.fsync(dirFd);
    return out;
  }

  private static FileDigest digest(String name, FileChannel ch) throws IOException {
    // Most of an image's files are a few KiB (CRIU's per-process records): a buffer to their size.
    ByteBuffer buf = ByteBuffer.allocateDirect((int) Math.max(4096, Math.min(1 << 20, ch.size())));
    MessageDigest sha = sha256();
    long size = 0;
    long pos = 0;
    for (int n; (n = ch.read(buf.clear(), pos)) > 0; pos += n) {
      buf.flip();
      sha.update(buf);
      size += n;
    }
    return new FileDigest(name, size, HexFormat.of().formatHex(sha.digest()));
  }

  private static long sizeOrZero(FileChannel ch) {
    try {
      return ch.size();
    } catch (IOException e) {
      return 0;
    }
  }

  private static void awaitQuietly(Thread t) {
    boolean interrupted = false;
    while (t.isAlive()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Once sealed: the files become the owner's (0600), so they can read, copy and delete them. */
  void handFilesTo(int uid, int gid) throws IOException {
    Path dir = Crmpid.fdPath(dirFd);
    for (String name : files.keySet()) {
      Path p = dir.resolve(name);
      if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
      }
    }
  }

  @Override
  public void close() {
    for (FileChannel ch : files.values()) {
      try {
        ch.close();
      } catch (IOException e) {
        // read-only: nothing to lose
      }
    }
    Posix.close(dirFd);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
