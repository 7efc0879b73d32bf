package io.crmpi.remote;

import io.crmpi.store.Digests;
import io.crmpi.wire.BadMessage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;

/**
 * Receives a copy that {@link CopyTree} sends into a new directory, the
 * partial copy, checking every step against what was announced: each path
 * stays inside the directory (its parent sent before it, nothing created
 * twice, links never followed), each file gets exactly its announced size,
 * and the counts and bytes match at the end. Directories are made 0700 and
 * files 0600 (the copy is the job user's alone). A partner copy is fsynced
 * before it is reported complete (it is a level of the epoch); a copy
 * fetched for a restore is not: it is read at once, through the page cache,
 * and every restore verifies the image's digests first, so a fetched copy
 * that a crash tore is refused there and fetched again. On any failure the
 * caller deletes the partial copy.
 */
final class CopyReceiver {
  static final FileAttribute<Set<PosixFilePermission>> DIR_MODE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
  private static final FileAttribute<Set<PosixFilePermission>> FILE_MODE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final String ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

  private final Path dir;
  private final int dirs;
  private final int files;
  private final long bytes;
  private final boolean durable;
  private int dirsSeen;
  private int filesSeen;
  private long bytesSeen;
  private FileChannel current;
  private String currentPath;
  private long currentLeft;

  private CopyReceiver(Path dir, int dirs, int files, long bytes, boolean durable) {
    this.dir = dir;
    this.dirs = dirs;
    this.files = files;
    this.bytes = bytes;
    this.durable = durable;
  }

  /**
   * A fresh name beside target to receive it into: {@code
   * .<target name>.partial-<random>}, the partial copies that {@link
   * io.crmpi.store.NodeLocalLevel#prune} recognizes and removes.
   */
  static Path partialBeside(Path target) {
    StringBuilder random = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      random.append(ALNUM.charAt(RANDOM.nextInt(ALNUM.length())));
    }
    return target.resolveSibling("." + target.getFileName() + ".partial-" + random);
  }

  /**
   * Creates dir (which must not exist) and receives into it the copy
   * announced with these counts, up to its End; returns once the copy is
   * complete (and durable, when asked), with the bytes of file data
   * received.
   */
  static long receive(SecureChannel<?, PartnerMessage> channel, Path dir, int dirs, int files, long bytes,
      boolean durable) throws IOException {
    Files.createDirectory(dir, DIR_MODE);
    CopyReceiver r = new CopyReceiver(dir.toAbsolutePath().normalize(), dirs, files, bytes, durable);
    try {
      r.receiveAll(channel);
    } finally {
      if (r.current != null) {
        r.current.close();
      }
    }
    if (durable) {
      Digests.fsyncTree(dir);
    }
    return r.bytesSeen;
  }

  private void receiveAll(SecureChannel<?, PartnerMessage> channel) throws IOException {
    for (;;) {
      PartnerMessage m;
      try {
        m = channel.receive();
      } catch (BadMessage e) {
        throw new IOException("a bad message in the copy: " + e.getMessage());
      }
      if (m == null) {
        throw new IOException("the connection ended in the middle of the copy");
      }
      if (m instanceof PartnerMessage.Data d) {
        write(d.bytes());
      } else if (m instanceof PartnerMessage.FileStart f) {
        start(f);
      } else if (m instanceof PartnerMessage.Dir d) {
        directory(d.path());
      } else if (m instanceof PartnerMessage.End) {
        requireNoOpenFile("the end of the copy");
        if (dirsSeen != dirs || filesSeen != files || bytesSeen != bytes) {
          throw new IOException("the copy ended after " + dirsSeen + " directories, " + filesSeen + " files and "
              + bytesSeen + " bytes; " + dirs + ", " + files + " and " + bytes + " were announced");
        }
        return;
      } else if (m instanceof PartnerMessage.Refused r) {
        throw new IOException("the sender gave up the copy: " + BadMessage.quote(r.why()));
      } else {
        throw new IOException("unexpected " + m.getClass().getSimpleName() + " in the middle of the copy");
      }
    }
  }

  private void directory(String path) throws IOException {
    requireNoOpenFile("directory " + path);
    if (++dirsSeen > dirs) {
      throw new IOException("more directories than the " + dirs + " announced");
    }
    try {
      Files.createDirectory(resolve(path), DIR_MODE);
    } catch (FileAlreadyExistsException e) {
      throw new IOException(path + " arrived twice in the copy");
    }
  }

  private void start(PartnerMessage.FileStart f) throws IOException {
    requireNoOpenFile("file " + f.path());
    if (++filesSeen > files) {
      throw new IOException("more files than the " + files + " announced");
    }
    if (f.size() > bytes - bytesSeen) {
      throw new IOException("file " + f.path() + " of " + f.size() + " bytes takes the copy past the " + bytes
          + " bytes announced");
    }
    try {
      current = FileChannel.open(resolve(f.path()), Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
          LinkOption.NOFOLLOW_LINKS), FILE_MODE);
    } catch (FileAlreadyExistsException e) {
      throw new IOException(f.path() + " arrived twice in the copy");
    }
    currentPath = f.path();
    currentLeft = f.size();
    if (currentLeft == 0) {
      finishFile();
    }
  }

  private void write(byte[] data) throws IOException {
    if (current == null) {
      throw new IOException("file data outside a file");
    }
    if (data.length > currentLeft) {
      throw new IOException("more data for " + currentPath + " than its announced size: refused");
    }
    ByteBuffer b = ByteBuffer.wrap(data);
    while (b.hasRemaining()) {
      current.write(b);
    }
    currentLeft -= data.length;
    bytesSeen += data.length;
    if (currentLeft == 0) {
      finishFile();
    }
  }

  private void finishFile() throws IOException {
    try {
      if (durable) {
        current.force(true);
      }
    } finally {
      current.close();
      current = null;
    }
  }

  private void requireNoOpenFile(String next) throws IOException {
    if (current != null) {
      throw new IOException(next + " arrived with " + currentLeft + " bytes of " + currentPath + " still missing");
    }
  }

  /** path inside dir, whose parent must be a directory already received (not a link). */
  private Path resolve(String path) throws IOException {
    Path p = dir;
    for (String name : PartnerMessage.requirePath(path).split("/")) {
      p = p.resolve(name);
    }
    if (!p.normalize().startsWith(dir) || p.normalize().equals(dir)) {
      throw new IOException("path " + path + " is outside the copy: refused");
    }
    if (!Files.isDirectory(p.getParent(), LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(path + " arrived before its directory");
    }
    return p;
  }
}
