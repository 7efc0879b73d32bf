package io.crmpi.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Where a node tree's cgroups are, from a process's /proc/PID/cgroup and the mounts. */
class CgroupHomeTest {
  /** A hybrid host like the test machine: v1 controllers and the unified hierarchy. */
  private static final String HYBRID_MOUNTS = String.join("\n",
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755",
      "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory",
      "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer",
      "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd",
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
      "");
  private static final String HYBRID_OWN = "5:name=systemd:/\n4:freezer:/\n3:memory:/\n2:cpu,cpuacct:/\n0::/\n";

  @Test
  void onAHybridHostTheFreezerIsAChildOfTheCallersV2CgroupAndItsV1CgroupsAreJoined() throws IOException {
    String job = "5:name=systemd:/slurm/job_7\n4:freezer:/slurm/uid_995/job_7/step_0\n"
        + "3:memory:/slurm/uid_995/job_7/step_0/task_0\n2:cpu,cpuacct:/slurm/uid_995/job_7\n"
        + "0::/system.slice/slurmstepd.scope/job_7/step_0/user/task_0\n";
    CgroupHome home = CgroupHome.parse(job, HYBRID_OWN, HYBRID_MOUNTS, p -> true);
    assertEquals(Path.of("/sys/fs/cgroup/unified/system.slice/slurmstepd.scope/job_7/step_0/user/task_0"),
        home.unified());
    assertEquals(Path.of("/sys/fs/cgroup/freezer/slurm/uid_995/job_7/step_0"), home.freezerV1());
    assertEquals(List.of(Path.of("/sys/fs/cgroup/systemd/slurm/job_7"),
        Path.of("/sys/fs/cgroup/freezer/slurm/uid_995/job_7/step_0"),
        Path.of("/sys/fs/cgroup/memory/slurm/uid_995/job_7/step_0/task_0"),
        Path.of("/sys/fs/cgroup/cpu,cpuacct/slurm/uid_995/job_7")), home.joins(),
        "with the v2 freezer in use the tree still joins the job's v1 freezer cgroup");
  }

  @Test
  void withoutAWritableCgroup2TheV1FreezerHoldsTheTreeAndIsNotJoinedTwice() throws IOException {
    String job = "5:name=systemd:/\n4:freezer:/user/1000\n3:memory:/user/1000\n2:cpu,cpuacct:/\n0::/\n";
    CgroupHome home = CgroupHome.parse(job, HYBRID_OWN, HYBRID_MOUNTS, p -> false);
    assertNull(home.unified());
    assertEquals(Path.of("/sys/fs/cgroup/freezer/user/1000"), home.freezerV1());
    assertTrue(!home.joins().contains(home.freezerV1()), home.joins().toString());
    assertTrue(home.joins().contains(Path.of("/sys/fs/cgroup/memory/user/1000")), home.joins().toString());
  }

  @Test
  void onAPureV2HostThereIsNothingToJoin() throws IOException {
    String mounts = "26 21 0:23 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
    CgroupHome home = CgroupHome.parse("0::/user.slice/user-1000.slice/session-4.scope\n", "0::/init.scope\n", mounts,
        p -> true);
    assertEquals(Path.of("/sys/fs/cgroup/user.slice/user-1000.slice/session-4.scope"), home.unified());
    assertEquals(List.of(), home.joins());
  }

  @Test
  void aMountOfASubtreeMapsPathsBelowItsRootAndRefusesOthers() throws IOException {
    String mounts = "41 31 0:38 /lxc/c1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
    assertEquals(Path.of("/sys/fs/cgroup/job/step"),
        CgroupHome.parse("0::/lxc/c1/job/step\n", "0::/\n", mounts, p -> true).unified());
    IOException e = assertThrows(IOException.class,
        () -> CgroupHome.parse("0::/lxc/c2/job\n", "0::/\n", mounts, p -> true));
    assertTrue(e.getMessage().contains("outside the mount"), e.getMessage());
  }

  /** A cgroup name may hold a newline: a user who names theirs so must not smuggle in another hierarchy's line. */
  @Test
  void aSmuggledOrMissingHierarchyLineIsRefused() {
    String smuggled = "5:name=systemd:/\n4:freezer:/\n3:memory:/\n2:cpu,cpuacct:/\n0::/user/evil\n"
        + "3:memory:/other-users-job\n";
    IOException e = assertThrows(IOException.class,
        () -> CgroupHome.parse(smuggled, HYBRID_OWN, HYBRID_MOUNTS, p -> true));
    assertTrue(e.getMessage().contains("appears twice"), e.getMessage());
    IOException missing = assertThrows(IOException.class,
        () -> CgroupHome.parse("0::/x\n", HYBRID_OWN, HYBRID_MOUNTS, p -> true));
    assertTrue(missing.getMessage().contains("this host has"), missing.getMessage());
    assertThrows(IOException.class, () -> CgroupHome.parse("garbage\n", HYBRID_OWN, HYBRID_MOUNTS, p -> true));
  }

  @Test
  void aPathThatLeavesItsMountIsRefused() {
    String job = "5:name=systemd:/\n4:freezer:/\n3:memory:/../../etc\n2:cpu,cpuacct:/\n0::/\n";
    assertThrows(IOException.class, () -> CgroupHome.parse(job, HYBRID_OWN, HYBRID_MOUNTS, p -> true));
  }

  @Test
  void thisProcessIsAMemberOfEveryCgroupFoundForIt() throws IOException {
    CgroupHome home = CgroupHome.of(0);
    home.requireMember(ProcessHandle.current().pid());
    assertTrue(home.unified() != null || home.freezerV1() != null, "no freezer hierarchy on this host: " + home);
  }
}
