package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SlurmMembershipTest {
  @TempDir
  Path proc;

  /** A fake /proc entry: cmdline (NUL-separated), stat with the parent, status with the uids. */
  private void process(long pid, long ppid, int uid, String comm, String... argv) throws IOException {
    Path d = Files.createDirectories(proc.resolve(Long.toString(pid)));
    Files.writeString(d.resolve("cmdline"), String.join("\0", argv) + "\0");
    Files.writeString(d.resolve("stat"), pid + " (" + comm + ") S " + ppid + " 1 1 0 -1 4194560");
    Files.writeString(d.resolve("status"), "Name:\t" + comm + "\nUid:\t" + uid + "\t" + uid + "\t" + uid + "\t" + uid + "\n");
  }

  @Test
  void aProcessUnderAStepDaemonRunsInItsJob() throws IOException {
    process(100, 1, 0, "slurmstepd", "slurmstepd: [42.batch]");
    process(200, 100, 995, "bash", "/bin/bash", "/tmp/job.sh");
    process(300, 200, 995, "java", "java", "-cp", "x", "io.crmpi.cli.Main", "run");
    assertEquals(Optional.of(42L), new SlurmMembership(proc).jobOf(300));
  }

  @Test
  void aStepOfAnSrunCountsToo() throws IOException {
    process(100, 1, 0, "slurmstepd", "slurmstepd: [7.0]");
    process(300, 100, 995, "java", "java");
    assertEquals(Optional.of(7L), new SlurmMembership(proc).jobOf(300));
  }

  @Test
  void aProcessOutsideEveryJobRunsInNone() throws IOException {
    process(200, 1, 995, "bash", "bash");
    process(300, 200, 995, "java", "java");
    assertEquals(Optional.empty(), new SlurmMembership(proc).jobOf(300));
  }

  @Test
  void aUsersOwnProcessNamedLikeAStepDaemonDoesNotCount() throws IOException {
    process(100, 1, 995, "slurmstepd", "slurmstepd: [42.batch]");
    process(300, 100, 995, "java", "java");
    assertEquals(Optional.empty(), new SlurmMembership(proc).jobOf(300));
  }

  @Test
  void aCommandNameWithParenthesesAndSpacesIsParsed() throws IOException {
    process(100, 1, 0, "slurmstepd", "slurmstepd: [5.extern]");
    process(300, 100, 995, "a) b (c", "x");
    assertEquals(Optional.of(5L), new SlurmMembership(proc).jobOf(300));
  }

  @Test
  void aVanishedProcessRunsInNoJob() {
    assertEquals(Optional.empty(), new SlurmMembership(proc).jobOf(12345));
  }

  @Test
  void onlySlurmJobKeysNameASlurmJob() {
    assertEquals(OptionalLong.of(123), SlurmMembership.slurmJobOf(new TreeId("slurm-123", "node0")));
    assertEquals(OptionalLong.of(123), SlurmMembership.slurmJobOf(new TreeId("slurm-123.hal.alice", "node0")));
    assertEquals(OptionalLong.of(123), SlurmMembership.slurmJobOf(new TreeId("slurm-123.alice", "node0")));
    assertEquals(OptionalLong.empty(), SlurmMembership.slurmJobOf(new TreeId("ring", "local")));
    assertEquals(OptionalLong.empty(), SlurmMembership.slurmJobOf(new TreeId("slurm-12x", "node0")));
  }
}
