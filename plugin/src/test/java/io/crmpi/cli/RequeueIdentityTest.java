package io.crmpi.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.local.JobDirectory;
import io.crmpi.local.JobSpec;
import io.crmpi.slurm.SlurmJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A requeued Slurm job resumes only its own state: same command, same working directory. */
class RequeueIdentityTest {
  @TempDir
  Path root;

  private JobDirectory stored(List<String> command, Path wd) throws Exception {
    return stored("slurm-42.hal.alice", command, wd);
  }

  private JobDirectory stored(String name, List<String> command, Path wd) throws Exception {
    JobDirectory dir = JobDirectory.of(root, name);
    dir.create();
    dir.writeSpec(new JobSpec(JobSpec.FORMAT_VERSION, dir.name(), command, wd.toString(), Map.of(), "2s", 3, 5,
        "criu", Instant.parse("2026-11-30T10:00:00Z"), false));
    return dir;
  }

  @Test
  void theSameCommandInTheSameDirectoryIsThisJob() throws Exception {
    Path wd = Files.createDirectories(root.resolve("work"));
    JobDirectory dir = stored(List.of("mpirun", "-np", "4", "ring"), wd);
    assertEquals(Optional.empty(), RunCommand.strangerThan(dir, List.of("mpirun", "-np", "4", "ring"), wd));
  }

  @Test
  void anotherCommandOrDirectoryIsAnotherJobAndSaysWhich() throws Exception {
    Path wd = Files.createDirectories(root.resolve("work"));
    JobDirectory dir = stored(List.of("mpirun", "-np", "4", "ring"), wd);
    String command = RunCommand.strangerThan(dir, List.of("mpirun", "-np", "4", "halo"), wd).orElseThrow();
    assertTrue(command.contains("it ran mpirun -np 4 ring, not this job's command"), command);
    String where = RunCommand.strangerThan(dir, List.of("mpirun", "-np", "4", "ring"), root).orElseThrow();
    assertTrue(where.contains("it ran in " + wd + ", not in " + root), where);
  }

  @Test
  void aJobRequeuedAcrossTheKeyUpgradeResumesUnderItsOldKey() throws Exception {
    Path wd = Files.createDirectories(root.resolve("work"));
    List<String> ring = List.of("mpirun", "-np", "4", "ring");
    JobDirectory old = stored("slurm-42", ring, wd);
    SlurmJob requeued = new SlurmJob(42, 1, "hal", "alice");
    assertEquals(Optional.of(old.dir()), RunCommand.legacyOf(root, requeued, ring, wd).map(JobDirectory::dir));
    // Never on a first run, never another job's state, never another job id's.
    assertEquals(Optional.empty(), RunCommand.legacyOf(root, new SlurmJob(42, 0, "hal", "alice"), ring, wd));
    assertEquals(Optional.empty(), RunCommand.legacyOf(root, requeued, List.of("halo"), wd));
    assertEquals(Optional.empty(), RunCommand.legacyOf(root, new SlurmJob(43, 1, "hal", "alice"), ring, wd));
  }

  @Test
  void anUnreadableStoredJobIsNeverResumed() throws Exception {
    Path wd = Files.createDirectories(root.resolve("work"));
    JobDirectory dir = stored(List.of("ring"), wd);
    Files.writeString(dir.dir().resolve("job.json"), "{ not json");
    String why = RunCommand.strangerThan(dir, List.of("ring"), wd).orElseThrow();
    assertTrue(why.contains("cannot be read"), why);
  }

  @Test
  void aStateDirectoryInsideTheWorkingDirectoryIsSeenThroughLinks() throws Exception {
    Path home = Files.createDirectories(root.resolve("home"));
    assertTrue(RunCommand.inside(home.resolve(".crmpi"), home), "~/.crmpi is inside ~");
    assertTrue(!RunCommand.inside(root.resolve("state"), home));
    Path link = Files.createSymbolicLink(root.resolve("elsewhere"), home);
    assertTrue(RunCommand.inside(link.resolve("not-yet/state"), home), "a link into the working directory");
    assertTrue(!RunCommand.inside(root.resolve("home2"), home), "a sibling with a common prefix");
  }
}
