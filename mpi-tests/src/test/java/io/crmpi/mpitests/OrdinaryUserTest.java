package io.crmpi.mpitests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Jobs of ordinary users (created by the test), through a real crmpid
 * started by the test as root: the job's processes run as the user, a rank
 * killed with SIGKILL is restored with byte-identical output, a second
 * user can neither drive the job through crmpid nor have crmpid restore
 * the owner's images, bad requests are refused while crmpid keeps serving,
 * and an epoch the owner tampered with is refused in favour of an older,
 * good one.
 */
class OrdinaryUserTest {
  private static final String OWNER = "crmpi-test1";
  private static final String OTHER = "crmpi-test2";
  private static final int RANKS = 2;
  private static final String ITERS = "4000";
  private static Path base;
  private static Path socket;
  private static TestCrmpid crmpid;

  @BeforeAll
  static void startCrmpid() throws Exception {
    for (String u : List.of(OWNER, OTHER)) {
      sh("id " + u + " >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin " + u);
    }
    base = Files.createTempDirectory(Path.of("/tmp"), "crmpi-users-");
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    crmpid = TestCrmpid.start(base.resolve("crmpid"), "");
    socket = crmpid.socket;
  }

  @AfterAll
  static void stopCrmpid() throws Exception {
    TestCrmpid.stopAndDelete(crmpid, base);
  }

