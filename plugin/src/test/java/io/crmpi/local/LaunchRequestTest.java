package io.crmpi.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.crmpi.wire.BadMessage;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** crmpi-rsh's launch line, and the command a remote node's tree runs. */
class LaunchRequestTest {
  private static LaunchRequest parse(String line) {
    return LaunchRequest.parse(line.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aLineIsExecAHostAndAShellCommand() {
    LaunchRequest r = parse("EXEC\tn2\torted --daemonize -mca ess \"env\"");
    assertEquals("n2", r.host());
    assertEquals("orted --daemonize -mca ess \"env\"", r.command());
  }

  @Test
  void slot0sSessionDirectoryIsNotPassedOnToAnotherNode() {
    // As Open MPI 4's rsh launcher writes it: the MCA parameter mpirun had in its environment, quoted.
    LaunchRequest r = parse("EXEC\tn2\torted --daemonize -mca ess \"env\" -mca orte_tmpdir_base"
        + " \"/shared/state/jobs/j/run/node0/session\" -mca plm \"rsh\"");
    assertEquals("orted --daemonize -mca ess \"env\" -mca plm \"rsh\"", r.commandForSlot());
    assertEquals("orted --mca x 1", parse("EXEC\tn2\torted --mca orte_tmpdir_base /s/run/node0/session --mca x 1")
        .commandForSlot());
    assertEquals("orted -mca x 1", parse("EXEC\tn2\torted -mca x 1").commandForSlot());
  }

  @Test
  void malformedLinesAreRefused() {
    assertThrows(BadMessage.class, () -> parse("RUN\tn2\tx"));
    assertThrows(BadMessage.class, () -> parse("EXEC\tbad host\tx"));
    assertThrows(BadMessage.class, () -> parse("EXEC\tn2\t "));
  }
}
