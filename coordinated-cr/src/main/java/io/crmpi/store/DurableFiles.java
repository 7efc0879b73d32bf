package io.crmpi.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Crash-safe replacement and removal of files: a file is replaced by
 * writing a sibling temp file, fsyncing it, renaming it over the target and
 * fsyncing the directory, so that after a crash the target holds either the
 * old or the new content, never a mix.
 */
public final class DurableFiles {
  private DurableFiles() {}

  /** Replaces target with bytes through target + ".tmp"; returns once both are durable. */
  static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path temp = target.resolveSibling(target.getFileName() + ".tmp");
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
    }
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    Digests.fsyncDirectory(target.getParent());
  }

  /**
   * The bytes deleting path would free: each file counted once however many
   * of its hard links lie below path (epochs share unchanged copies), and
   * not at all when a link outside path keeps it. Links are not followed.
   */
  public static long bytesFreedByDeleting(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return 0;
    }
    java.util.Map<Object, long[]> seen = new java.util.HashMap<>();
    Files.walkFileTree(path, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (attrs.isRegularFile()) {
          long[] linksAndSize = seen.computeIfAbsent(attrs.fileKey() == null ? file : attrs.fileKey(), k -> {
            try {
              return new long[] {((Number) Files.getAttribute(file, "unix:nlink", LinkOption.NOFOLLOW_LINKS))
                  .longValue(), attrs.size(), 0};
            } catch (IOException e) {
              return new long[] {1, attrs.size(), 0};
            }
          });
          linksAndSize[2]++;
        }
        return FileVisitResult.CONTINUE;
      }
    });
    return seen.values().stream().filter(v -> v[2] >= v[0]).mapToLong(v -> v[1]).sum();
  }

  /** Deletes dir and everything under it without following links; no-op when absent. */
  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.deleteIfExists(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE;
        }
        throw e;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        Files.deleteIfExists(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
