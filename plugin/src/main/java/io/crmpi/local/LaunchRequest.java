package io.crmpi.local;

import io.crmpi.wire.BadMessage;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.regex.Pattern;

/**
 * crmpi-rsh's request on a job's launch socket: start COMMAND (a shell
 * command line, run by /bin/sh -c inside the job's tree) on the node slot
 * of HOST. On the wire, from C, one line: {@code EXEC <TAB> HOST <TAB>
 * COMMAND}; the answer is {@code OK} or {@code ERR <why>}.
 */
record LaunchRequest(String host, String command) {
  /** The longest request line (crmpi-rsh's own limit is 256 KiB). */
  static final int MAX_LINE = 256 << 10;
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._-]{1,253}");

  LaunchRequest {
    if (host == null || !HOST.matcher(host).matches()) {
      throw new BadMessage("bad host name in a launch request");
    }
    if (command == null || command.isBlank() || command.indexOf('\0') >= 0) {
      throw new BadMessage("empty command (or one with a NUL byte) in a launch request");
    }
  }

  private static final Pattern TMPDIR_BASE = Pattern.compile(
      "\\s--?mca\\s+orte_tmpdir_base\\s+(\"[^\"]*\"|'[^']*'|\\S+)");

  /**
   * The command to run on the target node: without the {@code -mca
   * orte_tmpdir_base DIR} that mpirun passes on with its own session
   * directory. That directory is a tmpfs of slot 0's tree only; on another
   * node the daemon would write its session files to the shared state
   * directory under slot 0's name, outside its own tree's tmpfs, where its
   * orderly exit deletes files its node's images still name. Without the
   * argument the daemon takes its own tree's session directory from its
   * environment (OMPI_MCA_orte_tmpdir_base of that slot).
   */
  String commandForSlot() {
    return TMPDIR_BASE.matcher(command).replaceAll("");
  }

  /** Parses one line; a {@link BadMessage} when it is not exactly EXEC, a host and a command. */
  static LaunchRequest parse(byte[] line) {
    String s;
    try {
      s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(line)).toString();
    } catch (CharacterCodingException e) {
      throw new BadMessage("a launch request that is not UTF-8");
    }
    String[] f = s.split("\t", 3);
    if (f.length != 3 || !f[0].equals("EXEC")) {
      throw new BadMessage("bad launch request (expected EXEC<TAB>HOST<TAB>COMMAND)");
    }
    return new LaunchRequest(f[1], f[2]);
  }
}
