package io.crmpi.store;

import java.util.Objects;

/**
 * The state at a checkpoint of one file in the job's working directory that
 * the node tree wrote, as recorded in the manifest. Only such files are
 * rolled back at a restore.
 *
 * @param path relative to the working directory, '/' separated
 * @param state how the file is kept: a copy in the epoch, a length to cut
 *     an append-only file back to, or its absence
 * @param size the file's length at the checkpoint (0 when absent)
 * @param sha256 SHA-256 of the file's first size bytes (its whole content
 *     for COPY), null when absent
 * @param mode the permission bits (07777) at the checkpoint, null when absent
 */
public record WrittenFile(String path, State state, long size, String sha256, Integer mode) {
  /** How a written file comes back at a restore. */
  public enum State {
    /** A copy of the file is in the epoch's snapshot directory. */
    COPY,
    /** The file is only appended to: it is cut back to size, after its first size bytes are checked. */
    APPEND,
    /** The file did not exist at the checkpoint. */
    ABSENT
  }

  public WrittenFile {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(state, "state");
    if (path.isEmpty() || path.startsWith("/") || java.util.List.of(path.split("/")).contains("..")) {
      throw new IllegalArgumentException("path must be relative and inside the working directory: " + path);
    }
    if (size < 0) {
      throw new IllegalArgumentException("size < 0: " + size);
    }
    if (state == State.ABSENT) {
      if (size != 0 || sha256 != null || mode != null) {
        throw new IllegalArgumentException("an absent file has no size, digest or mode: " + path);
      }
    } else {
      Objects.requireNonNull(sha256, "sha256");
      if (!sha256.matches("[0-9a-f]{64}")) {
        throw new IllegalArgumentException("sha256 is not 64 lower-case hex digits: " + sha256);
      }
      Objects.requireNonNull(mode, "mode");
      if (mode < 0 || mode > 07777) {
        throw new IllegalArgumentException("mode is not within 07777: " + mode);
      }
    }
  }

  public static WrittenFile absent(String path) {
    return new WrittenFile(path, State.ABSENT, 0, null, null);
  }
}
