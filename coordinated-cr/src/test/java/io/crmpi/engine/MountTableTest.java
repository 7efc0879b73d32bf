package io.crmpi.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.crmpi.engine.MountTable.Mount;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** mountinfo as crmpi-ns leaves it inside a node tree. */
class MountTableTest {
  private static final Path WORKDIR = Path.of("/home/user/my run");

  private static final List<String> TREE = List.of(
      "412 398 8:1 / / rw,relatime master:1 - ext4 /dev/sda1 rw,errors=remount-ro",
      "413 412 0:5 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw",
      "414 412 0:23 / /sys rw,nosuid,nodev,noexec,relatime master:7 - sysfs sysfs rw",
      "415 414 0:27 / /sys/fs/cgroup ro,nosuid,nodev,noexec master:9 - tmpfs tmpfs ro,mode=755",
      "416 412 0:6 / /dev rw,nosuid,relatime master:2 - devtmpfs udev rw,size=8154228k,mode=755",
      "417 416 0:61 / /dev/shm rw,nosuid,nodev,relatime - tmpfs crmpi-shm rw,size=65536k",
      "418 412 0:62 / /tmp/ompi rw,nosuid,nodev,relatime - tmpfs crmpi-session rw",
      "419 412 0:25 / /run/user/1000 rw,nosuid,nodev,relatime master:30 master:31 - tmpfs tmpfs rw,mode=700",
      "420 412 8:1 /home/user/my\\040run /home/user/my\\040run rw,relatime master:1 - ext4 /dev/sda1 rw",
      "421 412 0:63 / /var/lib/proc-copy rw,relatime - proc proc rw",
      "422 416 0:64 / /dev/pts rw,nosuid,noexec,relatime - devpts crmpi-devpts rw,mode=620,ptmxmode=666",
      "423 416 0:64 /ptmx /dev/ptmx rw,nosuid,noexec,relatime - devpts crmpi-devpts rw,mode=620,ptmxmode=666");

  @Test
  void parseReadsMountPointTypeAndSource() {
    List<Mount> mounts = MountTable.parse(TREE);

    assertEquals(TREE.size(), mounts.size());
    assertEquals(new Mount("/", "ext4", "/dev/sda1"), mounts.get(0));
    assertEquals(new Mount("/proc", "proc", "proc"), mounts.get(1));
    assertEquals(new Mount("/dev/shm", "tmpfs", "crmpi-shm"), mounts.get(5));
    assertEquals(new Mount("/run/user/1000", "tmpfs", "tmpfs"), mounts.get(7));
  }

  @Test
  void parseUnescapesTheMountPoint() {
    assertEquals(new Mount("/home/user/my run", "ext4", "/dev/sda1"), MountTable.parse(TREE).get(8));
  }

  @Test
  void externalSkipsRootAndWhatTheTreeOwnsAndKeysTheWorkdir() {
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("/sys", "/sys");
    expected.put("/sys/fs/cgroup", "/sys/fs/cgroup");
    expected.put("/dev", "/dev");
    expected.put("/run/user/1000", "/run/user/1000");
    expected.put(MountTable.WORKDIR_KEY, "/home/user/my run");
    expected.put("/var/lib/proc-copy", "/var/lib/proc-copy");

    Map<String, String> external = MountTable.external(MountTable.parse(TREE), WORKDIR);

    assertEquals(expected, external);
    assertEquals(List.copyOf(expected.keySet()), new ArrayList<>(external.keySet()), "in mountinfo order");
    assertEquals("crmpi-workdir", MountTable.WORKDIR_KEY);
  }

  @Test
  void aWorkdirThatIsNotAMountPointHasNoKey() {
    Map<String, String> external = MountTable.external(MountTable.parse(TREE), Path.of("/scratch/run"));

    assertTrue(!external.containsKey(MountTable.WORKDIR_KEY), external.toString());
    assertEquals("/home/user/my run", external.get("/home/user/my run"));
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "412 398 8:1 / / rw,relatime master:1 ext4 /dev/sda1 rw",
      "412 398 8:1 / / rw - ext4",
      "412 398 8:1 / - rw ext4 /dev/sda1 rw x",
      "garbage",
      ""})
  void aMalformedLineIsRejectedWithTheLine(String line) {
    List<String> lines = List.of(TREE.get(0), line);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MountTable.parse(lines));
    assertEquals("malformed mountinfo line: " + line, e.getMessage());
  }

  @Test
  void unescapeDecodesTheOctalEscapesOfTheKernel() {
    assertEquals("/a b", MountTable.unescape("/a\\040b"));
    assertEquals("/a\tb", MountTable.unescape("/a\\011b"));
    assertEquals("/a\nb", MountTable.unescape("/a\\012b"));
    assertEquals("/a\\b", MountTable.unescape("/a\\134b"));
    assertEquals("/ends with ", MountTable.unescape("/ends\\040with\\040"));
    assertEquals("/plain", MountTable.unescape("/plain"));
  }
}
