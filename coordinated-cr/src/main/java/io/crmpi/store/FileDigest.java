package io.crmpi.store;

import java.util.Objects;

/**
 * One file of a checkpoint, as recorded in the manifest: its path relative
 * to the directory it belongs to, its size and its SHA-256 (lower-case hex).
 */
public record FileDigest(String path, long size, String sha256) {
  public FileDigest {
    Objects.requireNonNull(path, "path");
    if (path.isEmpty() || path.startsWith("/") || path.contains("..")) {
      throw new IllegalArgumentException("path must be relative and inside its directory: " + path);
    }
    if (size < 0) {
      throw new IllegalArgumentException("size < 0: " + size);
    }
    Objects.requireNonNull(sha256, "sha256");
    if (!sha256.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("sha256 is not 64 lower-case hex digits: " + sha256);
    }
  }
}
