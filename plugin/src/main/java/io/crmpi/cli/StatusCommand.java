package io.crmpi.cli;

import io.crmpi.local.HistoryEntry;
import io.crmpi.local.JobDirectory;
import io.crmpi.local.JobHistory;
import io.crmpi.local.JobSpec;
import io.crmpi.local.JobState;
import io.crmpi.local.Units;
import io.crmpi.store.FileCheckpointStore;
import io.crmpi.store.Manifest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code crmpi status}: a job's state and its epochs as a table; without a name, every job. */
@Command(name = "status", description = "Show a job's state and checkpoints (or list all jobs).")
final class StatusCommand implements Callable<Integer> {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss")
      .withZone(ZoneId.systemDefault());

  @Mixin StateDirOption state;

  @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "The job's name.")
  String name;

  @Option(names = "--all", description = "Show every epoch, not only the last 20.")
  boolean all;

  @Option(names = "--json", description = "Print the report as JSON (schema in docs/json.md); every epoch.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (name == null) {
      return listJobs();
    }
    JobDirectory dir = state.existing(name);
    JobSpec spec = dir.readSpec();
    Optional<JobState> st = dir.readState();
    FileCheckpointStore store = FileCheckpointStore.open(dir.checkpoints(), dir.name());
    List<Manifest> committed = store.committed();
    Set<Long> kept = committed.stream().map(Manifest::epoch).collect(Collectors.toSet());
    Optional<String> removed = store.imagesRemoved();
    List<HistoryEntry> entries = new JobHistory(dir.history(), Clock.systemUTC(), dir.name()).read();
    List<StatusReport.Event> events = entries.stream()
        .map(e -> StatusReport.Event.of(e, kept.contains(e.epoch()))).filter(java.util.Objects::nonNull).toList();
    String levels = committed.isEmpty() ? null : committed.get(committed.size() - 1).levels().describe();
    Optional<Double> vacate = VacateEstimate.seconds(entries);
    if (json) {
      System.out.println(StatusReport.JSON.writeValueAsString(new StatusReport.Job(StatusReport.JOB_SCHEMA,
          spec.name(), stateName(dir, st), describe(dir, st), spec.command(), spec.workdir(), spec.policy(),
          spec.keep(), spec.maxRestarts(), st.map(JobState::restarts).orElse(0),
          committed.isEmpty() ? null : committed.get(committed.size() - 1).epoch(), removed.orElse(null), events,
          levels, vacate.orElse(null))));
      return 0;
    }
    System.out.println("job:       " + spec.name());
    System.out.println("state:     " + describe(dir, st));
    System.out.println("command:   " + String.join(" ", spec.command()));
    System.out.println("workdir:   " + spec.workdir());
    System.out.println("policy:    checkpoints " + spec.policy() + ", keep " + spec.keep() + ", max restarts "
        + spec.maxRestarts());
    System.out.println("restarts:  " + st.map(JobState::restarts).orElse(0));
    if (spec.storage().localDir() != null) {
      System.out.println("storage:   node-local " + spec.storage().localDir() + ", committed at the "
          + io.crmpi.store.StorageLevel.of(spec.storage().commitAt()).label() + " level, flushed every "
          + (spec.storage().flushEvery() == 1 ? "epoch" : spec.storage().flushEvery() + " epochs")
          + (spec.storage().flushFormat().equals(io.crmpi.local.StorageSpec.CHUNKS)
              ? " as deduplicated chunks" + (spec.storage().zstdLevel() > 0 ? " (zstd " + spec.storage().zstdLevel()
                  + ")" : "") : " as whole files")
          + (Boolean.TRUE.equals(spec.storage().partnerCopy()) ? ", copied to a partner node" : ""));
    }
    System.out.println("latest:    " + (committed.isEmpty() ? "no committed checkpoint"
        : "epoch " + committed.get(committed.size() - 1).epoch() + " (" + levels + ")"));
    if (vacate.isPresent()) {
      System.out.printf("vacate:    this job needs about %.0f s to vacate (its last checkpoint and flush); give it"
          + " at least that much grace time%n", Math.ceil(vacate.get()));
    }
    if (removed.isPresent()) {
      System.out.println("images:    removed (" + removed.get() + ")");
    }
    System.out.println();
    Table t = new Table("EPOCH", "STATE", "TIME", "SIZE", "DUMP", "FROZEN", "TOTAL", "NODES", "NOTE")
        .alignRight(0, 3, 4, 5, 6, 7);
    int from = all ? 0 : Math.max(0, events.size() - 20);
    for (StatusReport.Event e : events.subList(from, events.size())) {
      t.add(e.epoch() == 0 ? "-" : e.epoch(), e.state().replace('-', ' '), TIME.format(e.time()),
          e.bytes() == null ? "-" : Units.bytes(e.bytes()), e.dumpMillis() == null ? "-" : Units.seconds(e.dumpMillis()),
          e.frozenMillis() == null ? "-" : Units.seconds(e.frozenMillis()),
          e.totalMillis() == null ? "-" : Units.seconds(e.totalMillis()), e.nodes() == null ? "-" : e.nodes(),
          abbreviate(e.note()));
    }
    System.out.print(t.isEmpty() ? "no checkpoints yet\n" : t.render());
    return 0;
  }

  /** RUNNING, DEAD (recorded as running, but no crmpi holds it), SUCCEEDED, FAILED, STOPPED or NEW. */
  private static String stateName(JobDirectory dir, Optional<JobState> st) throws IOException {
    String status = st.map(x -> x.status().name()).orElse("NEW");
    return status.equals("RUNNING") && !dir.isLocked() ? "DEAD" : status;
  }

  private static String describe(JobDirectory dir, Optional<JobState> st) throws IOException {
    if (st.isEmpty()) {
      return "NEW (never started)";
    }
    JobState s = st.get();
    return switch (s.status()) {
      case RUNNING -> dir.isLocked() ? "RUNNING (crmpi pid " + s.pid() + ", " + s.message() + ")"
          : "DEAD (crmpi pid " + s.pid() + " is gone; 'crmpi restart " + dir.name() + "' resumes it)";
      case SUCCEEDED -> "SUCCEEDED at " + TIME.format(s.updatedAt()) + " (" + s.message() + ")";
      case FAILED -> "FAILED at " + TIME.format(s.updatedAt()) + " (" + s.message() + ")";
      case STOPPED -> "STOPPED at " + TIME.format(s.updatedAt()) + " (" + s.message() + ")";
    };
  }

  private int listJobs() throws IOException {
    List<StatusReport.Listed> listed = new java.util.ArrayList<>();
    for (JobDirectory dir : state.jobDirectories()) {
      if (!dir.exists()) {
        continue;
      }
      Optional<JobState> st = dir.readState();
      List<Manifest> committed = FileCheckpointStore.open(dir.checkpoints(), dir.name()).committed();
      listed.add(new StatusReport.Listed(dir.name(), stateName(dir, st),
          committed.isEmpty() ? null : committed.get(committed.size() - 1).epoch(),
          st.map(JobState::restarts).orElse(0), st.map(JobState::updatedAt).orElse(null)));
    }
    if (json) {
      System.out.println(StatusReport.JSON.writeValueAsString(new StatusReport.JobList(StatusReport.LIST_SCHEMA,
          state.root().toAbsolutePath().toString(), listed)));
      return 0;
    }
    Table t = new Table("JOB", "STATE", "LATEST", "RESTARTS", "UPDATED").alignRight(3);
    for (StatusReport.Listed j : listed) {
      t.add(j.job(), j.state(), j.latestEpoch() == null ? "-" : "epoch " + j.latestEpoch(), j.restarts(),
          j.updated() == null ? "-" : TIME.format(j.updated()));
    }
    System.out.print(t.isEmpty() ? "no jobs in " + state.root().toAbsolutePath() + "\n" : t.render());
    return 0;
  }

  private static String abbreviate(String s) {
    if (s == null) {
      return "";
    }
    String one = s.replace('\n', ' ');
    return one.length() > 100 ? one.substring(0, 97) + "..." : one;
  }

  static String time(Instant i) {
    return TIME.format(i);
  }
}
