package io.crmpi.local;

import io.crmpi.wire.BadMessage;
import io.crmpi.wire.JsonLines;
import io.crmpi.wire.Lines;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * The control socket's wire: a {@link ControlCommand} in, a {@link
 * ControlAnswer} out, each one line of {@link JsonLines}. The client end is
 * {@link #request}; the server end is {@link #service}.
 */
public final class ControlWire {
  private static final Logger LOG = Logger.getLogger(ControlWire.class.getName());
  static final int MAX_REQUEST = 4096;
  static final int MAX_ANSWER = 64 << 10;
  static final JsonLines<ControlCommand> COMMANDS = JsonLines.of("crmpi control", ControlCommand.class);
  static final JsonLines<ControlAnswer> ANSWERS = JsonLines.of("crmpi control", ControlAnswer.class);

  private ControlWire() {}

  /** Sends one command to the job listening on socket, and returns its answer. */
  public static ControlAnswer request(Path socket, ControlCommand command) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      OutputStream out = Channels.newOutputStream(ch);
      out.write(COMMANDS.encode(command));
      out.write('\n');
      out.flush();
      InputStream in = Channels.newInputStream(ch);
      byte[] line = Lines.read(in, MAX_ANSWER).orElse(null);
      if (line == null) {
        return new ControlAnswer.Refused("the job closed the connection without an answer");
      }
      try {
        return ANSWERS.decode(line);
      } catch (BadMessage e) {
        throw new IOException("the job's answer is not a crmpi control answer (" + e.getMessage()
            + "): is the socket another crmpi version's?");
      }
    }
  }

  /** The server end: decodes each request and hands it to handler; a bad request is refused, never thrown. */
  static LineService service(Function<ControlCommand, ControlAnswer> handler) {
    return new LineService() {
      @Override
      public int maxRequest() {
        return MAX_REQUEST;
      }

      @Override
      public byte[] answer(byte[] request) {
        ControlAnswer a;
        try {
          a = handler.apply(COMMANDS.decode(request));
        } catch (BadMessage e) {
          LOG.warning("control socket: refused a bad request: " + e.getMessage());
          a = new ControlAnswer.Refused("bad request: " + e.getMessage());
        } catch (RuntimeException e) {
          LOG.warning("control socket: request failed: " + e);
          a = new ControlAnswer.Refused(String.valueOf(e.getMessage()));
        }
        byte[] line = ANSWERS.encode(a);
        if (line.length >= MAX_ANSWER) {
          // A long abort message (many nodes) still reaches the client, cut: its log has the rest.
          String cut = a.message().substring(0, Math.min(a.message().length(), MAX_ANSWER / 8)) + "... (see the job's log)";
          line = ANSWERS.encode(a instanceof ControlAnswer.Ok ? new ControlAnswer.Ok(cut) : new ControlAnswer.Refused(cut));
        }
        return line;
      }

      @Override
      public byte[] refusal(String why) {
        return ANSWERS.encode(new ControlAnswer.Refused("refused: " + why));
      }
    };
  }
}
