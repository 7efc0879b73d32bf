package io.crmpi.local;

import io.crmpi.agent.OutputSink;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Passes the job's output to crmpi's own stdout and stderr and appends it to output.log. */
final class TeeSink implements OutputSink, AutoCloseable {
  private final PrintStream out;
  private final PrintStream err;
  private final OutputStream log;

  TeeSink(PrintStream out, PrintStream err, Path logFile) throws IOException {
    this.out = out;
    this.err = err;
    this.log = Files.newOutputStream(logFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }

  @Override
  public void write(String stream, byte[] buf, int off, int len) {
    PrintStream target = stream.equals("stderr") ? err : out;
    synchronized (this) {
      target.write(buf, off, len);
      target.flush();
      try {
        log.write(buf, off, len);
        log.flush();
      } catch (IOException e) {
        // the console still has it
      }
    }
  }

  @Override
  public void close() throws IOException {
    log.close();
  }
}
