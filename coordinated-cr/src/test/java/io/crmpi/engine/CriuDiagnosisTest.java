package io.crmpi.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One case per message of docs/troubleshooting.md: a log line as CRIU 4.x
 * writes it (its format string, from the source file named in
 * CriuDiagnosis) gives that section's cause and fix.
 */
class CriuDiagnosisTest {
  @TempDir
  Path dir;

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
      "no-space | (00.512345) Error (criu/page-xfer.c:263): page-xfer: Unable to spice data: No space left on device"
          + " | (the state directory, or the node-local directory of --local-dir) ran out of space",
      "no-space | (00.512345) Error (criu/protobuf.c:157): Can't write 4096 bytes: Disk quota exceeded"
          + " | (the state directory, or the node-local directory of --local-dir) ran out of space",
      "device-mapping | (00.041234) Error (criu/proc_parse.c:663): Can't handle non-regular mapping on 4242's map"
          + " 7f3a2c000000 | has a device mapped into its memory",
      "unsupported-file | (00.041234) Error (criu/files-ext.c:94): Can't dump file 7 of that type [600] (anon"
          + " anon_inode:[perf_event]) | the job holds a file CRIU cannot checkpoint (descriptor 7: anon"
          + " anon_inode:[perf_event])",
      "unsupported-file | (00.041234) Error (criu/files-ext.c:94): Can't dump file 12 of that type [20660] (chr 231:192)"
          + " | (descriptor 12: chr 231:192)",
      "external-socket | (00.030000) Error (criu/sk-unix.c:874): unix: External socket is used. Consider using"
          + " --ext-unix-sk option. | a Unix socket connected to a process outside the job",
      "external-socket | (00.030000)   4242: Error (criu/sk-unix.c:1912): External socket found in image. Consider"
          + " using the --ext-unix-sk option to allow restoring it. | a Unix socket connected to a process outside",
      "unsupported-socket | (00.030000) Error (criu/sk-inet.c:137): inet: Unsupported proto 262 for socket 1a2b"
          + " | a kind of socket CRIU cannot checkpoint",
      "unsupported-socket | (00.030000) Error (criu/sockets.c:767): sockets: BUG! Unknown socket collected (family 40)"
          + " | a kind of socket CRIU cannot checkpoint",
      "kernel-feature | (00.001000) Error (criu/kerndat.c:1900): kerndat_has_memfd_create failed when initializing"
          + " kerndat. | this node's kernel lacks a feature CRIU needs",
      "kernel-feature | (00.002000) Error (criu/proc_parse.c:829): Can't open 1234/map_files on procfs: No such file"
          + " or directory | this node's kernel lacks a feature CRIU needs",
      "pid-in-use | (00.100000)      1: Error (criu/cr-restore.c:1230): Can't fork for 4242: File exists"
          + " | a process id the image needs is already taken",
      "pid-in-use | pie: 4242: Error (criu/pie/restorer.c:2185): Unable to create a thread: -17"
          + " | a process id the image needs is already taken",
      "ptrace-denied | Warn  (compel/src/lib/infect.c:131): Unable to interrupt task: 4242 (Operation not permitted)"
          + " | CRIU was not allowed to stop and inspect",
  })
  void aKnownLineGivesItsSectionsCauseAndFix(String anchor, String line, String cause) {
    List<String> log = List.of("(00.000000) CRIU run id = 1", "(00.000100) Version: 4.2.1 (gitid 0)", line,
        "(00.600000) Error (criu/cr-dump.c:2128): Dumping FAILED.");
    String d = CriuDiagnosis.explain(log).orElseThrow(() -> new AssertionError("not recognised: " + line));
    assertTrue(d.contains(cause), d);
    assertTrue(d.endsWith("(docs/troubleshooting.md#" + anchor + ")"), d);
    assertEquals(1, d.split("\n").length, "not one line: " + d);
  }

  @Test
  void everySectionHasACaseAbove() throws Exception {
    // The anchors named in the test's cases: one per known failure, so no message goes untested.
    String source = Files.readString(Path.of("src/test/java/io/crmpi/engine/CriuDiagnosisTest.java"));
    for (CriuDiagnosis.Known k : CriuDiagnosis.KNOWN) {
      assertTrue(source.contains("\"" + k.anchor() + " | "), "no test case for " + k.anchor());
    }
  }

  @Test
  void anUnknownFailureGetsNoDiagnosis() {
    assertEquals(Optional.empty(), CriuDiagnosis.explain(List.of(
        "(00.010000) Error (criu/cr-dump.c:1234): Something nobody has seen before",
        "(00.600000) Error (criu/cr-dump.c:2128): Dumping FAILED.")));
  }

  @Test
  void theReportPutsTheDiagnosisBeforeCriusErrorLines() throws Exception {
    Path log = dir.resolve("dump.log");
    Files.writeString(log, "(00.041234) Error (criu/files-ext.c:94): Can't dump file 7 of that type [600] (anon"
        + " anon_inode:[io_uring])\n(00.600000) Error (criu/cr-dump.c:2128): Dumping FAILED.\n");
    String r = CriuDiagnosis.report(log);
    assertTrue(r.startsWith(": the job holds a file CRIU cannot checkpoint (descriptor 7: anon anon_inode:[io_uring])"),
        r);
    assertTrue(r.contains("Dumping FAILED.") && r.contains("(full log: " + log + ")"), r);
  }

  @Test
  void aMissingLogIsSaid() {
    assertEquals(" (no log at " + dir.resolve("none.log") + ")", CriuDiagnosis.report(dir.resolve("none.log")));
  }
}
