package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sweep of trees' runtime directories removes only what is due, unused
 * and free of mounts, and never reaches through a symlink.
 */
class TreeDirSweepTest {
  private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
  private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

  @TempDir
  Path tmp;

  private final List<Path> mounts = new ArrayList<>();

  private TreeDirSweep sweep(Path trees) {
    return new TreeDirSweep(trees, Duration.ofDays(1), CLOCK, () -> List.copyOf(mounts));
  }

  /** A runtime directory with files, a subdirectory and a link out of it, everything last changed at t. */
  private static Path runtimeDir(Path trees, String uid, String name, Path linkTarget, Instant t) throws IOException {
    Path d = trees.resolve(uid).resolve(name);
    Files.createDirectories(d.resolve("restore-root/etc"));
    Files.writeString(d.resolve("launch.env"), "A=1\n");
    Files.writeString(d.resolve("restore-root/etc/criu.log"), "log\n");
    Files.createSymbolicLink(d.resolve("restore-root/escape"), linkTarget);
    try (Stream<Path> all = Files.walk(d)) {
      for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        if (!Files.isSymbolicLink(p)) {
          Files.setLastModifiedTime(p, FileTime.from(t));
        }
      }
    }
    return d;
  }

  @Test
  void anOldUnusedDirectoryGoesAndNothingBeyondItsLinks() throws IOException {
    Path trees = tmp.resolve("trees");
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.writeString(outside.resolve("keep.txt"), "the user's file\n");
    Path old = runtimeDir(trees, "1001", "job.local.0123abcd", outside, NOW.minus(Duration.ofDays(2)));

    assertEquals(1, sweep(trees).sweep(Set.of()));

    assertFalse(Files.exists(old, LinkOption.NOFOLLOW_LINKS));
    assertTrue(Files.isDirectory(trees.resolve("1001")));
    assertEquals("the user's file\n", Files.readString(outside.resolve("keep.txt")));
  }

  @Test
  void aDirectoryInUseRecentlyChangedOrHoldingAMountStays() throws IOException {
    Path trees = tmp.resolve("trees");
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Instant longAgo = NOW.minus(Duration.ofDays(3));
    Path used = runtimeDir(trees, "1001", "a.node0.11111111", outside, longAgo);
    Path recent = runtimeDir(trees, "1001", "b.node0.22222222", outside, longAgo);
    Files.setLastModifiedTime(recent.resolve("launch.env"), FileTime.from(NOW.minus(Duration.ofHours(2))));
    Path mounted = runtimeDir(trees, "1002", "c.node1.33333333", outside, longAgo);
    mounts.add(mounted.resolve("restore-root"));
    Path notAUser = runtimeDir(trees, "lost+found", "d.node0.44444444", outside, longAgo);
    Path due = runtimeDir(trees, "1002", "e.node1.55555555", outside, longAgo);

    assertEquals(1, sweep(trees).sweep(Set.of(used)));

    assertTrue(Files.exists(used.resolve("launch.env")));
    assertTrue(Files.exists(recent.resolve("launch.env")));
    assertTrue(Files.exists(mounted.resolve("restore-root/etc/criu.log")));
    assertTrue(Files.exists(notAUser.resolve("launch.env")));
    assertFalse(Files.exists(due, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void nothingIsSweptWhenTheTreesDirectoryIsUnderAMount() throws IOException {
    Path trees = tmp.resolve("trees");
    Path old = runtimeDir(trees, "1001", "job.local.0123abcd", tmp, NOW.minus(Duration.ofDays(2)));
    mounts.add(tmp);

    assertEquals(0, sweep(trees).sweep(Set.of()));
    assertTrue(Files.exists(old.resolve("launch.env")));
    assertEquals(0, sweep(tmp.resolve("absent")).sweep(Set.of()));
  }

  @Test
  void aSweepSkipsWhatAUseMarksUntilItIsClosed() throws IOException {
    Path trees = tmp.resolve("trees");
    Path old = runtimeDir(trees, "1001", "job.local.0123abcd", tmp.resolve("x"), NOW.minus(Duration.ofDays(2)));
    RuntimeDirs dirs = new RuntimeDirs();
    RuntimeDirs.Use first = dirs.use(old);
    RuntimeDirs.Use second = dirs.use(old);
    assertEquals(0, dirs.sweep(sweep(trees)));
    first.close();
    assertEquals(0, dirs.sweep(sweep(trees)));
    second.close();
    assertEquals(1, dirs.sweep(sweep(trees)));
    assertFalse(Files.exists(old, LinkOption.NOFOLLOW_LINKS));
  }
}
