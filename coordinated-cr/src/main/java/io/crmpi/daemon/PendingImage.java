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
   * Fsyncs every file through its descriptor, several at a time, largest
   * first, then the directory: the image is durable (the commit waits for
   * this, and only this). Returns the files by name, with their sizes and
   * no digests yet: {@link #digest} computes those for the seal.
   */
  List<FileDigest> sync() throws IOException {
    List<FileChannel> largestFirst = new ArrayList<>(files.values());
    largestFirst.sort(Comparator.comparingLong(PendingImage::sizeOrZero).reversed());
    io.crmpi.store.ParallelFiles.map(largestFirst, "crmpid-seal-fsync", ch -> {
      ch.force(true);
      return null;
    });
    Posix.fsync(dirFd);
    List<FileDigest> out = new ArrayList<>();
    for (Map.Entry<String, FileChannel> e : files.entrySet()) {
      out.add(FileDigest.unsealed(e.getKey(), e.getValue().size()));
    }
    return out;
  }

  /**
   * Every file's SHA-256 through its descriptor, several files at a time;
   * sorted by name. After {@link #sync}, the files are read from the page
   * cache (the agent drops them from it only after the seal).
   */
  List<FileDigest> digest() throws IOException {
    return io.crmpi.store.ParallelFiles.map(new ArrayList<>(files.entrySet()), "crmpid-seal-digest",
        e -> digest(e.getKey(), e.getValue()));
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
