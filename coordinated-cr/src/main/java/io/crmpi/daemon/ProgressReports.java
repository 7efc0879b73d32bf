package io.crmpi.daemon;

import io.crmpi.engine.ProgressListener;
import java.io.IOException;
import java.io.OutputStream;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * Sends a client the progress of its dump or restore as
 * {@link DaemonReply.Progress} messages before the answer, at most one
 * every {@value #EVERY_MS} ms. A client that left only stops the reports.
 */
final class ProgressReports implements ProgressListener {
  private static final Logger LOG = Logger.getLogger(ProgressReports.class.getName());
  static final long EVERY_MS = 500;

  private final OutputStream out;
  private final LongSupplier nanoTime;
  private long last;
  private boolean sent;
  private boolean gone;

  ProgressReports(OutputStream out, LongSupplier nanoTime) {
    this.out = out;
    this.nanoTime = nanoTime;
  }

  @Override
  public synchronized void at(long bytes, long total) {
    long now = nanoTime.getAsLong();
    if (gone || sent && now - last < EVERY_MS * 1_000_000) {
      return;
    }
    sent = true;
    last = now;
    try {
      DaemonWire.write(out, new DaemonReply.Progress(Math.max(0, bytes), Math.max(0, total)));
    } catch (IOException e) {
      gone = true;
      LOG.fine("crmpid: the client no longer reads progress: " + e);
    }
  }
}
