package io.crmpi.local;

import io.crmpi.coordinator.CheckpointListener;
import io.crmpi.coordinator.CheckpointOutcome;
import io.crmpi.store.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * The append-only history of a job (history.jsonl): every epoch's outcome,
 * including the aborted ones that leave no trace in the store, and every
 * restart. The status table is drawn from it.
 */
public final class JobHistory implements CheckpointListener {
  private static final Logger LOG = Logger.getLogger(JobHistory.class.getName());
  private final Path file;
  private final Clock clock;
  private final String job;

  private volatile java.util.function.Consumer<HistoryEntry> observer = e -> { };

  public JobHistory(Path file, Clock clock, String job) {
    this.file = file;
    this.clock = clock;
    this.job = job;
  }

  /** Also hands every entry to observer once it is recorded (the node's metrics). */
  public void observe(java.util.function.Consumer<HistoryEntry> observer) {
    this.observer = observer;
  }

  @Override
  public void epochEnded(CheckpointOutcome outcome) {
    if (outcome instanceof CheckpointOutcome.Committed c) {
      Manifest m = c.manifest();
      append(new HistoryEntry(m.createdAt(), "committed", m.epoch(), m.trigger(), null, null,
          m.totalBytes(), m.timings().dumpMillis(), m.timings().frozenMillis(), m.timings().totalMillis(),
          m.nodes().size()));
      Long seal = m.timings().sealMillis();
      LOG.info(String.format("job %s epoch %d: committed, %s in %.2f s (frozen %.2f s)%s", job, m.epoch(),
          Units.bytes(m.totalBytes()), m.timings().totalMillis() / 1000.0, m.timings().frozenMillis() / 1000.0,
          seal == null ? "" : String.format(", sealed %.2f s later", seal / 1000.0)));
    } else if (outcome instanceof CheckpointOutcome.Aborted a) {
      append(new HistoryEntry(clock.instant(), "aborted", a.epoch(), null, a.reason().name(), a.detail(),
          0, 0, 0, 0, 0));
      if (a.reason().isFailure()) {
        LOG.warning("job " + job + " " + a.describe());
      } else {
        LOG.info("job " + job + " " + a.describe()); // the job is ending: nothing went wrong
      }
    } else if (outcome instanceof CheckpointOutcome.Skipped s) {
      // Recorded (a full state directory shows in status and report), not only logged.
      append(new HistoryEntry(clock.instant(), "skipped", 0, null, null, s.why(), 0, 0, 0, 0, 0));
      LOG.info("job " + job + ": checkpoint skipped: " + s.why());
    }
  }

  /** A flush of an epoch to the state directory ended ("flushed", or "flush-failed" with why). */
  @Override
  public void flushEnded(io.crmpi.coordinator.FlushOutcome o) {
    append(new HistoryEntry(clock.instant(), o.ok() ? "flushed" : "flush-failed", o.epoch(), null, null,
        o.problem(), o.bytes(), 0, 0, o.millis(), 0));
  }

  public void restarted(long epoch, String detail) {
    restarted(epoch, detail, null);
  }

  /**
   * The job runs again, restored from epoch (0: started over); trigger says
   * what restarted it ({@link #REQUEUE} after Slurm requeued the job, or
   * null).
   */
  public void restarted(long epoch, String detail, String trigger) {
    append(new HistoryEntry(clock.instant(), "restart", epoch, trigger, null, detail, 0, 0, 0, 0, 0));
  }

  /** The trigger of a restart after Slurm requeued the job (preemption, walltime, a lost node). */
  public static final String REQUEUE = "requeue";

  /** A restore that came up but was not healthy (see RestoreProbation): the epoch is not used. */
  public void restoreFailed(long epoch, String problem) {
    append(new HistoryEntry(clock.instant(), "restore-failed", epoch, null, null, problem, 0, 0, 0, 0, 0));
  }

  public List<HistoryEntry> read() throws IOException {
    List<HistoryEntry> entries = new ArrayList<>();
    if (!Files.exists(file)) {
      return entries;
    }
    // Decoded leniently: a line damaged by a crash or by hand (even invalid UTF-8) is skipped, the others count.
    String text = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(java.nio.charset.CodingErrorAction.REPLACE)
        .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPLACE)
        .decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
    int skipped = 0;
    for (String line : text.split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      try {
        HistoryEntry e = Json.MAPPER.readValue(line, HistoryEntry.class);
        if (e.kind() == null || e.time() == null) {
          throw new IOException("no kind or time");
        }
        entries.add(e);
      } catch (IOException | RuntimeException e) {
        skipped++;
      }
    }
    if (skipped > 0) {
      LOG.warning("job " + job + ": skipped " + skipped + " unreadable line(s) of " + file);
    }
    return entries;
  }

  private synchronized void append(HistoryEntry e) {
    try {
      String line = Json.MAPPER.copy().disable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
          .writeValueAsString(e) + "\n";
      Files.writeString(file, line, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException ex) {
      LOG.warning("job " + job + ": cannot append to " + file + ": " + ex);
    }
    try {
      observer.accept(e);
    } catch (RuntimeException ex) {
      LOG.fine(() -> "job " + job + ": history observer: " + ex);
    }
  }
}
