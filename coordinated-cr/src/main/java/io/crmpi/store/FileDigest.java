package io.crmpi.store;

import java.util.Objects;

/**
 * One file of a checkpoint, as recorded in the manifest: its path relative
 * to the directory it belongs to, its size and its SHA-256 (lower-case hex).
 * An image file crmpid has made durable but not yet sealed has no SHA-256
 * yet ({@link #unsealed}): its epoch is committed, and restorable only once
 * the seal brings every digest (see {@link Manifest#sealed()}).
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
    if (sha256 != null && !sha256.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("sha256 is not 64 lower-case hex digits: " + sha256);
    }
  }

  /** A durable file whose digest its seal brings later. */
  public static FileDigest unsealed(String path, long size) {
    return new FileDigest(path, size, null);
  }

  /** Whether the file's SHA-256 is known (false only between an epoch's commit and its seal). */
  public boolean digested() {
    return sha256 != null;
  }
}
