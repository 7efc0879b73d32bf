package io.crmpi.local;

import io.crmpi.wire.BadMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.logging.Logger;

/** The launch socket's end for crmpi-rsh: a {@link LaunchRequest} in, "OK" or "ERR why" out. */
final class LaunchService implements LineService {
  private static final Logger LOG = Logger.getLogger(LaunchService.class.getName());

  /** Starts a launch request's command, or says why it cannot. */
  interface Launcher {
    void launch(LaunchRequest request) throws IOException;
  }

  private final Launcher launcher;

  LaunchService(Launcher launcher) {
    this.launcher = launcher;
  }

  @Override
  public int maxRequest() {
    return LaunchRequest.MAX_LINE;
  }

  @Override
  public byte[] answer(byte[] line) {
    try {
      launcher.launch(LaunchRequest.parse(line));
      return text("OK");
    } catch (BadMessage e) {
      LOG.warning("launch socket: refused a bad request: " + e.getMessage());
      return text("ERR " + e.getMessage());
    } catch (IOException | RuntimeException e) {
      return text("ERR " + oneLine(String.valueOf(e.getMessage())));
    }
  }

  @Override
  public byte[] refusal(String why) {
    return text("ERR refused: " + oneLine(why));
  }

  private static String oneLine(String s) {
    return s.replace('\n', ' ');
  }

  private static byte[] text(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
