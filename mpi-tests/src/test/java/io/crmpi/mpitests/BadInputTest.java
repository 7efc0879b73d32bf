package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Bad input to the real crmpi command, typed by the ordinary user
 * crmpi-test1: each case gets one clear line on stderr, a non-zero exit
 * code, and nothing is deleted.
 */
class BadInputTest extends UserJobTest {
  private static void assertOneLineError(Crmpi.Result r, String expected) {
    assertEquals(2, r.exitCode(), r.describe());
    List<String> lines = r.stderr().lines().filter(l -> !l.isBlank()).toList();
    assertEquals(1, lines.size(), "expected one line on stderr:\n" + r.stderr());
    assertTrue(lines.get(0).startsWith("crmpi: "), r.stderr());
    assertTrue(lines.get(0).contains(expected), "'" + expected + "' not in: " + lines.get(0));
  }

  @Test
  void unknownJobNamesAreRejectedByEveryCommand() throws Exception {
    Crmpi c = userJob();
    for (String cmd : List.of("status", "restart", "checkpoint", "manifest")) {
      assertOneLineError(c.run(cmd, daemonEnv(), List.of(cmd, "nosuchjob")), "no job named 'nosuchjob'");
    }
  }

  @Test
  void aMissingProgramIsRejectedBeforeAnythingStarts() throws Exception {
    Crmpi c = userJob();
    assertOneLineError(c.run("run", daemonEnv(), List.of("run", "--name", "x", "--", "mpirun", "-np", "2",
        "./no-such-program")), "MPI program './no-such-program' not found");
    assertOneLineError(c.run("run2", daemonEnv(), List.of("run", "--name", "y", "--", "no-such-launcher")),
        "program 'no-such-launcher' not found");
    assertFalse(Files.exists(c.jobDir("x")), "a rejected job left a directory");
  }

  @Test
  void anUnwritableCheckpointDirectoryIsReported() throws Exception {
    Crmpi c = userJob();
    Path file = Files.writeString(c.base.resolve("a-file"), "not a directory");
    Crmpi.Result r = c.run("run", daemonEnv(), List.of("run", "--name", "x", "--", "true"));
    // --state-dir goes after the subcommand name: use a state dir below a plain file.
    ProcessBuilder pb = new ProcessBuilder("runuser", "-u", OWNER, "--", Crmpi.HOME.resolve("bin/crmpi").toString(),
        "run", "--state-dir", file.resolve("state").toString(), "--name", "x", "--", "true")
        .directory(c.workdir.toFile()).redirectErrorStream(false);
    pb.environment().putAll(daemonEnv());
    Process p = pb.start();
    String err = new String(p.getErrorStream().readAllBytes());
    p.waitFor();
    assertEquals(2, p.exitValue(), err);
    assertEquals(1, err.lines().count(), err);
    assertTrue(err.contains("cannot create the job directory"), err);
    assertEquals("not a directory", Files.readString(file));
    assertTrue(r.exitCode() == 0, "a trivial job under crmpi failed:\n" + r.describe());
  }

  @Test
  void aMalformedManifestIsReportedAndKept() throws Exception {
    Crmpi c = userJob();
    Crmpi.Result ok = c.run("run", daemonEnv(), List.of("run", "--name", "m", "--interval", "none", "--", "true"));
    assertEquals(0, ok.exitCode(), ok.describe());
    Path epoch = Files.createDirectories(c.jobDir("m").resolve("checkpoints/epochs/0000000007"));
    Path manifest = Files.writeString(epoch.resolve("manifest.json"), "{ this is not json");
    // Written as by the job's owner, who alone can write into the job's directory.
    Process chown = new ProcessBuilder("chown", "-R", OWNER + ":", c.jobDir("m").resolve("checkpoints").toString())
        .inheritIO().start();
    assertEquals(0, chown.waitFor(), "chown of the malformed epoch");
    Crmpi.Result r = c.run("manifest", daemonEnv(), List.of("manifest", "m", "7"));
    assertEquals(1, r.exitCode(), r.describe());
    List<String> lines = r.stderr().lines().filter(l -> !l.isBlank()).toList();
    assertEquals(1, lines.size(), r.stderr());
    assertTrue(lines.get(0).contains("malformed"), lines.get(0));
    assertEquals("{ this is not json", Files.readString(manifest), "the malformed manifest was changed");
    Crmpi.Result status = c.run("status", daemonEnv(), List.of("status", "m"));
    assertEquals(0, status.exitCode(), status.describe());
    assertTrue(Files.exists(manifest), "status deleted the malformed manifest");
  }
}
