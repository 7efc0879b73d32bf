package io.crmpi.store;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What one node recorded of the working directory at a checkpoint: every
 * file its tree had written by then, in the state it was in.
 *
 * @param capturedAt when the record was taken, with the tree frozen; a file
 *     the tree created after it is removed at a restore
 * @param files the written files, sorted by path
 */
public record WorkdirRecord(Instant capturedAt, List<WrittenFile> files) {
  public WorkdirRecord {
    Objects.requireNonNull(capturedAt, "capturedAt");
    files = List.copyOf(files);
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (WrittenFile f : files) {
      if (!seen.add(f.path())) {
        throw new IllegalArgumentException("file listed twice: " + f.path());
      }
    }
  }
}
