package io.crmpi.agent;

import java.io.IOException;
import java.io.InputStream;

/**
 * Copies one pipe of a node tree to a sink on its own daemon thread until
 * the pipe closes. The tree blocks if nobody drains its pipes, so a pump
 * starts as soon as the tree does.
 */
final class OutputPump implements Runnable {
  private final InputStream in;
  private final String stream;
  private final OutputSink sink;

  private OutputPump(InputStream in, String stream, OutputSink sink) {
    this.in = in;
    this.stream = stream;
    this.sink = sink;
  }

  static Thread start(InputStream in, String stream, OutputSink sink, String job) {
    Thread t = new Thread(new OutputPump(in, stream, sink), "crmpi-" + job + "-" + stream);
    t.setDaemon(true);
    t.start();
    return t;
  }

  @Override
  public void run() {
    byte[] buf = new byte[8192];
    try (in) {
      for (int n; (n = in.read(buf)) > 0; ) {
        sink.write(stream, buf, 0, n);
      }
    } catch (IOException e) {
      // the tree is gone; its pipe with it
    }
  }
}
