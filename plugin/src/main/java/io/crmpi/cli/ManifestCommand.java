package io.crmpi.cli;

import io.crmpi.local.ExitCodes;
import io.crmpi.local.JobDirectory;
import io.crmpi.local.JobException;
import io.crmpi.local.Units;
import io.crmpi.store.FileCheckpointStore;
import io.crmpi.store.FileDigest;
import io.crmpi.store.Manifest;
import io.crmpi.store.ManifestCodec;
import io.crmpi.store.NodeImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code crmpi manifest}: a committed epoch's manifest, decoded for a person (or as JSON). */
@Command(name = "manifest", description = "Show the manifest of a committed checkpoint (default: the newest).")
final class ManifestCommand implements Callable<Integer> {
  @Mixin StateDirOption state;

  @Parameters(index = "0", paramLabel = "NAME", description = "The job's name.")
  String name;

  @Parameters(index = "1", arity = "0..1", paramLabel = "EPOCH", description = "The epoch (default: newest).")
  Long epoch;

  @Option(names = "--json", description = "Print the manifest as stored (JSON).")
  boolean json;

  @Option(names = "--verify", description = "Also recompute every file's digest.")
  boolean verify;

  @Override
  public Integer call() throws Exception {
    JobDirectory dir = state.existing(name);
    String name = dir.name();
    FileCheckpointStore store = FileCheckpointStore.open(dir.checkpoints(), name);
    Manifest m;
    if (epoch == null) {
      m = store.latest().orElseThrow(() -> new JobException("job '" + name + "' has no committed checkpoint",
          ExitCodes.USAGE));
    } else {
      Path file = store.epochDir(epoch).resolve("manifest.json");
      if (!Files.exists(file)) {
        throw new JobException("job '" + name + "' has no committed epoch " + epoch + " ('crmpi status " + name
            + "' lists them)", ExitCodes.USAGE);
      }
      try {
        m = ManifestCodec.read(file);
      } catch (IOException e) {
        throw new JobException(e.getMessage(), ExitCodes.ERROR);
      }
    }
    if (json) {
      System.out.print(new String(ManifestCodec.toJson(m), StandardCharsets.UTF_8));
    } else {
      print(m);
    }
    if (verify) {
      List<String> problems;
      try (io.crmpi.local.ProgressMeter meter = io.crmpi.local.ProgressMeter.standardError(
          "epoch " + m.epoch() + ": verifying", m.totalBytes())) {
        problems = store.verify(m, io.crmpi.store.CheckpointStore.Scope.EVERYTHING, meter);
      }
      System.out.println(problems.isEmpty() ? "verify:   every file matches its digest"
          : "verify:   DAMAGED\n  " + String.join("\n  ", problems));
      return problems.isEmpty() ? 0 : ExitCodes.ERROR;
    }
    return 0;
  }

  private static void print(Manifest m) {
    System.out.println("job:      " + m.job());
    System.out.println("epoch:    " + m.epoch() + " (format version " + m.formatVersion() + ")");
    System.out.println("created:  " + StatusCommand.time(m.createdAt()) + " (" + m.createdAt() + ")");
    System.out.println("engine:   " + m.engine() + ", trigger: " + m.trigger());
    System.out.println("timings:  prepare " + Units.seconds(m.timings().prepareMillis()) + ", dump "
        + Units.seconds(m.timings().dumpMillis()) + ", frozen " + Units.seconds(m.timings().frozenMillis())
        + ", total " + Units.seconds(m.timings().totalMillis()));
    System.out.println("size:     " + Units.bytes(m.totalBytes()) + " in " + m.nodes().size() + " node image(s)");
    for (NodeImage n : m.nodes()) {
      System.out.println();
      System.out.println("node " + n.node() + ": " + n.files().size() + " image files in " + n.imageDir());
      n.attributes().forEach((k, v) -> System.out.println("  " + k + ": "
          + v.strip().replace("\n", "\n    ").replace("\t", " -> ")));
      Table t = new Table("FILE", "SIZE", "SHA-256").alignRight(1);
      n.files().forEach(f -> t.add(f.path(), Units.bytes(f.size()),
          f.digested() ? f.sha256().substring(0, 16) + "..." : "(not sealed)"));
      System.out.print(t.render());
      if (n.written() != null) {
        System.out.println("working directory " + n.workdir() + ": " + n.written().files().size()
            + " files the job wrote, as of " + n.written().capturedAt() + " (copies in " + n.workdirDir() + ")");
        Table w = new Table("FILE", "KEPT AS", "SIZE", "MODE", "SHA-256").alignRight(2);
        for (io.crmpi.store.WrittenFile f : n.written().files()) {
          boolean absent = f.state() == io.crmpi.store.WrittenFile.State.ABSENT;
          w.add(f.path(), f.state().name().toLowerCase(java.util.Locale.ROOT), absent ? "-" : Units.bytes(f.size()),
              absent ? "-" : String.format("%04o", f.mode()), absent ? "-" : f.sha256().substring(0, 16) + "...");
        }
        System.out.print(w.render());
      } else if (n.workdirDir() != null) {
        System.out.println("working directory " + n.workdir() + ": " + n.workdirFiles().size()
            + " files saved in " + n.workdirDir() + " (a checkpoint of an earlier crmpi: every file of the directory)");
        Table w = new Table("FILE", "SIZE", "SHA-256").alignRight(1);
        for (FileDigest f : n.workdirFiles()) {
          w.add(f.path(), Units.bytes(f.size()), f.sha256().substring(0, 16) + "...");
        }
        System.out.print(w.render());
      }
    }
  }
}
