package io.crmpi.remote;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * A directory as the partner wire sends it: its subdirectories (parents
 * first) and its regular files, listed once without following links, then
 * streamed in {@link PartnerMessage.Data} pieces, never a whole file in
 * memory. A symlink or any other kind of file in the tree is refused: a
 * node's part of an epoch holds only files and directories, and a link
 * would copy what it points to, which is not the node's to send.
 */
final class CopyTree {
  /** A directory (size -1) or regular file of the tree. */
  private record Entry(String path, Path file, long size) {
    boolean isDirectory() {
      return size < 0;
    }
  }

  private final List<Entry> entries;
  private final int dirs;
  private final int files;
  private final long bytes;

  private CopyTree(List<Entry> entries) {
    this.entries = List.copyOf(entries);
    this.dirs = (int) entries.stream().filter(Entry::isDirectory).count();
    this.files = entries.size() - dirs;
    this.bytes = entries.stream().mapToLong(e -> Math.max(e.size(), 0)).sum();
  }

  /** Lists root, which must be a directory (not a link to one). */
  static CopyTree of(Path root) throws IOException {
    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(root + " is not a directory: nothing to copy");
    }
    List<Entry> entries = new ArrayList<>();
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        if (!dir.equals(root)) {
          add(new Entry(relative(root, dir), dir, -1));
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (!attrs.isRegularFile()) {
          throw new IOException(file + " is " + (attrs.isSymbolicLink() ? "a symbolic link" : "not a regular file")
              + ": a node's part of an epoch holds only regular files and directories, so it is not sent to the"
              + " partner; remove it from " + root);
        }
        add(new Entry(relative(root, file), file, attrs.size()));
        return FileVisitResult.CONTINUE;
      }

      private void add(Entry e) throws IOException {
        if (entries.size() >= PartnerMessage.MAX_ENTRIES) {
          throw new IOException(root + " has more than " + PartnerMessage.MAX_ENTRIES
              + " files and directories: too many for a partner copy");
        }
        entries.add(e);
      }
    });
    return new CopyTree(entries);
  }

  int dirs() {
    return dirs;
  }

  int files() {
    return files;
  }

  /** The bytes of file data, as listed. */
  long bytes() {
    return bytes;
  }

  /**
   * Sends the tree, then End; file data goes as binary frames ({@link
   * SecureChannel#sendBlob}), received as {@link PartnerMessage.Data}. A file whose size changed since it was listed
   * fails the copy (the receiver would otherwise keep a mix).
   */
  void send(SecureChannel<PartnerMessage, ?> channel) throws IOException {
    byte[] buffer = new byte[PartnerMessage.MAX_DATA];
    for (Entry e : entries) {
      if (e.isDirectory()) {
        channel.send(new PartnerMessage.Dir(e.path()));
        continue;
      }
      channel.send(new PartnerMessage.FileStart(e.path(), e.size()));
      try (InputStream in = Files.newInputStream(e.file(), LinkOption.NOFOLLOW_LINKS);
          io.crmpi.nativeio.ReadAhead ahead = io.crmpi.nativeio.ReadAhead.of(e.file(), e.size())) {
        long left = e.size();
        while (left > 0) {
          int n = in.readNBytes(buffer, 0, (int) Math.min(buffer.length, left));
          if (n == 0) {
            throw new IOException(e.file() + " shrank while it was sent to the partner: copy abandoned");
          }
          ahead.reached(e.size() - left + n);
          channel.sendBlob(buffer, 0, n);
          left -= n;
        }
        if (in.read() >= 0) {
          throw new IOException(e.file() + " grew while it was sent to the partner: copy abandoned");
        }
      }
    }
    channel.send(new PartnerMessage.End());
  }

  /** path relative to root, '/'-separated, checked as the receiver will check it. */
  private static String relative(Path root, Path path) throws IOException {
    StringBuilder s = new StringBuilder();
    for (Path name : root.relativize(path)) {
      s.append(s.length() == 0 ? "" : "/").append(name);
    }
    try {
      return PartnerMessage.requirePath(s.toString());
    } catch (IllegalArgumentException e) {
      throw new IOException(path + " cannot be sent to the partner (" + e.getMessage() + "): rename it");
    }
  }
}
