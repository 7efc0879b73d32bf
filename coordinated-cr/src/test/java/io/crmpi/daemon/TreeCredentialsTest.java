package io.crmpi.daemon;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.crmpi.engine.TreeOwner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TreeCredentialsTest {
  private static final int NOBODY = 65534;
  private static final TreeOwner NOBODY_OWNER = new TreeOwner(NOBODY, NOBODY, List.of());
  /** Above the kernel's PID_MAX_LIMIT (2^22): never a process. */
  private static final long NO_SUCH_PID = (1L << 22) + 12345;

  private static final long SELF = ProcessHandle.current().pid();

  private static void assertMentions(Throwable e, String... words) {
    for (String w : words) {
      assertTrue(e.getMessage().contains(w), "message should mention '" + w + "': " + e.getMessage());
    }
  }

  private static Map<String, String> status(long pid) throws IOException {
    return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
        .filter(l -> l.indexOf(':') > 0)
        .collect(Collectors.toMap(l -> l.substring(0, l.indexOf(':')), l -> l.substring(l.indexOf(':') + 1).strip(),
            (a, b) -> a));
  }

  @Test
  void anEmptyTreePasses() throws IOException {
    TreeCredentials.requireOwner(List.of(), NOBODY_OWNER);
  }

  @Test
  void aProcessThatDoesNotExistIsSkipped() throws IOException {
    TreeCredentials.requireOwner(List.of(NO_SUCH_PID), NOBODY_OWNER);
    TreeCredentials.requireOwner(List.of(NO_SUCH_PID, NO_SUCH_PID + 1, -1L, 0L), NOBODY_OWNER);
  }

  @Test
  void theTestsOwnProcessIsRefusedNamingItAndItsUid() throws IOException {
    String uid = status(SELF).get("Uid").split("\\s+")[0];
    String name = status(SELF).get("Name");
    IOException e = assertThrows(IOException.class,
        () -> TreeCredentials.requireOwner(List.of(SELF), NOBODY_OWNER));
    assertMentions(e, "process " + SELF + " (" + name + ")", "runs with uid " + uid, "not its owner's " + NOBODY);
  }

  @Test
  void runningAsRootTheRefusalSaysUid0() {
    assumeTrue(NodeKeyTest.root(), "not root");
    IOException e = assertThrows(IOException.class,
        () -> TreeCredentials.requireOwner(List.of(SELF), NOBODY_OWNER));
    assertMentions(e, "process " + SELF, "uid 0");
  }

  @Test
  void aGoneProcessDoesNotHideALaterOne() {
    IOException e = assertThrows(IOException.class,
        () -> TreeCredentials.requireOwner(List.of(NO_SUCH_PID, SELF), NOBODY_OWNER));
    assertMentions(e, "process " + SELF);
  }

  // ---- real processes of nobody's ----

  /** A sleep that setpriv started with these options, once it runs (exec'ed, credentials changed). */
  private static Process start(String... setprivOptions) throws Exception {
    assumeTrue(NodeKeyTest.root(), "starting processes as another user needs root");
    Path setpriv = null;
    for (String d : new String[] {"/usr/bin", "/bin", "/usr/sbin", "/sbin"}) {
      if (Files.isExecutable(Path.of(d, "setpriv"))) {
        setpriv = Path.of(d, "setpriv");
        break;
      }
    }
    assumeTrue(setpriv != null, "no setpriv (util-linux) here");
    List<String> cmd = new ArrayList<>();
    cmd.add(setpriv.toString());
    cmd.addAll(List.of(setprivOptions));
    cmd.addAll(List.of("sleep", "30"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        assumeTrue(false, "setpriv " + String.join(" ", setprivOptions) + " exited " + p.exitValue()
            + " (not allowed here?)");
      }
      try {
        if ("sleep".equals(status(p.pid()).get("Name"))) {
          return p;
        }
      } catch (IOException e) {
        // not there yet or gone: the loop finds out
      }
      Thread.sleep(10);
    }
    p.destroyForcibly();
    throw new AssertionError("setpriv did not exec sleep within 10 s");
  }

  private static void stop(Process p) throws InterruptedException {
    if (p != null) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aProcessOfTheOwnerWithoutCapabilitiesPasses() throws Exception {
    Process p = null;
    try {
      p = start("--reuid", "65534", "--regid", "65534", "--clear-groups");
      Map<String, String> s = status(p.pid());
      assertTrue(s.get("Uid").matches("65534\\s+65534\\s+65534\\s+65534"), s.get("Uid"));
      assertTrue(s.get("Gid").matches("65534\\s+65534\\s+65534\\s+65534"), s.get("Gid"));
      assertTrue(s.get("Groups").isEmpty(), s.get("Groups"));
      for (String cap : List.of("CapPrm", "CapEff", "CapAmb")) {
        assertTrue(s.get(cap).matches("0+"), cap + " " + s.get(cap));
      }
      TreeCredentials.requireOwner(List.of(p.pid()), NOBODY_OWNER);
      TreeCredentials.requireOwner(List.of(NO_SUCH_PID, p.pid(), p.pid()), NOBODY_OWNER);
    } finally {
      stop(p);
    }
  }

  @Test
  void aRootProcessAmongTheOwnersIsRefusedByPid() throws Exception {
    Process p = null;
    try {
      p = start("--reuid", "65534", "--regid", "65534", "--clear-groups");
      long child = p.pid();
      IOException e = assertThrows(IOException.class,
          () -> TreeCredentials.requireOwner(List.of(child, SELF), NOBODY_OWNER));
      assertMentions(e, "process " + SELF, "uid 0");
    } finally {
      stop(p);
    }
  }

  @Test
  void aProcessOfAnotherUserIsRefused() throws Exception {
    Process p = null;
    try {
      p = start("--reuid", "65534", "--regid", "65534", "--clear-groups");
      long child = p.pid();
      IOException e = assertThrows(IOException.class,
          () -> TreeCredentials.requireOwner(List.of(child), new TreeOwner(1000, NOBODY, List.of())));
      assertMentions(e, "process " + child + " (sleep)", "runs with uid 65534, not its owner's 1000");
    } finally {
      stop(p);
    }
  }

  @Test
  void aProcessWithAnotherGidIsRefused() throws Exception {
    Process p = null;
    try {
      p = start("--reuid", "65534", "--regid", "100", "--clear-groups");
      long child = p.pid();
      IOException e = assertThrows(IOException.class,
          () -> TreeCredentials.requireOwner(List.of(child), NOBODY_OWNER));
      assertMentions(e, "process " + child + " (sleep)", "runs with gid 100, not its owner's 65534");
      TreeCredentials.requireOwner(List.of(child), new TreeOwner(NOBODY, 100, List.of()));
    } finally {
      stop(p);
    }
  }

  @Test
  void aProcessWithAGroupTheOwnerLacksIsRefused() throws Exception {
    Process p = null;
    try {
      p = start("--reuid", "65534", "--regid", "65534", "--groups", "100");
      long child = p.pid();
      IOException e = assertThrows(IOException.class,
          () -> TreeCredentials.requireOwner(List.of(child), NOBODY_OWNER));
      assertMentions(e, "process " + child + " (sleep)", "has group 100", "its owner (uid 65534) does not have");
      TreeCredentials.requireOwner(List.of(child), new TreeOwner(NOBODY, NOBODY, List.of(100)));
      // the group as the owner's primary group does not do: every gid must be the owner's primary one
      assertThrows(IOException.class,
          () -> TreeCredentials.requireOwner(List.of(child), new TreeOwner(NOBODY, 100, List.of())));
    } finally {
      stop(p);
    }
  }

  @Test
  void aProcessOfTheOwnerWithACapabilityIsRefused() throws Exception {
    Process p = null;
    try {
      p = start("--reuid", "65534", "--regid", "65534", "--clear-groups", "--inh-caps", "+net_raw",
          "--ambient-caps", "+net_raw");
      long child = p.pid();
      assumeTrue(!status(child).get("CapAmb").matches("0+"), "setpriv could not keep an ambient capability");
      IOException e = assertThrows(IOException.class,
          () -> TreeCredentials.requireOwner(List.of(child), NOBODY_OWNER));
      assertMentions(e, "process " + child + " (sleep)", "has capabilities (Cap");
    } finally {
      stop(p);
    }
  }
}
