package io.crmpi.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The freeze path against the real kernel, with the cgroup v1 freezer and
 * with cgroup v2's built-in freezer (this test machine mounts both: v1
 * controllers under /sys/fs/cgroup and a cgroup2 hierarchy at
 * /sys/fs/cgroup/unified). Needs root, like crmpi itself today.
 */
class FreezerTest {
  private static final Path V1 = Path.of("/sys/fs/cgroup/freezer");

  private static Path hierarchy(String version) {
    if (version.equals("v1")) {
      return V1;
    }
    for (Path p : List.of(Path.of("/sys/fs/cgroup"), Path.of("/sys/fs/cgroup/unified"))) {
      if (Files.exists(p.resolve("cgroup.controllers"))) {
        return p;
      }
    }
    return null;
  }

  @ParameterizedTest
  @ValueSource(strings = {"v1", "v2"})
  void freezeThawAndKillAFrozenTask(String version) throws Exception {
    Path hierarchy = hierarchy(version);
    assumeTrue(hierarchy != null && Files.isWritable(hierarchy), "no writable cgroup " + version + " here");
    Freezer f = Freezer.under(hierarchy, version.equals("v2"), "freezer-test-" + ProcessHandle.current().pid());
    Process sleep = new ProcessBuilder("sleep", "120").start();
    try {
      Files.writeString(f.dir().resolve("cgroup.procs"), Long.toString(sleep.pid()));
      assertEquals(List.of(sleep.pid()), f.tasks());

      f.freeze();
      assertTrue(f.isFrozen());
      f.thaw();
      assertFalse(f.isFrozen());

      f.freeze();
      // A frozen task keeps a SIGKILL pending under the v1 freezer until it is thawed: killTasks must cope.
      assertEquals(1, f.killTasks(Duration.ofSeconds(10)));
      assertTrue(sleep.waitFor(10, TimeUnit.SECONDS), "the frozen task survived killTasks");
      assertEquals(List.of(), f.tasks());
    } finally {
      sleep.destroyForcibly();
      sleep.waitFor(10, TimeUnit.SECONDS);
      f.destroyQuietly();
    }
    assertFalse(Files.exists(f.dir()), "the cgroup was not removed: " + f.dir());
  }
}
