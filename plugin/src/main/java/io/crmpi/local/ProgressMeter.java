package io.crmpi.local;

import io.crmpi.engine.ProgressDisplay;
import java.io.PrintStream;
import java.util.Locale;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Progress of a long operation (a verify, a copy) in bytes: silent for its
 * first 2 s, then on a terminal one line rewritten in place at most every
 * half second, and in batch output (a Slurm job's log) one line every 10 s
 * at most. Each line says bytes done of the total, the rate and the time
 * left. Time comes from the injected ticker.
 */
public final class ProgressMeter implements LongConsumer, ProgressDisplay.Meter {
  static final long QUIET_NANOS = 2_000_000_000L;
  static final long TERMINAL_EVERY = 500_000_000L;
  static final long BATCH_EVERY = 10_000_000_000L;

  private final String what;
  private long total;
  private final PrintStream out;
  private final boolean terminal;
  private final LongSupplier nanoTime;
  private final long start;
  private long done;
  private long lastShown;
  private boolean shown;

  public ProgressMeter(String what, long total, PrintStream out, boolean terminal, LongSupplier nanoTime) {
    this.what = what;
    this.total = Math.max(0, total);
    this.out = out;
    this.terminal = terminal;
    this.nanoTime = nanoTime;
    this.start = nanoTime.getAsLong();
  }

  /** A meter on standard error, rewriting its line when that is a terminal. */
  public static ProgressMeter standardError(String what, long total) {
    return new ProgressMeter(what, total, System.err, System.console() != null, System::nanoTime);
  }

  @Override
  public synchronized void accept(long bytes) {
    done += bytes;
    maybeShow();
  }

  /** The step is at bytes of total (0: not known; a total below bytes was an estimate and is dropped). */
  @Override
  public synchronized void at(long bytes, long total) {
    done = Math.max(0, bytes);
    this.total = Math.max(0, total);
    maybeShow();
  }

  private void maybeShow() {
    long now = nanoTime.getAsLong();
    if (now - start < QUIET_NANOS || shown && now - lastShown < (terminal ? TERMINAL_EVERY : BATCH_EVERY)) {
      return;
    }
    show(now);
  }

  private void show(long now) {
    double seconds = (now - start) / 1e9;
    double rate = seconds > 0 ? done / seconds : 0;
    String left = rate > 0 && total > done ? String.format(Locale.ROOT, ", %.0f s left", (total - done) / rate) : "";
    String of = total >= done && total > 0 ? String.format(Locale.ROOT, " of %s (%.0f %%)", Units.bytes(total),
        100.0 * done / total) : "";
    String line = String.format(Locale.ROOT, "%s: %s%s, %s/s%s", what, Units.bytes(done), of,
        Units.bytes((long) rate), left);
    if (terminal) {
      out.print("\r" + line + "\u001b[K");
    } else {
      out.println("crmpi: " + line);
    }
    out.flush();
    shown = true;
    lastShown = now;
  }

  /** Ends the line a terminal meter rewrote; a quick operation printed nothing and prints nothing. */
  @Override
  public synchronized void close() {
    if (shown && terminal) {
      show(nanoTime.getAsLong());
      out.println();
    }
  }
}