  @Test
  void aUsersRanksRunAsTheUserInTheirSessionsCgroupsAndARankKilledIsRestoredByteIdentical() throws Exception {
    // The user's session, as cgroups of its own: crmpid puts the job's trees under them, restored trees too.
    List<Path> session = sessionCgroups("crmpi-it-session-" + ProcessHandle.current().pid());
    Crmpi c = Crmpi.asUser(job("killed-rank"), OWNER).inCgroups(session);
    Process p = c.start("run", env(), List.of("run", "--name", "ring", "--interval", "2s", "--keep", "3", "--",
        "mpirun", "-np", Integer.toString(RANKS), Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
    try {
      c.awaitCommitted("ring", 2, p);
      List<ProcessHandle> ranks = ranksOf(OWNER);
      assertEquals(RANKS, ranks.size(), "ranks of " + OWNER + ": " + ranks);
      for (ProcessHandle r : ranks) {
        assertEquals(List.of(uid(OWNER)), uids(r.pid()), "rank " + r.pid() + " does not run as " + OWNER);
        assertEquals("0000000000000000", status(r.pid(), "CapEff"), "rank " + r.pid() + " has capabilities");
        assertEquals("1", status(r.pid(), "NoNewPrivs"), "rank " + r.pid() + " can gain privileges");
        assertInSession(r.pid(), session);
      }
      Path image = c.committedEpochs("ring").get(0).resolve("nodes/local/image");
      try (Stream<Path> files = Files.list(image)) {
        for (Path f : files.toList()) {
          assertEquals(OWNER, Files.getOwner(f).getName(), f + " is not the owner's");
          assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
        }
      }
      Crmpi.kill9(ranks.get(0).pid());
      c.awaitRestored("ring", p);
      for (ProcessHandle restored : ranksOf(OWNER)) {
        assertInSession(restored.pid(), session);
      }
      Crmpi.Result r = c.await("run", p);
      assertEquals(0, r.exitCode(), r.describe());
      assertTrue(r.stderr().contains("restored; the job continues"), r.describe());
      assertArrayEquals(reference(), Files.readAllBytes(c.workdir.resolve("ring.out")),
          "ring.out differs from an uninterrupted run");
    } finally {
      stop(p);
      removeSession(session);
    }
  }

  /**
   * New cgroups NAME in the unified hierarchy (where trees are frozen) and
   * in the v1 memory hierarchy, where the host has them.
   */
  private static List<Path> sessionCgroups(String name) throws Exception {
    List<Path> dirs = new java.util.ArrayList<>();
    for (Path h : List.of(Path.of("/sys/fs/cgroup/unified"), Path.of("/sys/fs/cgroup"))) {
      if (Files.exists(h.resolve("cgroup.controllers"))) {
        dirs.add(Files.createDirectories(h.resolve(name)));
        break;
      }
    }
    Path memory = Path.of("/sys/fs/cgroup/memory");
    if (Files.exists(memory.resolve("cgroup.procs"))) {
      dirs.add(Files.createDirectories(memory.resolve(name)));
    }
    return dirs;
  }

  /** The process is in the session's v1 cgroups and in a crmpi freezer cgroup right below its v2 one. */
  private static void assertInSession(long pid, List<Path> session) throws Exception {
    String cgroups = Files.readString(Path.of("/proc", Long.toString(pid), "cgroup"));
    for (Path dir : session) {
      String name = "/" + dir.getFileName();
      boolean v2 = Files.exists(dir.resolve("cgroup.controllers"));
      String want = v2 ? "(?s).*^0::" + name + "/crmpi\\.[^/\\n]+$.*" : "(?s).*:memory:" + name + "$.*";
      assertTrue(java.util.regex.Pattern.compile(want, java.util.regex.Pattern.MULTILINE).matcher(cgroups).matches(),
          "process " + pid + " is not in the session's " + (v2 ? "v2" : "memory") + " cgroup " + dir + ":\n"
          + cgroups);
    }
  }

  /** Removes the session's cgroups; the trees' freezer cgroups below them must be gone already. */
  private static void removeSession(List<Path> session) throws Exception {
    for (Path dir : session) {
      try (Stream<Path> children = Files.list(dir)) {
        List<Path> left = children.filter(Files::isDirectory).toList();
        assertEquals(List.of(), left, "cgroups left below the session's " + dir);
      } finally {
        for (int i = 0; i < 50 && Files.exists(dir); i++) {
          try {
            Files.delete(dir);
          } catch (java.io.IOException busy) {
            Thread.sleep(100);
          }
        }
      }
    }
  }

  @Test
  void anotherUserCanNeitherDriveTheJobNorHaveItsImagesRestoredAndBadRequestsAreRefused() throws Exception {
    Crmpi c = Crmpi.asUser(job("other-user"), OWNER);
    Process p = c.start("run", env(), List.of("run", "--name", "ring", "--interval", "2s", "--keep", "3", "--",
        "mpirun", "-np", Integer.toString(RANKS), Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
    try {
      c.awaitCommitted("ring", 1, p);
      String tree = "{\"job\":\"ring\",\"node\":\"local\"}";
      for (String type : List.of("Freeze", "Thaw", "Processes", "Kill")) {
        String answer = asOther("{\"type\":\"" + type + "\",\"body\":{\"tree\":" + tree + "}}");
        assertFalse(answer.contains("Done") && type.equals("Freeze"), type + " of another user's tree: " + answer);
        if (!type.equals("Kill") && !type.equals("Processes")) {
          assertTrue(answer.contains("have no node tree for job ring node local"), type + ": " + answer);
        }
      }
      String exec = asOther("{\"type\":\"Exec\",\"body\":{\"tree\":" + tree + ",\"command\":[\"id\"]}}");
      assertTrue(exec.contains("have no node tree for job ring node local"), "Exec: " + exec);
      String dump = asOther("{\"type\":\"Dump\",\"body\":{\"tree\":" + tree + ",\"nodeDir\":\"file://"
          + c.base + "/x\",\"timeoutMillis\":60000}}");
      assertTrue(dump.contains("have no node tree"), "Dump: " + dump);

      // The other user replays the owner's newest epoch to crmpid as theirs.
      Path epoch = c.committedEpochs("ring").get(c.committedEpochs("ring").size() - 1);
      String restore = asOther(restoreRequest(epoch, c));
      assertTrue(restore.contains("refusing to restore") && restore.contains("seal does not match"),
          "a replayed restore: " + restore);

      // Bad requests, as any user could send them: refused, and crmpid serves on.
      assertTrue(rawRequest("not json at all\n").contains("malformed JSON"));
      assertTrue(rawRequest("{\"type\":\"Launch\",\"body\":{\"spec\":null}}\n").contains("bad Launch"));
      assertTrue(rawRequest("{\"type\":\"Freeze\",\"body\":{\"tree\":{\"job\":\"../x\",\"node\":\"n\"}}}\n")
          .contains("bad job name"));
      assertTrue(rawRequest("x".repeat(2 << 20) + "\n").contains("longer than"));

      Crmpi.Result r = c.await("run", p);
      assertEquals(0, r.exitCode(), "the job did not survive the other user:\n" + r.describe());
      assertArrayEquals(reference(), Files.readAllBytes(c.workdir.resolve("ring.out")),
          "ring.out differs from an uninterrupted run");
      assertTrue(crmpid.isAlive(), "crmpid died");
    } finally {
      stop(p);
    }
  }

  /**
   * As an attacker would: a changed byte of the memory image, or every
   * process's credentials rewritten to root's with crit, and the digests
   * fixed in the manifest.
   */
  @ParameterizedTest
  @ValueSource(strings = {"pages", "credentials"})
  void anEpochTheOwnerTamperedWithIsRefusedAndAnOlderOneRestored(String what) throws Exception {
    Crmpi c = Crmpi.asUser(job("tampered-" + what), OWNER);
    Process p = c.start("run", env(), List.of("run", "--name", "ring", "--interval", "2s", "--keep", "3", "--",
        "mpirun", "-np", Integer.toString(RANKS), Crmpi.MPI_BIN.resolve("ring").toString(), ITERS));
    try {
      c.awaitCommitted("ring", 3, p);
      Crmpi.Result vacate = c.run("vacate", env(), List.of("vacate", "ring"));
      assertEquals(0, vacate.exitCode(), vacate.describe());
      c.await("run", p);
      List<Path> epochs = c.committedEpochs("ring");
      Path newest = epochs.get(epochs.size() - 1);
      if (what.equals("pages")) {
        EpochTamper.flipAPagesByte(newest, OWNER);
      } else {
        assertTrue(EpochTamper.credentialsToRoot(newest, OWNER) >= RANKS, "no credentials found in the image");
      }
      Crmpi.Result r = c.run("restart", env(), List.of("restart", "ring"));
      assertEquals(0, r.exitCode(), r.describe());
      assertTrue(r.stderr().contains("refusing to restore epoch " + Long.parseLong(newest.getFileName().toString())),
          r.describe());
      assertTrue(r.stderr().contains("seal does not match"), r.describe());
      assertArrayEquals(reference(), Files.readAllBytes(c.workdir.resolve("ring.out")),
          "ring.out differs from an uninterrupted run");
    } finally {
      stop(p);
    }
  }

  private static Path job(String name) throws Exception {
    Path dir = Files.createDirectory(base.resolve(name));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    return dir;
  }

  private static Map<String, String> env() {
    return Map.of("CRMPI_DAEMON_SOCKET", socket.toString());
  }

  private static byte[] reference() throws Exception {
    return Crmpi.reference(Crmpi.mpirun(RANKS, "ring", ITERS), "ring.out");
  }

  /** A Restore of the owner's epoch, as JSON, with the owner's own manifest entry. */
  private static String restoreRequest(Path epoch, Crmpi c) throws Exception {
    ObjectMapper m = new ObjectMapper();
    JsonNode node = m.readTree(epoch.resolve("manifest.json").toFile()).get("nodes").get(0);
    ObjectNode spec = m.createObjectNode();
    spec.put("job", "ring").put("node", "local").put("workdir", "file://" + c.workdir + "/")
        .put("runtimeDir", "file:///tmp/").put("sessionDir", "file:///tmp/").put("cgroupOf", 0);
    spec.putArray("command").add("true");
    spec.putObject("environment");
    ObjectNode body = m.createObjectNode();
    body.set("spec", spec);
    body.put("imageDir", "file://" + epoch.resolve("nodes/local/image") + "/");
    body.put("epoch", Long.parseLong(epoch.getFileName().toString()));
    body.set("files", node.get("files"));
    body.set("attributes", node.get("attributes"));
    ObjectNode msg = m.createObjectNode();
    msg.put("type", "Restore");
    msg.set("body", body);
    return m.writeValueAsString(msg);
  }

  private static String asOther(String line) throws Exception {
    return SocketProbe.asUser(OTHER, base, socket, line);
  }

  /** Sends bytes to crmpid as root and returns the first line of the answer. */
  private static String rawRequest(String request) throws Exception {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8));
      try {
        while (out.hasRemaining()) {
          ch.write(out);
        }
      } catch (java.io.IOException e) {
        // crmpid may answer and close before it has read everything
      }
      ByteBuffer in = ByteBuffer.allocate(4096);
      StringBuilder answer = new StringBuilder();
      while (ch.read(in) > 0 && answer.indexOf("\n") < 0) {
        answer.append(new String(in.array(), 0, in.position(), StandardCharsets.UTF_8));
        in.clear();
      }
      return answer.toString();
    }
  }

  private static List<ProcessHandle> ranksOf(String user) {
    String exe = Crmpi.MPI_BIN.resolve("ring").toString();
    return ProcessHandle.allProcesses()
        .filter(ph -> ph.info().command().map(exe::equals).orElse(false))
        .filter(ph -> ph.info().user().map(user::equals).orElse(false))
        .toList();
  }

  private static List<Integer> uids(long pid) throws Exception {
    List<Integer> out = new ArrayList<>();
    for (String u : status(pid, "Uid").split("\\s+")) {
      if (!out.contains(Integer.parseInt(u))) {
        out.add(Integer.parseInt(u));
      }
    }
    return out;
  }

  private static String status(long pid, String key) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith(key + ":")) {
        return line.substring(key.length() + 1).strip();
      }
    }
    return "";
  }

  private static int uid(String user) throws Exception {
    Process p = new ProcessBuilder("id", "-u", user).start();
    String out = new String(p.getInputStream().readAllBytes()).strip();
    p.waitFor();
    return Integer.parseInt(out);
  }

  private static void stop(Process p) throws Exception {
    if (p != null && p.isAlive()) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static void sh(String script) throws Exception {
    Process p = new ProcessBuilder("sh", "-c", script).inheritIO().start();
    assertEquals(0, p.waitFor(), script);
  }
}
