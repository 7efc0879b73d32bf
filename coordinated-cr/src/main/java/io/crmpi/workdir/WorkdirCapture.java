package io.crmpi.workdir;

import io.crmpi.store.FileDigest;
import io.crmpi.store.WorkdirRecord;
import io.crmpi.store.WrittenFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Records, with the tree frozen, the state of every file the tree wrote:
 * <ul>
 *   <li>a file only ever appended to (O_APPEND) keeps its length and the
 *       digest of its content, and nothing is copied: a restore cuts it
 *       back;</li>
 *   <li>any other written file is copied into the epoch, or hard-linked
 *       from the previous epoch's copy when its size, mtime, inode and
 *       change time show it has not changed since;</li>
 *   <li>a written file that no longer exists is recorded as absent.</li>
 * </ul>
 * Files the tree never wrote are not read at all, however large.
 */
final class WorkdirCapture {
  static final String INDEX = "workdir.index";

  /** The running digest of an append-only file, so that each epoch reads only what was appended. */
  private record Running(FileKey key, long size, MessageDigest state) {}

  private final Map<String, Running> running = new HashMap<>();

  /**
   * @param previous the previous epoch's snapshot directory of this node, or null
   */
  WorkdirSnapshot capture(Path workdir, SortedMap<String, WrittenSet.Seen> written, Path dest, Path previous,
      Instant capturedAt, Consumer<String> warn) throws IOException {
    Files.createDirectories(dest);
    Map<String, IndexEntry> before = previous == null ? Map.of() : readIndex(previous);
    List<FileDigest> copies = new ArrayList<>();
    List<WrittenFile> files = new ArrayList<>();
    List<IndexEntry> index = new ArrayList<>();
    for (Map.Entry<String, WrittenSet.Seen> e : written.entrySet()) {
      String rel = e.getKey();
      Path live = workdir.resolve(rel);
      PosixFileAttributes a = Reach.regularFile(workdir, rel);
      if (a == null) {
        if (Reach.parentsAreDirectories(workdir, live) && !Files.exists(live, LinkOption.NOFOLLOW_LINKS)) {
          files.add(WrittenFile.absent(rel));
        } else {
          warn.accept("not recording " + rel + ": it, or a directory on its way, is no longer a regular"
              + " file or directory (a symlink?)");
        }
        continue;
      }
      int mode = Reach.mode(live);
      if (e.getValue().append()) {
        files.add(new WrittenFile(rel, WrittenFile.State.APPEND, a.size(), appendDigest(rel, live, a.size()), mode));
        continue;
      }
      IndexEntry now = new IndexEntry(rel, a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS),
          a.fileKey() + "@" + Reach.changeTime(live), null);
      Path copy = dest.resolve(rel);
      Files.createDirectories(copy.getParent());
      IndexEntry old = before.get(rel);
      String sha;
      if (old != null && old.sameFileState(now) && Files.isRegularFile(previous.resolve(rel), LinkOption.NOFOLLOW_LINKS)) {
        Files.createLink(copy, previous.resolve(rel));
        sha = old.sha256();
      } else {
        sha = copyAndDigest(live, copy);
      }
      long size = Files.size(copy);
      copies.add(new FileDigest(rel, size, sha));
      files.add(new WrittenFile(rel, WrittenFile.State.COPY, size, sha, mode));
      index.add(new IndexEntry(rel, size, now.mtime(), now.fileKey(), sha));
    }
    writeIndex(dest, index);
    return new WorkdirSnapshot(copies, new WorkdirRecord(capturedAt, files));
  }

  /** Digest of the first size bytes, reading only what was appended since the last epoch when it can. */
  private String appendDigest(String rel, Path live, long size) throws IOException {
    FileKey key = FileKey.ofPath(live);
    Running r = running.get(rel);
    MessageDigest md;
    long from;
    if (r != null && r.key().equals(key) && r.size() <= size) {
      md = cloneOf(r.state());
      from = r.size();
    } else {
      md = Sha256.start();
      from = 0;
    }
    Sha256.update(md, live, from, size);
    running.put(rel, new Running(key, size, cloneOf(md)));
    return Sha256.hex(md);
  }

  private static MessageDigest cloneOf(MessageDigest md) {
    try {
      return (MessageDigest) md.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException("SHA-256 of this JVM cannot be cloned", e);
    }
  }

  private static String copyAndDigest(Path from, Path to) throws IOException {
    MessageDigest md = Sha256.start();
    try (InputStream in = Files.newInputStream(from, LinkOption.NOFOLLOW_LINKS);
        OutputStream out = new DigestOutputStream(Files.newOutputStream(to, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE), md)) {
      in.transferTo(out);
    }
    Files.setLastModifiedTime(to, Files.getLastModifiedTime(from, LinkOption.NOFOLLOW_LINKS));
    return Sha256.hex(md);
  }

  private record IndexEntry(String path, long size, long mtime, String fileKey, String sha256) {
    boolean sameFileState(IndexEntry o) {
      return size == o.size && mtime == o.mtime && fileKey.equals(o.fileKey);
    }
  }

  private static Path indexOf(Path snapshot) {
    return snapshot.resolveSibling(INDEX);
  }

  private static Map<String, IndexEntry> readIndex(Path snapshot) throws IOException {
    Map<String, IndexEntry> map = new HashMap<>();
    Path index = indexOf(snapshot);
    if (!Files.exists(index)) {
      return map;
    }
    for (String line : Files.readAllLines(index)) {
      String[] f = line.split("\t");
      if (f.length == 5) {
        map.put(f[0], new IndexEntry(f[0], Long.parseLong(f[1]), Long.parseLong(f[2]), f[3], f[4]));
      }
    }
    return map;
  }

  private static void writeIndex(Path dest, List<IndexEntry> entries) throws IOException {
    StringBuilder b = new StringBuilder();
    for (IndexEntry e : entries) {
      b.append(e.path()).append('\t').append(e.size()).append('\t').append(e.mtime()).append('\t')
          .append(e.fileKey()).append('\t').append(e.sha256()).append('\n');
    }
    Files.writeString(indexOf(dest), b.toString());
  }
}
