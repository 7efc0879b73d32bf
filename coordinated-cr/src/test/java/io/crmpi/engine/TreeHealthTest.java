package io.crmpi.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A frozen tree's health before its dump, on real processes. */
class TreeHealthTest {
  private static final String SELF = Long.toString(ProcessHandle.current().pid());

  @Test
  void aTreeWithAllItsProcessesIsWhole() throws Exception {
    Process child = new ProcessBuilder("sleep", "30").start();
    try {
      assertEquals(2, TreeHealth.requireWhole(List.of(SELF, Long.toString(child.pid())), 2));
    } finally {
      child.destroyForcibly();
    }
  }

  @Test
  void fewerProcessesThanAtTheLastHealthyCheckpointIsAFailingJob() {
    IOException e = assertThrows(IOException.class, () -> TreeHealth.requireWhole(List.of(SELF), 4));
    assertEquals("the node tree has 1 processes, 4 at its last healthy checkpoint: a process ended, the job may be"
        + " failing; no checkpoint is taken until it has its processes back or restarts", e.getMessage());
  }

  @Test
  void aZombieIsADeadProcess() throws Exception {
    // A child that exited and was not reaped yet: ProcessBuilder's reaper waits for it, so make one it does not
    // know of, through a shell that execs a sleeper and leaves its own child unreaped.
    Process sh = new ProcessBuilder("sh", "-c", "true & exec sleep 30").start();
    try {
      long zombie = 0;
      for (int i = 0; i < 200 && zombie == 0; i++) {
        Thread.sleep(10);
        zombie = sh.toHandle().children().mapToLong(ProcessHandle::pid).findFirst().orElse(0);
      }
      assertTrue(zombie > 0, "no child of the shell");
      java.nio.file.Path stat = java.nio.file.Path.of("/proc", Long.toString(zombie), "stat");
      for (int i = 0; i < 200 && !java.nio.file.Files.readString(stat).contains(") Z "); i++) {
        Thread.sleep(10);
      }
      long z = zombie;
      IOException e = assertThrows(IOException.class,
          () -> TreeHealth.requireWhole(List.of(Long.toString(sh.pid()), Long.toString(z)), 0));
      assertTrue(e.getMessage().contains("of the node tree died during the checkpoint"), e.getMessage());
    } finally {
      sh.destroyForcibly();
    }
  }

  @Test
  void aTreeWithNoProcessesLeftIsSaid() {
    IOException e = assertThrows(IOException.class, () -> TreeHealth.requireWhole(List.of(), 0));
    assertEquals("the node tree has no processes left", e.getMessage());
  }
}
