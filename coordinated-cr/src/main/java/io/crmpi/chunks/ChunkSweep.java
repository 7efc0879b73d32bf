package io.crmpi.chunks;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Removes the packs no recipe refers to any more (mark and sweep), after
 * retention removed epochs. Crash-safe by its order and its limits:
 * <ul>
 *   <li>every recipe under the job's epochs directory counts, committed or
 *       not, so a pack is never removed while any epoch directory could
 *       still be restored from it;
 *   <li>a pack of an epoch not older than the newest epoch already held at
 *       the shared level is never removed: a flush writing it may not have
 *       written its recipes yet;
 *   <li>a recipe that cannot be read stops the sweep (nothing is removed:
 *       its packs are unknown);
 *   <li>a crash half way leaves packs no recipe needs, for the next sweep.
 * </ul>
 */
public final class ChunkSweep {
  /** What one sweep did; skipped says why it removed nothing, or is null. */
  public record Result(int packsRemoved, long bytesFreed, String skipped) {}

  private ChunkSweep() {}

  /** Sweeps store, whose recipes are under epochsDir; newestShared is the newest epoch held at the shared level. */
  public static Result sweep(ChunkStore store, Path epochsDir, long newestShared) throws IOException {
    if (!Files.isDirectory(store.packs(), LinkOption.NOFOLLOW_LINKS)) {
      return new Result(0, 0, null);
    }
    Set<String> live = new HashSet<>();
    try {
      markAll(epochsDir, live);
    } catch (IOException | java.io.UncheckedIOException e) {
      return new Result(0, 0, "a recipe cannot be read, so no pack is removed: " + e.getMessage());
    }
    int removed = 0;
    long freed = 0;
    try (DirectoryStream<Path> packs = Files.newDirectoryStream(store.packs())) {
      for (Path p : packs) {
        String name = p.getFileName().toString();
        long epoch = PackName.epoch(name);
        if (epoch < 0 || epoch >= newestShared || live.contains(name)
            || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        long size = Files.size(p);
        if (Files.deleteIfExists(p)) {
          removed++;
          freed += size;
        }
      }
    }
    if (removed > 0) {
      ChunkStore.fsyncDirectory(store.packs());
    }
    return new Result(removed, freed, null);
  }

  /** Adds the packs every recipe under epochsDir refers to. */
  static void markAll(Path epochsDir, Set<String> live) throws IOException {
    if (!Files.isDirectory(epochsDir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (DirectoryStream<Path> epochs = Files.newDirectoryStream(epochsDir)) {
      for (Path epoch : epochs) {
        Path nodes = epoch.resolve("nodes");
        if (!Files.isDirectory(nodes, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        try (DirectoryStream<Path> each = Files.newDirectoryStream(nodes)) {
          for (Path node : each) {
            markImageDir(node.resolve("image"), live);
          }
        }
      }
    }
  }

  private static void markImageDir(Path imageDir, Set<String> live) throws IOException {
    if (!Files.isDirectory(imageDir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> files = Files.walk(imageDir)) {
      for (Path f : files.filter(f -> f.getFileName().toString().endsWith(ChunkStore.RECIPE_SUFFIX)).toList()) {
        try {
          live.addAll(ChunkRecipe.decode(Files.readAllBytes(f)).packs());
        } catch (IOException e) {
          throw new IOException(f + ": " + e.getMessage(), e);
        }
      }
    }
  }
}
