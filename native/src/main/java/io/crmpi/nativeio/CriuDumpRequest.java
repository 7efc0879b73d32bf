package io.crmpi.nativeio;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * One {@code criu dump} of a process tree.
 *
 * @param pid the root of the tree (the node tree's init)
 * @param imagesDir an existing, empty directory for the images
 * @param logFile the log's file name, written inside imagesDir
 * @param leaveRunning keep the tree alive after the dump
 * @param freezeCgroup the freezer cgroup the tree is frozen in, or null to
 *     let CRIU freeze it
 * @param externalMounts mount point inside the tree to the key it is saved
 *     under: these mounts are not dumped, but bound again at restore
 * @param ghostLimit the largest deleted-but-open file CRIU keeps, in bytes
 */
public record CriuDumpRequest(
    long pid,
    Path imagesDir,
    String logFile,
    boolean leaveRunning,
    Path freezeCgroup,
    Map<String, String> externalMounts,
    int ghostLimit) {
  public CriuDumpRequest {
    if (pid <= 1) {
      throw new IllegalArgumentException("pid <= 1: " + pid);
    }
    Objects.requireNonNull(imagesDir, "imagesDir");
    Objects.requireNonNull(logFile, "logFile");
    if (logFile.contains("/")) {
      throw new IllegalArgumentException("logFile must be a plain name: " + logFile);
    }
    externalMounts = Map.copyOf(externalMounts);
    if (ghostLimit < 0) {
      throw new IllegalArgumentException("ghostLimit < 0: " + ghostLimit);
    }
  }
}
