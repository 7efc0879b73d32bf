package io.crmpi.remote;

import io.crmpi.store.NodeLocalLevel;
import java.util.Objects;

/**
 * The partner-copy wire ({@link PartnerLink} to {@link PartnerPort}), after
 * {@link SecureChannel}'s handshake. One request per connection:
 *
 * <pre>
 * put: client Put(node, epoch, dirs, files, bytes)
 *      server Ready                                  (or Refused)
 *      client the copy: Dir(path)*, then per file FileStart(path, size) Data*, then End
 *      server Ok(bytes), once the copy is durable    (or Refused)
 *
 * get: client Get(node, epoch)
 *      server Holding(dirs, files, bytes), then the copy as above  (or NoCopy, or Refused)
 * </pre>
 *
 * <p>A copy travels as its directories (parents first) and its regular
 * files, named by paths relative to the copy's root with '/' separators;
 * every path, count and size is checked here, so a message that names a
 * path outside the copy does not even decode.
 */
sealed interface PartnerMessage {
  /** The most file data one {@link Data} carries: lines stay well below {@link Wire#MAX_PARTNER_LINE}. */
  int MAX_DATA = 1 << 20;
  /** The most directories plus files one copy may have (a node's part of an epoch has far fewer). */
  int MAX_ENTRIES = 8192;
  /** The longest relative path of a copy's file or directory. */
  int MAX_PATH = 1024;

  /** Client: keep my copy of node's part of epoch, of dirs directories and files files of bytes bytes in all. */
  record Put(String node, long epoch, int dirs, int files, long bytes) implements PartnerMessage {
    public Put {
      requireNodeAndEpoch(node, epoch);
      requireCounts(dirs, files, bytes);
    }
  }

  /** Client: send me your copy of node's part of epoch. */
  record Get(String node, long epoch) implements PartnerMessage {
    public Get {
      requireNodeAndEpoch(node, epoch);
    }
  }

  /** Server: the put is accepted; send the copy. */
  record Ready() implements PartnerMessage {}

  /** Server, to a get: the copy follows, of these counts. */
  record Holding(int dirs, int files, long bytes) implements PartnerMessage {
    public Holding {
      requireCounts(dirs, files, bytes);
    }
  }

  /** Server, to a get: it holds no copy of node's part of epoch. */
  record NoCopy(String node, long epoch) implements PartnerMessage {
    public NoCopy {
      requireNodeAndEpoch(node, epoch);
    }
  }

  /** A directory of the copy; its parent was sent before it. */
  record Dir(String path) implements PartnerMessage {
    public Dir {
      requirePath(path);
    }
  }

  /** A regular file of the copy, whose size bytes follow in {@link Data} messages. */
  record FileStart(String path, long size) implements PartnerMessage {
    public FileStart {
      requirePath(path);
      if (size < 0) {
        throw new IllegalArgumentException("file size < 0: " + size);
      }
    }
  }

  /** The next bytes of the file last started (a binary frame on the wire: {@link SecureChannel#sendBlob}). */
  record Data(byte[] bytes) implements PartnerMessage {
    public Data {
      Objects.requireNonNull(bytes, "bytes");
      if (bytes.length == 0 || bytes.length > MAX_DATA) {
        throw new IllegalArgumentException("data of " + bytes.length + " bytes (want 1 to " + MAX_DATA + ")");
      }
    }
  }

  /** The copy is complete. */
  record End() implements PartnerMessage {}

  /** Server: the copy of bytes bytes of file data is complete and durable. */
  record Ok(long bytes) implements PartnerMessage {
    public Ok {
      if (bytes < 0) {
        throw new IllegalArgumentException("bytes < 0: " + bytes);
      }
    }
  }

  /** Either end: the request or the copy is refused, and why; the connection ends. */
  record Refused(String why) implements PartnerMessage {
    public Refused {
      if (why == null || why.isBlank() || why.length() > 2000) {
        throw new IllegalArgumentException("a refusal needs a reason of at most 2000 characters");
      }
    }
  }

  private static void requireNodeAndEpoch(String node, long epoch) {
    if (node == null || !NodeLocalLevel.NODE_NAME.matcher(node).matches()) {
      throw new IllegalArgumentException("bad node name '" + node + "'");
    }
    if (epoch <= 0) {
      throw new IllegalArgumentException("epoch <= 0: " + epoch);
    }
  }

  private static void requireCounts(int dirs, int files, long bytes) {
    if (dirs < 0 || files < 0 || (long) dirs + files > MAX_ENTRIES) {
      throw new IllegalArgumentException(dirs + " directories and " + files + " files: want at most "
          + MAX_ENTRIES + " in all");
    }
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes < 0: " + bytes);
    }
  }

  /**
   * Checks a path of the copy: relative, '/'-separated, every component a
   * plain name (not empty, ".", ".." nor with a backslash or a control
   * character), so that it can only name something inside the copy.
   */
  static String requirePath(String path) {
    if (path == null || path.isEmpty() || path.length() > MAX_PATH) {
      throw new IllegalArgumentException("a path of the copy must have 1 to " + MAX_PATH + " characters");
    }
    if (path.startsWith("/")) {
      throw new IllegalArgumentException("absolute path in the copy: refused");
    }
    for (String name : path.split("/", -1)) {
      if (name.isEmpty() || name.equals(".") || name.equals("..")) {
        throw new IllegalArgumentException("path of the copy with an empty, '.' or '..' component: refused");
      }
      if (name.indexOf('\\') >= 0 || name.chars().anyMatch(Character::isISOControl)) {
        throw new IllegalArgumentException("path of the copy with a backslash or a control character: refused");
      }
    }
    return path;
  }
}
