package io.crmpi.store;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Digests and durability for checkpoint files: the SHA-256 and size of one
 * file or of every regular file of a tree, as recorded in a manifest, and
 * fsync of a tree or a directory, so that what the manifest lists is on disk
 * before the manifest itself is. Symbolic links are neither followed nor
 * listed.
 */
public final class Digests {
  private static final int BUFFER_BYTES = 1 << 20;

  private Digests() {}

  /** Size and SHA-256 of file, named by its path relative to base with '/' separators. */
  public static FileDigest digest(Path base, Path file) throws IOException {
    Path relative = relativePath(base, file);
    MessageDigest sha256 = sha256();
    long size = 0;
    byte[] buffer = new byte[BUFFER_BYTES];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) {
        sha256.update(buffer, 0, n);
        size += n;
      }
    }
    return new FileDigest(slashed(relative), size, HexFormat.of().formatHex(sha256.digest()));
  }

  /** Digests of every regular file under dir, recursively, sorted by relative path. */
  public static List<FileDigest> digestTree(Path dir) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(dir)) {
      files = walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList();
    }
    List<FileDigest> digests = new ArrayList<>(files.size());
    for (Path file : files) {
      digests.add(digest(dir, file));
    }
    digests.sort(Comparator.comparing(FileDigest::path));
    return digests;
  }

  /**
   * Fsyncs every regular file under dir, then every directory bottom-up,
   * dir itself last, so that each directory entry is durable once the file
   * it names is.
   */
  public static void fsyncTree(Path dir) throws IOException {
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (attrs.isRegularFile()) {
          force(file);
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        force(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  /** Fsyncs one directory, making the creation, rename and removal of its entries durable. */
  public static void fsyncDirectory(Path dir) throws IOException {
    force(dir);
  }

  private static void force(Path path) throws IOException {
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  private static Path relativePath(Path base, Path file) {
    Path b = base.toAbsolutePath().normalize();
    Path f = file.toAbsolutePath().normalize();
    if (!f.startsWith(b) || f.equals(b)) {
      throw new IllegalArgumentException("file " + file + " is not inside " + base);
    }
    return b.relativize(f);
  }

  private static String slashed(Path relative) {
    StringBuilder s = new StringBuilder();
    for (Path name : relative) {
      s.append(s.length() == 0 ? "" : "/").append(name);
    }
    return s.toString();
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available in this JVM", e);
    }
  }
}
