package io.crmpi.workdir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;

/** Which file an open descriptor or a path names: its device and inode numbers. */
record FileKey(long dev, long ino) {
  /** The file path names, without following a final symlink. */
  static FileKey ofPath(Path path) throws IOException {
    return of(Files.readAttributes(path, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS));
  }

  /** The file an open descriptor link (/proc/PID/fd/N) leads to. */
  static FileKey ofDescriptor(Path fdLink) throws IOException {
    return of(Files.readAttributes(fdLink, "unix:dev,ino"));
  }

  private static FileKey of(Map<String, Object> a) {
    return new FileKey((Long) a.get("dev"), (Long) a.get("ino"));
  }
}
