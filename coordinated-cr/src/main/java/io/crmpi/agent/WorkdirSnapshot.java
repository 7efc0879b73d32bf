package io.crmpi.agent;

import io.crmpi.store.FileDigest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.TimeUnit;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * The job's working directory as it was at a checkpoint. Files a job writes
 * after a checkpoint must roll back with it (and CRIU refuses to restore a
 * process whose open file changed size), so the agent copies the directory
 * while the tree is frozen and puts it back before a restore.
 *
 * <p>A capture copies only what changed since the previous epoch: a file
 * whose size, modification and change times (ns) and inode match that epoch's index is
 * hard-linked from the previous copy with its known digest; the rest is
 * copied and digested in one pass. Restore rewrites the files whose content
 * differs from the snapshot and removes files the job created later.
 */
public final class WorkdirSnapshot {
  static final String INDEX = "workdir.index";
  private static final int BUFFER = 1 << 20;

  private WorkdirSnapshot() {}

  /**
   * Copies workdir into dest (created) and writes dest's index beside it.
   *
   * @param excluded directories inside workdir that are not part of the job
   *     (crmpi's own state)
   * @param previous the previous epoch's snapshot directory, or null
   */
  public static List<FileDigest> capture(Path workdir, Path dest, Path previous, Set<Path> excluded)
      throws IOException {
    Files.createDirectories(dest);
    Map<String, IndexEntry> before = previous == null ? Map.of() : readIndex(previous);
    List<FileDigest> digests = new ArrayList<>();
    List<IndexEntry> index = new ArrayList<>();
    for (Path file : regularFiles(workdir, excluded)) {
      String rel = relative(workdir, file);
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      IndexEntry now = new IndexEntry(rel, a.size(), a.lastModifiedTime().to(TimeUnit.NANOSECONDS),
          a.fileKey() + "@" + changeTime(file), null);
      Path target = dest.resolve(rel);
      Files.createDirectories(target.getParent());
      IndexEntry old = before.get(rel);
      String sha;
      if (old != null && old.sameFileState(now) && Files.exists(previous.resolve(rel))) {
        Files.createLink(target, previous.resolve(rel));
        sha = old.sha256();
      } else {
        sha = copyAndDigest(file, target);
      }
      digests.add(new FileDigest(rel, a.size(), sha));
      index.add(new IndexEntry(rel, now.size(), now.mtime(), now.fileKey(), sha));
    }
    writeIndex(dest, index);
    return digests;
  }

  /**
   * Puts workdir back to the snapshot: files that differ are rewritten from
   * it, files the snapshot does not have are deleted. Each change is
   * reported to log.
   */
  public static void restore(Path snapshot, List<FileDigest> files, Path workdir, Set<Path> excluded,
      Consumer<String> log) throws IOException {
    Set<String> wanted = new HashSet<>();
    for (FileDigest f : files) {
      wanted.add(f.path());
      Path live = workdir.resolve(f.path());
      if (Files.isRegularFile(live, LinkOption.NOFOLLOW_LINKS) && Files.size(live) == f.size()
          && digest(live).equals(f.sha256())) {
        continue;
      }
      Files.createDirectories(live.getParent());
      Path tmp = live.resolveSibling(live.getFileName() + ".crmpi-restore");
      Files.copy(snapshot.resolve(f.path()), tmp, StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.COPY_ATTRIBUTES);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.move(tmp, live, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      log.accept("restored " + f.path() + " (" + f.size() + " bytes) to its checkpoint state");
    }
    for (Path file : regularFiles(workdir, excluded)) {
      String rel = relative(workdir, file);
      if (!wanted.contains(rel)) {
        Files.delete(file);
        log.accept("removed " + rel + ": created after the checkpoint");
      }
    }
  }

  /** The inode change time: set by the kernel on every write, unlike mtime it cannot be set back. */
  private static long changeTime(Path file) throws IOException {
    return ((FileTime) Files.getAttribute(file, "unix:ctime", LinkOption.NOFOLLOW_LINKS))
        .to(TimeUnit.NANOSECONDS);
  }

  private static List<Path> regularFiles(Path root, Set<Path> excluded) throws IOException {
    List<Path> files = new ArrayList<>();
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
        return excluded.contains(dir) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
        if (attrs.isRegularFile() && !file.getFileName().toString().endsWith(".crmpi-restore")) {
          files.add(file);
        }
        return FileVisitResult.CONTINUE;
      }
    });
    files.sort(null);
    return files;
  }

  private static String relative(Path base, Path file) {
    return base.relativize(file).toString().replace('\\', '/');
  }

  private static String copyAndDigest(Path from, Path to) throws IOException {
    MessageDigest md = sha256();
    try (InputStream in = Files.newInputStream(from);
        OutputStream out = new DigestOutputStream(Files.newOutputStream(to), md)) {
      in.transferTo(out);
    }
    Files.setLastModifiedTime(to, Files.getLastModifiedTime(from));
    return HexFormat.of().formatHex(md.digest());
  }

  private static String digest(Path file) throws IOException {
    MessageDigest md = sha256();
    byte[] buf = new byte[BUFFER];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buf)) > 0; ) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256 in this JVM", e);
    }
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
