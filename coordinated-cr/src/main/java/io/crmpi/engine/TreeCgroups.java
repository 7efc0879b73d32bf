package io.crmpi.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The cgroups of one node tree: its freezer cgroup, a child of the job's
 * own cgroup (see {@link CgroupHome}), and the job's v1 cgroups it joins.
 * Where a tree's freezer was placed is recorded in its runtime directory,
 * so that the next copy of the tree (after a requeue the job's cgroup is
 * another one) still finds and kills whatever an earlier copy left.
 *
 * @param freezer the tree's freezer cgroup
 * @param joins the other cgroups every process of the tree joins
 */
public record TreeCgroups(Freezer freezer, List<Path> joins) {
  private static final Logger LOG = Logger.getLogger(TreeCgroups.class.getName());
  static final String RECORD = "cgroup";

  public TreeCgroups {
    joins = List.copyOf(joins);
  }

  /**
   * Places spec's tree: first every earlier copy of it is fenced (killed in
   * the cgroup it was recorded in, which is then removed), then its freezer
   * is made under the job's cgroup, emptied, and recorded.
   */
  static TreeCgroups place(LaunchSpec spec) throws IOException {
    fenceRecorded(spec);
    CgroupHome home = CgroupHome.of(spec.cgroupOf());
    Freezer freezer = NodeTreeRuntime.fence(home.freezer(NodeTreeRuntime.cgroupName(spec)), spec);
    Files.writeString(spec.runtimeDir().resolve(RECORD), freezer.dir() + "\n");
    return new TreeCgroups(freezer, home.joins());
  }

  /**
   * Kills whatever an earlier copy of spec's tree left where it was placed,
   * and removes that cgroup (see {@link Engine#fence}).
   */
  static void fence(LaunchSpec spec) throws IOException {
    fenceRecorded(spec);
    Files.deleteIfExists(spec.runtimeDir().resolve(RECORD));
  }

  private static void fenceRecorded(LaunchSpec spec) throws IOException {
    Optional<Freezer> earlier = recorded(spec.runtimeDir()).flatMap(Freezer::existing);
    if (earlier.isPresent()) {
      NodeTreeRuntime.fence(earlier.get(), spec);
      earlier.get().destroyQuietly();
      LOG.fine("job " + spec.job() + ": fenced the earlier node tree of " + spec.node() + " in "
          + earlier.get().dir());
    }
  }

  private static Optional<Path> recorded(Path runtimeDir) throws IOException {
    try {
      String s = Files.readString(runtimeDir.resolve(RECORD)).strip();
      Path p = Path.of(s);
      // Only a cgroup directory (the runtime directory is root's with crmpid; this is belt and braces).
      return p.isAbsolute() && p.normalize().equals(p) && p.startsWith("/sys/fs/cgroup") ? Optional.of(p)
          : Optional.empty();
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  /** crmpi-ns's arguments that put a process into these cgroups: --join DIR... --cgroup FREEZER. */
  List<String> arguments() {
    List<String> args = new ArrayList<>();
    for (Path j : joins) {
      args.add("--join");
      args.add(j.toString());
    }
    args.add("--cgroup");
    args.add(freezer.dir().toString());
    return args;
  }
}
